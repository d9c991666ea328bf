#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The host services (`hc_host_api`) as a Swift API: logging, events, persistent state, secrets,
/// HTTP and a monotonic clock.
///
/// `Host` is a typealias of this type. (Foundation also declares a `Host` class; a file that
/// imports both Foundation and DriverKit should spell this type `HostServices`.)
///
/// - Ownership: a value wraps DriverKit's private copy of the host table, taken at init (only the
///   fields inside the host's `struct_size`); it stays valid until process exit, so store and copy
///   it freely. Every buffer the host returns is released with the host's `free` before a method
///   returns; secrets are zeroed first.
/// - Threading: every method may be called from any thread or task, concurrently. Only the
///   synchronous `http(_:)` blocks (on network I/O).
/// - Missing services: a function pointer outside the host's `struct_size` or NULL is treated as
///   absent. Logging and events then do nothing; state, secrets and HTTP throw `UNIMPLEMENTED`.
public struct HostServices: @unchecked Sendable {
  /// The request of `http(_:)`: `{"method","url","unix_socket"?,"headers"?,"body"?,"timeout_ms"?}`.
  public typealias HTTPRequest = HostHTTPRequest
  /// The response of `http(_:)`: `{"status","headers","body"}`.
  public typealias HTTPResponse = HostHTTPResponse
  /// The type of an event: `Normal` or `Warning`.
  public typealias EventType = HostEvent.EventType

  /// Log levels (the swift-log levels, `HC_LOG_*`).
  public enum LogLevel: Int32, Sendable, Hashable, CaseIterable {
    case trace = 0
    case debug, info, notice, warning, error, critical
  }

  /// DriverKit's zero-extended copy of the host table (never freed: drivers live until exit).
  let table: UnsafePointer<hc_host_api>
  /// The host's `struct_size`.
  let peerSize: Int
  /// The driver name, used as the default log target.
  let driverName: String

  /// The host's version (`hc_init_args.host_version`), or `""` if the host passed none.
  public let hostVersion: String
  /// A directory private to this driver (`hc_init_args.state_dir`), or `""` if none.
  public let stateDirectory: String
  /// The negotiated ABI minor.
  public let abiMinor: UInt32

  init(
    table: UnsafePointer<hc_host_api>, peerSize: Int, driverName: String, hostVersion: String,
    stateDirectory: String, abiMinor: UInt32
  ) {
    self.table = table
    self.peerSize = peerSize
    self.driverName = driverName
    self.hostVersion = hostVersion
    self.stateDirectory = stateDirectory
    self.abiMinor = abiMinor
  }

  // MARK: Function lookup

  /// The host function at `field`, if it lies inside the host's `struct_size` and is non-NULL.
  func function<F>(_ field: KeyPath<hc_host_api, F?>) -> F? {
    guard let offset = MemoryLayout<hc_host_api>.offset(of: field),
      offset + MemoryLayout<F?>.size <= peerSize
    else { return nil }
    return table.pointee[keyPath: field]
  }

  var context: UnsafeMutableRawPointer? { table.pointee.host_ctx }

  // MARK: Memory (internal)

  /// Copies `bytes` into a new host-allocated, NUL-terminated buffer; `{NULL,0}` when empty.
  func makeBuffer(_ bytes: Data) -> hc_buf {
    guard !bytes.isEmpty, let alloc = function(\.alloc),
      let raw = alloc(context, bytes.count + 1)
    else { return hc_buf(ptr: nil, len: 0) }
    let out = raw.bindMemory(to: CChar.self, capacity: bytes.count + 1)
    bytes.withUnsafeBytes { source in
      UnsafeMutableRawPointer(out).copyMemory(from: source.baseAddress!, byteCount: bytes.count)
    }
    out[bytes.count] = 0
    return hc_buf(ptr: out, len: bytes.count)
  }

  /// Releases a host-allocated buffer (no-op for NULL).
  func release(_ buffer: hc_buf) {
    guard let pointer = buffer.ptr else { return }
    function(\.free)?(context, pointer)
  }

