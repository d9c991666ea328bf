import CCurl
import Foundation
import YAML

/// One answer of the host.
struct APIResponse {
  var status: Int
  var body: Data
  /// The `Hiclaw-Outcome` header (PUT: `created`, `configured` or `unchanged`).
  var outcome: String?

  var isSuccess: Bool { (200..<300).contains(status) }

  /// The error the host described, for any status outside 2xx.
  var serverError: ServerError? { isSuccess ? nil : ServerError(status: status, body: body) }

  /// The body as JSON; a body that is not JSON means something other than hiclaw-host answered.
  func json() throws(CLIFailure) -> JSONValue {
    do {
      return try JSONText.parse(body)
    } catch {
      throw .failed("error: the host's answer is not JSON (\(error)); is --server pointing at hiclaw-host?")
    }
  }
}

/// How a watch stream ended.
enum StreamEnd {
  /// The host closed the stream normally (a restart, a proxy timeout): reconnect.
  case closed
  /// The host refused the watch (410 Expired, 401 …) before streaming.
  case rejected(ServerError)
  /// The connection failed or broke; the text says how.
  case broken(String)
}

/// The REST client of docs/api.md over the system libcurl (the project's one HTTP stack; see
/// DriverHost's HTTPClient). Requests are blocking.
///
/// One libcurl handle per client, reused by every request, so requests share one keep-alive
/// connection (an apply of 1,000 objects used to open 2,000); many requests at once go through
/// ``sendAll(_:parallel:report:beforeWaiting:)``. Threading: one thread at a time per client.
struct APIClient {
  let connection: Connection
  private let session = CurlSession()
  /// Seconds before a non-streaming request gives up.
  var timeout = 30

  private static let globalInit: Bool = {
    hc_curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    return true
  }()

  init(connection: Connection) {
    _ = Self.globalInit
    self.connection = connection
  }

  /// `/api/v1/workers` + query, percent-encoded.
  func url(_ path: String, query: [(String, String)] = []) -> String {
    var url = connection.server + path
    if !query.isEmpty {
      url += "?" + query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }
    return url
  }

  /// `text` percent-encoded for a path segment or a query value: RFC 3986's unreserved
  /// characters (ASCII letters, digits, `-._~`) stay, every other UTF-8 byte becomes `%XX`.
  /// (Foundation's `addingPercentEncoding(.alphanumerics)` kept non-ASCII letters raw, and cost
  /// a CharacterSet walk per request of an apply.)
  static func encode(_ text: String) -> String {
    func unreserved(_ byte: UInt8) -> Bool {
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        true
      default: false
      }
    }
    if text.utf8.allSatisfy(unreserved) { return text }
    let hex = Array("0123456789ABCDEF".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count * 3)
    for byte in text.utf8 {
      if unreserved(byte) {
        bytes.append(byte)
      } else {
        bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Sends one request; any HTTP status is a response. Only a transport failure throws (with a
  /// message that names the URL and says how to start the host).
  func send(_ method: String, _ path: String, query: [(String, String)] = [], json body: Data? = nil) throws(CLIFailure)
    -> APIResponse
  {
    let sink = ResponseSink(onLine: nil)
    let result = perform(method: method, url: url(path, query: query), body: body, timeout: timeout, sink: sink)
    if let failure = result { throw .failed(failure) }
    return APIResponse(status: sink.status, body: sink.body, outcome: sink.outcome)
  }

  /// Sends a request and returns its JSON body, or throws the host's error as a report
  /// (`subject` names the object in it: `worker/alice`).
  func call(_ method: String, _ path: String, query: [(String, String)] = [], json body: Data? = nil, subject: String? = nil)
    throws(CLIFailure) -> JSONValue
  {
    let response = try send(method, path, query: query, json: body)
    if let error = response.serverError { throw .failed(error.report(subject: subject)) }
    if response.body.isEmpty { return .null }
    return try response.json()
  }

  /// Opens a JSON-lines stream (a watch) and hands each line to `onLine` as it arrives, until the
  /// host closes it, it breaks, or `onLine` throws (which ends the stream and is rethrown).
  func stream(_ path: String, query: [(String, String)], onLine: @escaping (Data) throws -> Void) throws -> StreamEnd {
    let sink = ResponseSink(onLine: onLine)
    // No overall timeout: a watch runs until interrupted. The host sends a BOOKMARK every 30 s,
    // so 90 s of silence means a dead connection; libcurl then fails and the caller reconnects.
    let failure = perform(method: "GET", url: url(path, query: query), body: nil, timeout: 0, sink: sink, lowSpeedSeconds: 90)
    if let handlerError = sink.handlerError { throw handlerError }
    if sink.status != 0, !(200..<300).contains(sink.status) {
      return .rejected(ServerError(status: sink.status, body: sink.body))
    }
    if let failure { return .broken(failure) }
    sink.flushRemainder()
    if let handlerError = sink.handlerError { throw handlerError }
    return .closed
  }

  /// Runs one request through libcurl; returns nil on a completed exchange (any status) or the
  /// message for a transport failure.
  private func perform(
    method: String, url: String, body: Data?, timeout: Int, sink: ResponseSink, lowSpeedSeconds: Int = 0
  ) -> String? {
    guard let handle = session.handle else {
      return "error: " + (hc_curl_load_error().map { String(cString: $0) } ?? "libcurl could not create a handle")
    }
    // Options are per request; the connection cache survives the reset.
    hc_curl_easy_reset(handle)
    sink.handle = handle
    let headers = headerList(withBody: body != nil)
    defer { hc_curl_slist_free_all(headers) }
    let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
    let payload = body ?? Data()
    let code: CURLcode = url.withCString { url in
      method.withCString { method in
        payload.withUnsafeBytes { bytes in
          _ = hc_curl_setopt_ptr(handle, CURLOPT_URL, url)
          _ = hc_curl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, method)
          _ = hc_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headers)
          if body != nil {
            _ = hc_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
            _ = hc_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
          }
          _ = hc_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
          _ = hc_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout * 1000)
          if lowSpeedSeconds > 0 {
            _ = hc_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = hc_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, lowSpeedSeconds)
          }
          _ = hc_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
          _ = hc_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, sinkPointer)
          _ = hc_curl_setopt_write(handle, ResponseSink.write)
          return hc_curl_easy_perform(handle)
        }
      }
    }
    sink.finish()
    guard code == CURLE_OK else {
      if code == CURLE_WRITE_ERROR, sink.handlerError != nil { return nil }
      return transportMessage(code, url: url, timeout: timeout)
    }
    return nil
  }

  /// The request headers: JSON both ways, the token, and no `Expect: 100-continue` (libcurl
  /// sends it for larger bodies and waits for the answer). The caller frees the list.
  func headerList(withBody: Bool) -> UnsafeMutablePointer<curl_slist>? {
    var headers = hc_curl_slist_append(nil, "Accept: application/json")
    if withBody { headers = hc_curl_slist_append(headers, "Content-Type: application/json") }
    if let token = connection.token { headers = hc_curl_slist_append(headers, "Authorization: Bearer \(token)") }
    return hc_curl_slist_append(headers, "Expect:")
  }

  func transportMessage(_ code: CURLcode, url: String, timeout: Int) -> String {
    let detail = String(cString: hc_curl_easy_strerror(code))
    switch code {
    case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
      return """
        error: cannot reach hiclaw-host at \(connection.server) (\(detail)).
          Is it running? Start it with `hiclaw-host` (it listens on 127.0.0.1:8090 by default),
          or point the CLI at it with --server URL or HICLAW_CONTROLLER_URL.
        """
    case CURLE_OPERATION_TIMEDOUT:
      return "error: hiclaw-host at \(connection.server) did not answer in time (\(timeout > 0 ? "\(timeout) s" : detail)): \(url)"
    default:
      return "error: request to \(url) failed: \(detail)"
    }
  }
}

