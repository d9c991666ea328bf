/// The Manager agent that talks to the admin and drives hiclaw (spec §2.4). Its Matrix account is
/// always `@manager`, whatever the object's name, so there is one Manager per installation.
public struct Manager: Resource {
  public static let kind = Kind.manager
  /// The Manager's fixed Matrix localpart.
  public static let matrixLocalpart = "manager"

  public var metadata: ObjectMeta
  public var spec: ManagerSpec
  public var status: ManagerStatus

  public init(metadata: ObjectMeta, spec: ManagerSpec, status: ManagerStatus = ManagerStatus()) {
    self.metadata = metadata
    self.spec = spec
    self.status = status
  }
}

public struct ManagerSpec: Sendable, Hashable, Codable {
  /// Required.
  public var model: String
  /// `openclaw` or `copaw` (``Runtime/manager``); default: the host's configured manager
  /// runtime, else `openclaw`.
  public var runtime: Runtime?
  public var image: String?
  public var soul: String?
  public var agents: String?
  public var skills: [String]?
  public var mcpServers: [MCPServer]?
  public var package: String?
  public var state: DesiredState?
  public var env: [String: String]?
  public var labels: [String: String]?
  /// Services limited to `object-storage` and `ai-gateway`.
  public var accessEntries: [AccessEntry]?
  public var config: ManagerConfig?

  public init(
    model: String, runtime: Runtime? = nil, image: String? = nil, soul: String? = nil, agents: String? = nil,
    skills: [String]? = nil, mcpServers: [MCPServer]? = nil, package: String? = nil, state: DesiredState? = nil,
    env: [String: String]? = nil, labels: [String: String]? = nil, accessEntries: [AccessEntry]? = nil,
    config: ManagerConfig? = nil
  ) {
    self.model = model
    self.runtime = runtime
    self.image = image
    self.soul = soul
    self.agents = agents
    self.skills = skills
    self.mcpServers = mcpServers
    self.package = package
    self.state = state
    self.env = env
    self.labels = labels
    self.accessEntries = accessEntries
    self.config = config
  }
}

/// The Manager's behaviour settings (`spec.config`). Upstream passes them as environment
/// variables that nothing reads (§11 item 7); hiclaw's Manager runtime driver is expected to
/// honour them.
public struct ManagerConfig: Sendable, Hashable, Codable {
  /// How often the Manager's heartbeat runs; default `15m`.
  public var heartbeatInterval: String?
  /// How long a worker may idle before the Manager puts it to sleep; default `720m`.
  public var workerIdleTimeout: String?
  /// Where the Manager posts notifications; default `admin-dm`.
  public var notifyChannel: String?

  public init(heartbeatInterval: String? = nil, workerIdleTimeout: String? = nil, notifyChannel: String? = nil) {
    self.heartbeatInterval = heartbeatInterval
    self.workerIdleTimeout = workerIdleTimeout
    self.notifyChannel = notifyChannel
  }
}

/// What the host observed about the Manager.
public struct ManagerStatus: ResourceStatus {
  /// As for a Worker.
  public var phase: Phase?
  public var observedGeneration: Int64?
  public var conditions: [Condition]?
  public var message: String?
  /// Always `@manager:<domain>`.
  public var matrixUserID: String?
  /// The Admin DM room.
  public var roomID: String?
  public var containerState: String?
  /// `spec.image` when set.
  public var version: String?
  /// The one-shot onboarding guard.
  public var welcomeSent: Bool?

  public init() {}

  public init(
    phase: Phase? = nil, observedGeneration: Int64? = nil, conditions: [Condition]? = nil, message: String? = nil,
    matrixUserID: String? = nil, roomID: String? = nil, containerState: String? = nil, version: String? = nil,
    welcomeSent: Bool? = nil
  ) {
    self.phase = phase
    self.observedGeneration = observedGeneration
    self.conditions = conditions
    self.message = message
    self.matrixUserID = matrixUserID
    self.roomID = roomID
    self.containerState = containerState
    self.version = version
    self.welcomeSent = welcomeSent
  }
}
