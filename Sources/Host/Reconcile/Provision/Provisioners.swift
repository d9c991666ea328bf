/// Who an agent is, for the provisioners: enough to name its Matrix account, storage identity
/// and gateway consumer, all derived from the runtime name.
public struct AgentSubject: Sendable, Hashable {
  public enum Role: String, Sendable, Hashable { case worker, teamLeader = "team_leader", manager }

  /// The object that owns the agent (`worker/alice`, `team/alpha`, `manager/default`).
  public var owner: String
  /// The agent's runtime name (Matrix localpart, storage prefix `agents/<name>/`).
  public var runtimeName: String
  public var role: Role
  /// The team's name for team members.
  public var team: String?

  public init(owner: String, runtimeName: String, role: Role, team: String? = nil) {
    self.owner = owner
    self.runtimeName = runtimeName
    self.role = role
    self.team = team
  }
}

/// What provisioning produced for one agent; nil fields were not provisioned (no-op
/// provisioners, or a layer not configured).
public struct ProvisionedAgent: Sendable, Hashable {
  public var matrixUserID: String?
  public var roomID: String?
  /// Extra environment for the agent's container (gateway URL and key, storage credentials…).
  public var environment: [String: String]

  public init(matrixUserID: String? = nil, roomID: String? = nil, environment: [String: String] = [:]) {
    self.matrixUserID = matrixUserID
    self.roomID = roomID
    self.environment = environment
  }
}

/// One layer of per-agent infrastructure (Matrix, object storage, AI gateway).
///
/// Both methods are idempotent and may be called again after a crash at any point.
/// `deprovision` of something never provisioned succeeds. Later issues replace the no-op
/// implementations with real ones; the reconcilers already call them in the upstream order
/// (provision: Matrix → storage → gateway; deprovision: the reverse, before the container goes).
public protocol AgentProvisioner: Sendable {
  /// A short name for logs and Events (`matrix`, `storage`, `gateway`).
  var layer: String { get }
  func provision(_ agent: AgentSubject, into result: inout ProvisionedAgent) async throws
  func deprovision(_ agent: AgentSubject) async throws
}

/// Provisions nothing. Used until the real Matrix, storage and gateway provisioners exist.
public struct NoOpProvisioner: AgentProvisioner {
  public let layer: String
  public init(layer: String) { self.layer = layer }
  public func provision(_ agent: AgentSubject, into result: inout ProvisionedAgent) async throws {}
  public func deprovision(_ agent: AgentSubject) async throws {}
}

/// The provisioners, in provisioning order, and where rendered configuration files go.
public struct Provisioners: Sendable {
  public var layers: [any AgentProvisioner]
  /// Receives the files runtime drivers render (see ``RuntimeDrivers``).
  public var files: any AgentFilesPublisher

  public init(layers: [any AgentProvisioner], files: any AgentFilesPublisher = NoOpFilesPublisher()) {
    self.layers = layers
    self.files = files
  }

  /// Matrix, storage and gateway, all no-ops.
  public static let noOp = Provisioners(layers: ["matrix", "storage", "gateway"].map { NoOpProvisioner(layer: $0) })

  func provision(_ agent: AgentSubject) async throws -> ProvisionedAgent {
    var result = ProvisionedAgent()
    for layer in layers { try await layer.provision(agent, into: &result) }
    return result
  }

  func deprovision(_ agent: AgentSubject) async throws {
    for layer in layers.reversed() { try await layer.deprovision(agent) }
  }
}
