/// The request of methods that take no arguments (`ping`, a runtime's `describe`): `{}`.
///
/// Decoding accepts any JSON object (unknown members are ignored) and rejects anything else.
public struct EmptyRequest: Codable, Sendable, Hashable {
  /// Creates a value from its fields; omitted optional fields take their documented defaults.
  public init() {}

  private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public init(from decoder: any Decoder) throws {
    _ = try decoder.container(keyedBy: AnyKey.self)
  }

  public func encode(to encoder: any Encoder) throws {
    _ = encoder.container(keyedBy: AnyKey.self)
  }
}

/// The response of `ping` in every protocol:
/// `{"driver":"docker","version":"0.1.0","backend":{…free-form…}}`.
public struct PingResponse: Codable, Sendable, Hashable {
  /// The driver name.
  public var driver: String
  /// The driver version.
  public var version: String
  /// Free-form information about what the driver talks to (engine version, API server, …).
  public var backend: [String: JSONValue]

  /// Creates a value from its fields; omitted optional fields take their documented defaults.
  public init(driver: String, version: String, backend: [String: JSONValue] = [:]) {
    self.driver = driver
    self.version = version
    self.backend = backend
  }

  enum CodingKeys: String, CodingKey {
    case driver, version, backend
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    driver = try container.decode(String.self, forKey: .driver)
    version = try container.decode(String.self, forKey: .version)
    backend = try container.decodeIfPresent([String: JSONValue].self, forKey: .backend) ?? [:]
  }
}

/// An event about a resource, as passed to the host's `emit_event`:
/// `{"type":"Normal|Warning","reason":"Pulling","message":"…"}`.
public struct HostEvent: Codable, Sendable, Hashable {
  /// Event severity.
  public enum EventType: String, Codable, Sendable, Hashable {
    case normal = "Normal"
    case warning = "Warning"
  }

  /// `Normal` or `Warning`.
  public var type: EventType
  /// A short CamelCase reason (`Created`, `Started`, `Pulling`, `BackOff`).
  public var reason: String
  /// A human-readable message.
  public var message: String

  /// Creates a value from its fields; omitted optional fields take their documented defaults.
  public init(type: EventType, reason: String, message: String) {
    self.type = type
    self.reason = reason
    self.message = message
  }
}