  /// Copies a host-allocated buffer into `Data` and releases it.
  func take(_ buffer: hc_buf) -> Data {
    defer { release(buffer) }
    guard let pointer = buffer.ptr, buffer.len > 0 else { return Data() }
    return Data(bytes: pointer, count: buffer.len)
  }

  /// The error a failed host call reports: its error JSON if it gave one, else `fallback`.
  func hostError(_ status: hc_status, _ payload: Data, _ fallback: String) -> DriverError {
    let code = DriverStatus(rawValue: status) ?? .internal
    if !payload.isEmpty, let body = try? WireJSON.decode(DriverErrorBody.self, from: payload) {
      return DriverError(
        code, body.message.isEmpty ? fallback : body.message,
        retryable: body.retryable, details: body.details)
    }
    return DriverError(code, fallback)
  }

  // MARK: Logging

  /// True if the host would record a message at `level`. Check it before building an expensive
  /// message (``log(_:target:_:fields:)`` already does for its autoclosure).
  public func isLogEnabled(_ level: LogLevel) -> Bool {
    guard function(\.log) != nil else { return false }
    guard let enabled = function(\.log_enabled) else { return true }
    return enabled(context, level.rawValue) != 0
  }

  /// Logs through the host (drivers never write to stdout/stderr).
  ///
  /// - Parameters:
  ///   - level: the level; nothing is built or sent if the host has it disabled.
  ///   - target: the subsystem (`"docker.http"`); default: the driver name.
  ///   - message: evaluated only if the level is enabled.
  ///   - fields: structured fields, sent as a JSON object.
  /// The host copies everything before returning.
  public func log(
    _ level: LogLevel, target: String? = nil, _ message: @autoclosure () -> String,
    fields: [String: JSONValue] = [:]
  ) {
    guard isLogEnabled(level), let log = function(\.log) else { return }
    let fieldsJSON = fields.isEmpty ? Data() : ((try? WireJSON.encode(fields)) ?? Data())
    withBorrowed(target ?? driverName) { target in
      withBorrowed(message()) { message in
        withBorrowed(fieldsJSON) { fields in
          log(context, level.rawValue, target, message, fields)
        }
      }
    }
  }

  // MARK: Events

  /// Records an event about `subject` (usually a worker or instance name), shown by the host as
  /// an Event: `{"type","reason","message"}`. Does nothing if the host has no `emit_event`.
  public func emitEvent(
    subject: String, type: EventType = .normal, reason: String, message: String
  ) {
    guard let emit = function(\.emit_event),
      let json = try? WireJSON.encode(HostEvent(type: type, reason: reason, message: message))
    else { return }
    withBorrowed(subject) { subject in
      withBorrowed(json) { event in emit(context, subject, event) }
    }
  }

  // MARK: State

  /// Reads a value of the driver's persistent key/value state (survives host and runner
  /// restarts; used to `recover`).
  /// - Returns: the value, or nil if the key does not exist.
  /// - Throws: `UNIMPLEMENTED` if the host has no state service; the host's status otherwise.
  public func stateGet(_ key: String) throws(DriverError) -> Data? {
    guard let get = function(\.state_get) else {
      throw DriverError.unimplemented(feature: "the host provides no state_get service")
    }
    var out = hc_buf(ptr: nil, len: 0)
    let status = withBorrowed(key) { key in get(context, key, &out) }
    let payload = take(out)
    if status == HC_OK { return payload }
    if status == HC_ERR_NOT_FOUND { return nil }
    throw hostError(status, payload, "state_get('\(key)') failed")
  }

  /// Writes a value of the driver's persistent state; the host copies it before returning.
  /// - Throws: `UNIMPLEMENTED` if the host has no state service; the host's status otherwise.
  public func statePut(_ key: String, _ value: Data) throws(DriverError) {
    guard let put = function(\.state_put) else {
      throw DriverError.unimplemented(feature: "the host provides no state_put service")
    }
    let status = withBorrowed(key) { key in
      withBorrowed(value) { value in put(context, key, value) }
    }
    if status != HC_OK {
      throw hostError(status, Data(), "state_put('\(key)') failed")
    }
  }

