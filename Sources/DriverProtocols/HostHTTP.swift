#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The request JSON of the host service `http_request` / `http_request_async`:
///
/// ```json
/// {"method":"GET","url":"http://…","unix_socket":"/run/docker.sock",
///  "headers":{"k":"v"},"body":"…" | "body_base64":"…","timeout_ms":30000}
/// ```
///
/// ``body`` is sent as `body` when it is valid UTF-8 and as `body_base64` otherwise; decoding
/// accepts either.
public struct HostHTTPRequest: Codable, Sendable, Hashable {
  /// The HTTP method (`GET`, `POST`, …).
  public var method: String
  /// The absolute URL. With ``unixSocket`` the host part is only used for the `Host` header.
  public var url: String
  /// A unix socket to connect to instead of TCP (e.g. the Docker socket).
  public var unixSocket: String?
  /// Request headers.
  public var headers: [String: String]
  /// The request body, if any.
  public var body: Data?
  /// The whole-request timeout in milliseconds (host default when nil).
  public var timeoutMs: Int?

  /// Creates a value from its fields; omitted optional fields take their documented defaults.
  public init(
    method: String = "GET", url: String, unixSocket: String? = nil,
    headers: [String: String] = [:], body: Data? = nil, timeoutMs: Int? = nil
  ) {
    self.method = method
    self.url = url
    self.unixSocket = unixSocket
    self.headers = headers
    self.body = body
    self.timeoutMs = timeoutMs
  }

  enum CodingKeys: String, CodingKey {
    case method, url, headers, body
    case unixSocket = "unix_socket"
    case bodyBase64 = "body_base64"
    case timeoutMs = "timeout_ms"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    method = try container.decodeIfPresent(String.self, forKey: .method) ?? "GET"
    url = try container.decode(String.self, forKey: .url)
    unixSocket = try container.decodeIfPresent(String.self, forKey: .unixSocket)
    headers = try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
    body = try decodeBody(container, text: .body, base64: .bodyBase64)
    timeoutMs = try container.decodeIfPresent(Int.self, forKey: .timeoutMs)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(method, forKey: .method)
    try container.encode(url, forKey: .url)
    try container.encodeIfPresent(unixSocket, forKey: .unixSocket)
    if !headers.isEmpty { try container.encode(headers, forKey: .headers) }
    try encodeBody(body, into: &container, text: .body, base64: .bodyBase64)
    try container.encodeIfPresent(timeoutMs, forKey: .timeoutMs)
  }
}

/// The response JSON of the host service `http_request`:
/// `{"status":200,"headers":{"k":"v"},"body":"…"}` (`body_base64` when the body is not UTF-8).
/// An HTTP error status is still a successful host call.
public struct HostHTTPResponse: Codable, Sendable, Hashable {
  /// The HTTP status code.
  public var status: Int
  /// Response headers (names as the server sent them; the host may lower-case them).
  public var headers: [String: String]
  /// The response body (empty if none).
  public var body: Data

  /// Creates a value from its fields; omitted optional fields take their documented defaults.
  public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  /// The body as UTF-8 text (invalid sequences replaced).
  public var text: String { String(decoding: body, as: UTF8.self) }

  /// The value of header `name`, compared case-insensitively.
  public func header(_ name: String) -> String? {
    let lowered = name.lowercased()
    return headers.first { $0.key.lowercased() == lowered }?.value
  }

  enum CodingKeys: String, CodingKey {
    case status, headers, body
    case bodyBase64 = "body_base64"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    status = try container.decode(Int.self, forKey: .status)
    headers = try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
    body = try decodeBody(container, text: .body, base64: .bodyBase64) ?? Data()
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(status, forKey: .status)
    try container.encode(headers, forKey: .headers)
    try encodeBody(body, into: &container, text: .body, base64: .bodyBase64)
  }
}

private func decodeBody<K: CodingKey>(
  _ container: KeyedDecodingContainer<K>, text: K, base64: K
) throws -> Data? {
  if let string = try container.decodeIfPresent(String.self, forKey: text) {
    return Data(string.utf8)
  }
  if let encoded = try container.decodeIfPresent(String.self, forKey: base64) {
    guard let data = Data(base64Encoded: encoded) else {
      throw DecodingError.dataCorruptedError(
        forKey: base64, in: container, debugDescription: "not valid base64")
    }
    return data
  }
  return nil
}

private func encodeBody<K: CodingKey>(
  _ body: Data?, into container: inout KeyedEncodingContainer<K>, text: K, base64: K
) throws {
  guard let body else { return }
  if let string = String(validating: body, as: UTF8.self) {
    try container.encode(string, forKey: text)
  } else {
    try container.encode(body.base64EncodedString(), forKey: base64)
  }
}
