/// What a driver is for. Each kind has one family of domain protocols.
public enum DriverKind: String, Codable, Sendable, Hashable, CaseIterable {
  /// Runs workers somewhere (Docker, Kubernetes, a cloud): `hiclaw.worker-backend/N`.
  case workerBackend = "worker-backend"
  /// Turns a worker spec into an agent engine's files and command: `hiclaw.agent-runtime/N`.
  case agentRuntime = "agent-runtime"
}

/// The JSON returned by the ABI `describe` function (schema: `describe.v1.json`):
///
/// ```json
/// {"name":"docker","kind":"worker-backend","version":"0.1.0",
///  "protocols":["hiclaw.worker-backend/1"],"methods":["ping"],"capabilities":{}}
/// ```
///
/// `methods` lists exactly the methods the driver implements; every other method returns
/// `UNIMPLEMENTED`. `capabilities` is a free-form object of domain capabilities.
public struct DriverDescription: Codable, Sendable, Hashable {
  /// The driver name; equals the magic block's `name` and the manifest's `name`.
  public var name: String
  /// The driver kind.
  public var kind: DriverKind
  /// The driver's semantic version.
  public var version: String
  /// Protocol ids implemented, e.g. `["hiclaw.worker-backend/1"]` (see ``KnownProtocols``).
  public var protocols: [String]
  /// Methods implemented.
  public var methods: [String]
  /// Free-form domain capabilities (`{}` if none).
  public var capabilities: [String: JSONValue]

  /// Creates a value from its fields; omitted optional fields take their documented defaults.
  public init(
    name: String, kind: DriverKind, version: String, protocols: [String], methods: [String],
    capabilities: [String: JSONValue] = [:]
  ) {
    self.name = name
    self.kind = kind
    self.version = version
    self.protocols = protocols
    self.methods = methods
    self.capabilities = capabilities
  }

  enum CodingKeys: String, CodingKey {
    case name, kind, version, protocols, methods, capabilities
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    name = try container.decode(String.self, forKey: .name)
    kind = try container.decode(DriverKind.self, forKey: .kind)
    version = try container.decode(String.self, forKey: .version)
    protocols = try container.decode([String].self, forKey: .protocols)
    methods = try container.decode([String].self, forKey: .methods)
    capabilities =
      try container.decodeIfPresent([String: JSONValue].self, forKey: .capabilities) ?? [:]
  }
}

/// One domain protocol: its id, the driver kind it belongs to and its methods, in schema order.
public struct ProtocolSpec: Sendable, Hashable {
  /// The protocol id, e.g. `"hiclaw.worker-backend/1"`; the schema file's `x-protocol`.
  public let id: String
  /// The kind of driver that implements it.
  public let kind: DriverKind
  /// The method names; the keys of the schema file's `x-methods`, in the same order.
  public let methods: [String]
  /// The schema file name under `Sources/DriverABI/schemas/` (installed to
  /// `share/hiclaw/schemas/`).
  public let schemaFile: String

  /// Creates a value from its fields; omitted optional fields take their documented defaults.
  public init(id: String, kind: DriverKind, methods: [String], schemaFile: String) {
    self.id = id
    self.kind = kind
    self.methods = methods
    self.schemaFile = schemaFile
  }
}

/// The domain protocols that exist. A driver's `describe` should list only these ids.
public enum KnownProtocols {
  /// `hiclaw.worker-backend/1`.
  public static let workerBackendV1 = ProtocolSpec(
    id: WorkerBackendV1.protocolID, kind: .workerBackend,
    methods: WorkerBackendV1.Method.allCases.map(\.rawValue), schemaFile: "worker-backend.v1.json")

  /// `hiclaw.agent-runtime/1`.
  public static let agentRuntimeV1 = ProtocolSpec(
    id: AgentRuntimeV1.protocolID, kind: .agentRuntime,
    methods: AgentRuntimeV1.Method.allCases.map(\.rawValue), schemaFile: "agent-runtime.v1.json")

  /// Every known protocol.
  public static let all: [ProtocolSpec] = [workerBackendV1, agentRuntimeV1]

  /// Every known protocol id.
  public static let ids: Set<String> = Set(all.map(\.id))

  /// The protocol with this id, or nil.
  public static func spec(for id: String) -> ProtocolSpec? {
    all.first { $0.id == id }
  }

  /// The method names of the protocol with this id, or nil for an unknown id.
  public static func methods(of id: String) -> [String]? {
    spec(for: id)?.methods
  }
}