  // MARK: Secrets

  /// Reads a secret by reference (`"gateway/provider-key"`) and lends its bytes to `body`. The
  /// host's buffer is zeroed and freed when `body` returns; do not keep the pointer.
  /// - Throws: `NOT_FOUND` for an unknown ref, `PERMISSION_DENIED` if this driver may not read
  ///   it, `UNIMPLEMENTED` if the host has no secret service, or what `body` throws.
  public func withSecret<R>(
    _ ref: String, _ body: (UnsafeRawBufferPointer) throws(DriverError) -> R
  ) throws(DriverError) -> R {
    guard let get = function(\.secret_get) else {
      throw DriverError.unimplemented(feature: "the host provides no secret_get service")
    }
    var out = hc_buf(ptr: nil, len: 0)
    let status = withBorrowed(ref) { ref in get(context, ref, &out) }
    defer {
      if let pointer = out.ptr, out.len > 0 { secureZero(pointer, out.len) }
      release(out)
    }
    guard status == HC_OK else {
      throw DriverError(
        DriverStatus(rawValue: status) ?? .internal, "secret_get('\(ref)') failed")
    }
    return try body(UnsafeRawBufferPointer(start: out.ptr, count: out.ptr == nil ? 0 : out.len))
  }

  /// Reads a secret as a UTF-8 string. The host's buffer is zeroed before it is freed; the
  /// returned `String` is ordinary Swift memory, so prefer ``withSecret(_:_:)`` where you can.
  /// - Throws: as ``withSecret(_:_:)``.
  public func secret(_ ref: String) throws(DriverError) -> String {
    try withSecret(ref) { bytes in String(decoding: bytes, as: UTF8.self) }
  }

  // MARK: HTTP

