/// A standalone agent: its own Matrix account and room, storage prefix, gateway consumer and
/// container (spec §2.1).
public struct Worker: Resource {
  public static let kind = Kind.worker

  public var metadata: ObjectMeta
  public var spec: WorkerSpec
  public var status: WorkerStatus

  public init(metadata: ObjectMeta, spec: WorkerSpec, status: WorkerStatus = WorkerStatus()) {
    self.metadata = metadata
    self.spec = spec
    self.status = status
  }

  /// The runtime identity: `spec.workerName`, else `metadata.name`. It is the Matrix localpart,
  /// the storage key and the room-alias key; `metadata.name` stays the key of containers and
  /// credentials.
  public var runtimeName: String { spec.workerName.nonEmpty ?? metadata.name }
}

/// What a Worker should be. Only `model` is required; ``Defaults`` fills the effective values
/// of `runtime`, `workerName`, `containerManaged`, `state` and the MCP/expose protocols.
public struct WorkerSpec: Sendable, Hashable, Codable {
  /// Required. The LLM model id (`qwen3.6-plus`, `claude-sonnet-4-6`); a `hiclaw-gateway/`
  /// prefix is stripped when configs are generated.
  public var model: String
  /// One of ``Runtime/known``; default: the host's configured worker runtime, else `openclaw`.
  public var runtime: Runtime?
  /// A custom container image; default: the runtime driver's image.
  public var image: String?
  /// The runtime identity (see ``Worker/runtimeName``); default `metadata.name`.
  public var workerName: String?
  /// OpenClaw: `IDENTITY.md`; CoPaw/Hermes: prepended to `SOUL.md`.
  public var identity: String?
  /// `SOUL.md` (inline wins over the package's).
  public var soul: String?
  /// The user section of `AGENTS.md`.
  public var agents: String?
  /// Built-in on-demand skill names (never `nacos://…`; those go in `remoteSkills`).
  public var skills: [String]?
  public var remoteSkills: [RemoteSkillSource]?
  public var mcpServers: [MCPServer]?
  /// A package URI: `file://`, `http(s)://`, `nacos://`, `oss://` or a storage path.
  public var package: String?
  public var expose: [ExposePort]?
  public var channelPolicy: ChannelPolicy?
  /// `false`: hiclaw never creates, stops or deletes a container (a remote or self-installed
  /// worker); Matrix, gateway and storage are still provisioned. Default `true`.
  public var containerManaged: Bool?
  /// Default `Running`.
  public var state: DesiredState?
  public var accessEntries: [AccessEntry]?
  /// Extra container environment; keys match `^[a-zA-Z_][a-zA-Z0-9_]*$`. Keys the host or the
  /// backend set themselves win.
  public var env: [String: String]?
  /// Extra container/Pod labels (Kubernetes label rules); system labels win.
  public var labels: [String: String]?

  public init(
    model: String, runtime: Runtime? = nil, image: String? = nil, workerName: String? = nil,
    identity: String? = nil, soul: String? = nil, agents: String? = nil, skills: [String]? = nil,
    remoteSkills: [RemoteSkillSource]? = nil, mcpServers: [MCPServer]? = nil, package: String? = nil,
    expose: [ExposePort]? = nil, channelPolicy: ChannelPolicy? = nil, containerManaged: Bool? = nil,
    state: DesiredState? = nil, accessEntries: [AccessEntry]? = nil, env: [String: String]? = nil,
    labels: [String: String]? = nil
  ) {
    self.model = model
    self.runtime = runtime
    self.image = image
    self.workerName = workerName
    self.identity = identity
    self.soul = soul
    self.agents = agents
    self.skills = skills
    self.remoteSkills = remoteSkills
    self.mcpServers = mcpServers
    self.package = package
    self.expose = expose
    self.channelPolicy = channelPolicy
    self.containerManaged = containerManaged
    self.state = state
    self.accessEntries = accessEntries
    self.env = env
    self.labels = labels
  }
}

/// What the host observed about a Worker.
public struct WorkerStatus: ResourceStatus {
  /// `Pending`, `Running`, `Sleeping`, `Updating`, `Stopped` or `Failed`.
  public var phase: Phase?
  public var observedGeneration: Int64?
  public var conditions: [Condition]?
  public var message: String?
  /// `@<runtimeName>:<domain>`.
  public var matrixUserID: String?
  /// The Worker Room.
  public var roomID: String?
  /// The backend's last raw status (`running`, `stopped`, `starting`, `ready`, `not_found`, `unknown`).
  public var containerState: String?
  /// When the worker last reported in (upstream declares but never writes it; §11 item 7).
  public var lastHeartbeat: Timestamp?
  public var exposedPorts: [ExposedPort]?

  public init() {}

  public init(
    phase: Phase? = nil, observedGeneration: Int64? = nil, conditions: [Condition]? = nil, message: String? = nil,
    matrixUserID: String? = nil, roomID: String? = nil, containerState: String? = nil,
    lastHeartbeat: Timestamp? = nil, exposedPorts: [ExposedPort]? = nil
  ) {
    self.phase = phase
    self.observedGeneration = observedGeneration
    self.conditions = conditions
    self.message = message
    self.matrixUserID = matrixUserID
    self.roomID = roomID
    self.containerState = containerState
    self.lastHeartbeat = lastHeartbeat
    self.exposedPorts = exposedPorts
  }
}

extension Optional where Wrapped == String {
  /// The string unless it is `nil` or empty.
  var nonEmpty: String? {
    guard let self, !self.isEmpty else { return nil }
    return self
  }
}
