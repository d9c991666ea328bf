import CCurl
import DriverABI
import Foundation

/// Blocking HTTP over the system libcurl, in the JSON shape of `hc_host_api.http_request`:
///
///     request:  {"method","url","unix_socket"?,"headers"?:{…},"body"? | "body_base64"?,"timeout_ms"?}
///     response: {"status","headers":{…},"body" | "body_base64"}
///
/// Why libcurl: unix sockets (the Docker API), TLS and proxies come with it, and drivers then need
/// no network stack of their own. One easy handle per request; libcurl is initialised once.
public struct HTTPClient: Sendable {
  private static let globalInit: Bool = {
    hc_curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    return true
  }()

  public init() { _ = Self.globalInit }

  /// Performs the request. Returns `(HC_OK, response JSON)` for any HTTP status, or an error
  /// status with error JSON for a bad request (INVALID_ARGUMENT) or a transport failure
  /// (UNAVAILABLE, DEADLINE_EXCEEDED).
  public func perform(requestJSON: String) -> (Int32, String) {
    let request: HTTPRequestSpec
    do {
      request = try HTTPRequestSpec(json: requestJSON)
    } catch {
      return (HC_ERR_INVALID_ARGUMENT, errorJSON("INVALID_ARGUMENT", "http_request: \(error.message)", retryable: false))
    }
    return perform(request)
  }

  func perform(_ request: HTTPRequestSpec) -> (Int32, String) {
    guard let handle = hc_curl_easy_init() else {
      if let reason = hc_curl_load_error() {
        return (HC_ERR_UNAVAILABLE, errorJSON("UNAVAILABLE", "http_request: \(String(cString: reason))", retryable: false))
      }
      return (HC_ERR_INTERNAL, errorJSON("INTERNAL", "http_request: curl_easy_init failed", retryable: true))
    }
    defer { hc_curl_easy_cleanup(handle) }
    let collector = ResponseCollector()
    let collectorPointer = Unmanaged.passUnretained(collector).toOpaque()
    var headerList: UnsafeMutablePointer<curl_slist>?
    defer { hc_curl_slist_free_all(headerList) }
    for (name, value) in request.headers {
      headerList = hc_curl_slist_append(headerList, "\(name): \(value)")
    }
    // Without this, libcurl adds "Expect: 100-continue" for larger bodies and waits for it.
    headerList = hc_curl_slist_append(headerList, "Expect:")

    let code: CURLcode = request.url.withCString { url in
      request.unixSocket.withOptionalCString { socket in
        request.method.withCString { method in
          request.body.withUnsafeBytes { body in
            _ = hc_curl_setopt_ptr(handle, CURLOPT_URL, url)
            if let socket { _ = hc_curl_setopt_ptr(handle, CURLOPT_UNIX_SOCKET_PATH, socket) }
            _ = hc_curl_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, method)
            if request.method == "HEAD" { _ = hc_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
            _ = hc_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList)
            if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
              _ = hc_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
              _ = hc_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            }
            _ = hc_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
            _ = hc_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            _ = hc_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, collectorPointer)
            _ = hc_curl_setopt_write(handle) { data, size, count, context in
              let collector = Unmanaged<ResponseCollector>.fromOpaque(context!).takeUnretainedValue()
              collector.body.append(UnsafeRawPointer(data!).assumingMemoryBound(to: UInt8.self), count: size * count)
              return size * count
            }
            _ = hc_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, collectorPointer)
            _ = hc_curl_setopt_header(handle) { data, size, count, context in
              let collector = Unmanaged<ResponseCollector>.fromOpaque(context!).takeUnretainedValue()
              collector.header(line: String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self))
              return size * count
            }
            return hc_curl_easy_perform(handle)
          }
        }
      }
    }
    guard code == CURLE_OK else {
      let message = String(cString: hc_curl_easy_strerror(code))
      let timedOut = code == CURLE_OPERATION_TIMEDOUT
      return (
        timedOut ? HC_ERR_DEADLINE_EXCEEDED : HC_ERR_UNAVAILABLE,
        errorJSON(
          timedOut ? "DEADLINE_EXCEEDED" : "UNAVAILABLE", "http_request \(request.method) \(request.url): \(message)",
          retryable: true)
      )
    }
    var status = 0
    _ = hc_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
    var response: [String: Any] = ["status": status, "headers": collector.headers]
    if let text = String(validating: collector.body, as: UTF8.self) {
      response["body"] = text
    } else {
      response["body_base64"] = collector.body.base64EncodedString()
    }
    return (HC_OK, jsonString(response))
  }
}