  /// Sends an HTTP request through the host (libcurl: TLS, proxies, unix sockets). [blocking]:
  /// holds the calling thread until the response arrives; in async code prefer
  /// `http(_:)` with `await`, which does not.
  /// - Returns: the response, whatever its HTTP status (a 404 is a response, not an error).
  /// - Throws: `UNAVAILABLE` or `DEADLINE_EXCEEDED` for transport failures (with the host's
  ///   message), `UNIMPLEMENTED` if the host has no HTTP service, `INTERNAL` for a malformed
  ///   host reply.
  public func http(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse {
    try httpBlocking(request)
  }

  func httpBlocking(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse {
    guard let send = function(\.http_request) else {
      throw DriverError.unimplemented(feature: "the host provides no http_request service")
    }
    let json = try DriverCodec.encodeResponse(request, method: "http_request")
    var out = hc_buf(ptr: nil, len: 0)
    let status = withBorrowed(json) { json in send(context, json, &out) }
    return try Self.httpResult(status, take(out), request, self)
  }

  /// Sends an HTTP request through the host without holding a thread (`http_request_async`).
  /// Falls back to the blocking call if the host has no async variant. Not cancellable: a
  /// cancelled task still waits for the response.
  /// - Throws: as the blocking variant.
  public func http(_ request: HTTPRequest) async throws(DriverError) -> HTTPResponse {
    guard let send = function(\.http_request_async) else {
      return try httpBlocking(request)
    }
    let json = try DriverCodec.encodeResponse(request, method: "http_request")
    let host = self
    let result: Result<HTTPResponse, DriverError> = await withCheckedContinuation { continuation in
      let waiter = HTTPWaiter(host: host, request: request, continuation: continuation)
      let context = Unmanaged.passRetained(waiter).toOpaque()
      let status = withBorrowed(json) { json in
        send(
          host.context, json,
          { context, status, response in
            guard let context else { return }
            let waiter = Unmanaged<HTTPWaiter>.fromOpaque(context).takeRetainedValue()
            waiter.complete(status, response)
          }, context)
      }
      if status != HC_OK {
        // Not queued: `done` will never run, so the context is still ours.
        let waiter = Unmanaged<HTTPWaiter>.fromOpaque(context).takeRetainedValue()
        waiter.continuation.resume(
          returning: .failure(
            DriverError(
              DriverStatus(rawValue: status) ?? .internal,
              "http_request_async could not queue \(request.method) \(request.url)")))
      }
    }
    return try result.get()
  }

  static func httpResult(
    _ status: hc_status, _ payload: Data, _ request: HTTPRequest, _ host: HostServices
  ) throws(DriverError) -> HTTPResponse {
    guard status == HC_OK else {
      throw host.hostError(status, payload, "\(request.method) \(request.url) failed")
    }
    do {
      return try WireJSON.decode(HTTPResponse.self, from: payload)
    } catch {
      throw DriverError.internalError(
        "the host returned a malformed http_request response: \(WireJSON.describe(error))")
    }
  }

  // MARK: Time

  /// The host's monotonic clock in nanoseconds (the system's `CLOCK_MONOTONIC` if the host has
  /// none).
  public var monotonicNanoseconds: UInt64 {
    if let now = function(\.monotonic_ns) { return now(context) }
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
  }
}

/// The host services. See ``HostServices``.
public typealias Host = HostServices

/// The completion context of `http_request_async`, retained across the C boundary.
private final class HTTPWaiter: @unchecked Sendable {
  let host: HostServices
  let request: HostHTTPRequest
  let continuation: CheckedContinuation<Result<HostHTTPResponse, DriverError>, Never>

  init(
    host: HostServices, request: HostHTTPRequest,
    continuation: CheckedContinuation<Result<HostHTTPResponse, DriverError>, Never>
  ) {
    self.host = host
    self.request = request
    self.continuation = continuation
  }

  func complete(_ status: hc_status, _ response: hc_buf) {
    let payload = host.take(response)
    do throws(DriverError) {
      continuation.resume(
        returning: .success(try HostServices.httpResult(status, payload, request, host)))
    } catch {
      continuation.resume(returning: .failure(error))
    }
  }
}

// MARK: - Borrowed strings

/// Lends `string`'s UTF-8 bytes as an `hc_str` for the duration of `body`.
func withBorrowed<R>(_ string: String, _ body: (hc_str) -> R) -> R {
  var string = string
  return string.withUTF8 { utf8 in
    utf8.withMemoryRebound(to: CChar.self) { chars in
      body(hc_str(ptr: chars.baseAddress, len: chars.count))
    }
  }
}

/// Lends `data`'s bytes as an `hc_str` for the duration of `body`.
func withBorrowed<R>(_ data: Data, _ body: (hc_str) -> R) -> R {
  data.withUnsafeBytes { raw in
    body(hc_str(ptr: raw.baseAddress?.assumingMemoryBound(to: CChar.self), len: raw.count))
  }
}

/// Copies a borrowed `hc_str` into a `String` (invalid UTF-8 is repaired).
func copyString(_ string: hc_str) -> String {
  guard let pointer = string.ptr, string.len > 0 else { return "" }
  return pointer.withMemoryRebound(to: UInt8.self, capacity: string.len) {
    String(decoding: UnsafeBufferPointer(start: $0, count: string.len), as: UTF8.self)
  }
}

/// Copies a borrowed `hc_str` into `Data`.
func copyData(_ string: hc_str) -> Data {
  guard let pointer = string.ptr, string.len > 0 else { return Data() }
  return Data(bytes: pointer, count: string.len)
}

/// Zeroes memory in a way the optimiser may not remove.
private func secureZero(_ pointer: UnsafeMutablePointer<CChar>, _ count: Int) {
  #if canImport(Glibc)
    explicit_bzero(pointer, count)
  #else
    _ = memset_s(pointer, count, 0, count)
  #endif
}