/// Collects a response, or splits a stream into lines as bytes arrive.
final class ResponseSink {
  var handle: UnsafeMutableRawPointer?
  var status = 0
  var outcome: String?
  var body = Data()
  let onLine: ((Data) throws -> Void)?
  var handlerError: (any Error)?

  init(onLine: ((Data) throws -> Void)?) { self.onLine = onLine }

  func readStatus() {
    guard let handle else { return }
    var code = 0
    _ = hc_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
    status = code
  }

  /// After the transfer: the status (if no body came) and the `Hiclaw-Outcome` header.
  func finish() {
    if status == 0 { readStatus() }
    var header: UnsafeMutablePointer<curl_header>?
    if let handle, hc_curl_easy_header(handle, "Hiclaw-Outcome", 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK,
      let value = header?.pointee.value
    {
      outcome = String(cString: value)
    }
  }

  /// libcurl's write callback; its context is the sink. Returning less than given makes libcurl
  /// abort the transfer (a line handler failed).
  static let write: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    return sink.receive(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
  }

  /// Takes one chunk; false aborts the transfer.
  func receive(_ buffer: UnsafeRawBufferPointer) -> Bool {
    if status == 0 { readStatus() }
    body.append(contentsOf: buffer)
    // Only a successful stream is split into lines; an error answer is read whole.
    guard let onLine, (200..<300).contains(status) else { return true }
    while let newline = body.firstIndex(of: UInt8(ascii: "\n")) {
      let line = body[body.startIndex..<newline]
      body.removeSubrange(body.startIndex...newline)
      guard !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) else { continue }
      do {
        try onLine(Data(line))
      } catch {
        handlerError = error
        return false
      }
    }
    return true
  }

  /// A last line without a trailing newline.
  func flushRemainder() {
    guard let onLine, (200..<300).contains(status), !body.isEmpty else { return }
    let line = body
    body = Data()
    if line.allSatisfy({ [0x20, 0x0A, 0x0D].contains($0) }) { return }
    do { try onLine(line) } catch { handlerError = error }
  }
}

/// A libcurl easy handle, cleaned up with its last client.
private final class CurlSession {
  let handle: UnsafeMutableRawPointer? = hc_curl_easy_init()
  deinit { if let handle { hc_curl_easy_cleanup(handle) } }
}