/// A parsed `http_request` JSON.
struct HTTPRequestSpec {
  var method = "GET"
  var url: String
  var unixSocket: String?
  var headers: [(String, String)] = []
  var body = Data()
  var timeoutMilliseconds = 30_000

  struct Invalid: Error { var message: String }

  init(json: String) throws(Invalid) {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
      throw Invalid(message: "request is not a JSON object")
    }
    guard let url = object["url"] as? String, !url.isEmpty else {
      throw Invalid(message: "url: required (a string such as \"http://127.0.0.1:8080/path\")")
    }
    self.url = url
    if let method = object["method"] {
      guard let method = method as? String, !method.isEmpty else { throw Invalid(message: "method: must be a string") }
      self.method = method.uppercased()
    }
    if let socket = object["unix_socket"] {
      guard let socket = socket as? String else { throw Invalid(message: "unix_socket: must be a string path") }
      unixSocket = socket
    }
    if let headers = object["headers"] {
      guard let headers = headers as? [String: Any] else { throw Invalid(message: "headers: must be an object of strings") }
      for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
        guard let value = value as? String else { throw Invalid(message: "headers.\(name): must be a string") }
        self.headers.append((name, value))
      }
    }
    if let body = object["body"] {
      guard let body = body as? String else { throw Invalid(message: "body: must be a string (use body_base64 for bytes)") }
      self.body = Data(body.utf8)
    } else if let body = object["body_base64"] {
      guard let body = body as? String, let data = Data(base64Encoded: body) else {
        throw Invalid(message: "body_base64: must be base64")
      }
      self.body = data
    }
    if let timeout = object["timeout_ms"] {
      guard let timeout = timeout as? Int, timeout > 0 else { throw Invalid(message: "timeout_ms: must be a positive integer") }
      timeoutMilliseconds = timeout
    }
  }
}

private final class ResponseCollector {
  var body = Data()
  var headers: [String: String] = [:]

  func header(line: String) {
    // A new status line (after a redirect or 100-continue) starts a new header set.
    if line.hasPrefix("HTTP/") {
      headers = [:]
      return
    }
    guard let colon = line.firstIndex(of: ":") else { return }
    let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    headers[name] = value
  }
}

extension Optional where Wrapped == String {
  fileprivate func withOptionalCString<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
    switch self {
    case .some(let string): string.withCString { body($0) }
    case .none: body(nil)
    }
  }
}

/// The ABI's error body: `{"code","message","retryable"}`.
/// Written by hand: JSONSerialization costs tens of microseconds per use on Linux, and error
/// bodies are built on hot paths (deadlines, runner deaths).
func errorJSON(_ code: String, _ message: String, retryable: Bool) -> String {
  "{\"code\":\(jsonQuoted(code)),\"message\":\(jsonQuoted(message)),\"retryable\":\(retryable)}"
}

/// `string` as a JSON string literal.
func jsonQuoted(_ string: String) -> String {
  var out = "\""
  out.reserveCapacity(string.utf8.count + 2)
  for scalar in string.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20:
      let hex = String(scalar.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}

/// Serialises a JSON-compatible value with sorted keys (stable output).
func jsonString(_ object: Any) -> String {
  guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
  else { return "{}" }
  return String(decoding: data, as: UTF8.self)
}
