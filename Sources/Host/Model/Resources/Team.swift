/// A leader plus workers sharing a Team Room and a storage prefix (spec §2.2). Members are not
/// Worker objects; the Team owns their specs, and each member has its own ``SpecHash`` so that a
/// change to one member never recreates the others.
public struct Team: Resource {
  public static let kind = Kind.team

  public var metadata: ObjectMeta
  public var spec: TeamSpec
  public var status: TeamStatus

  public init(metadata: ObjectMeta, spec: TeamSpec, status: TeamStatus = TeamStatus()) {
    self.metadata = metadata
    self.spec = spec
    self.status = status
  }

  /// The runtime/storage identity: `spec.teamName`, else `metadata.name`.
  public var effectiveTeamName: String { spec.teamName.nonEmpty ?? metadata.name }
}

public struct TeamSpec: Sendable, Hashable, Codable {
  /// Free text; the Manager picks teams by name, description and member names.
  public var description: String?
  /// Room alias and storage prefix (`teams/<teamName>/`); default `metadata.name`.
  public var teamName: String?
  /// The Team Admin: an existing Human in the same namespace.
  public var admin: TeamAdmin?
  public var humanMembers: [HumanMember]?
  /// Required.
  public var leader: LeaderSpec
  /// Optional: a leader-only team is valid (upstream's docs call it required, its schema does
  /// not; §11 item 11).
  public var workers: [TeamWorkerSpec]?
  /// Whether team workers may @mention each other; default `true`.
  public var peerMentions: Bool?
  /// Team-wide extras applied to every member.
  public var channelPolicy: ChannelPolicy?

  public init(
    description: String? = nil, teamName: String? = nil, admin: TeamAdmin? = nil, humanMembers: [HumanMember]? = nil,
    leader: LeaderSpec, workers: [TeamWorkerSpec]? = nil, peerMentions: Bool? = nil,
    channelPolicy: ChannelPolicy? = nil
  ) {
    self.description = description
    self.teamName = teamName
    self.admin = admin
    self.humanMembers = humanMembers
    self.leader = leader
    self.workers = workers
    self.peerMentions = peerMentions
    self.channelPolicy = channelPolicy
  }
}

/// The Team Admin (`spec.admin`).
public struct TeamAdmin: Sendable, Hashable, Codable {
  /// Required: the name of a Human in the team's namespace.
  public var name: String
  /// If given, must equal that Human's Matrix ID.
  public var matrixUserId: String?

  public init(name: String, matrixUserId: String? = nil) {
    self.name = name
    self.matrixUserId = matrixUserId
  }
}

/// A human in the team (`spec.humanMembers[]`).
public struct HumanMember: Sendable, Hashable, Codable {
  /// Required: a Human name.
  public var name: String
  public var matrixUserId: String?
  /// `coordinator` (the only role; default).
  public var role: HumanRole?

  public init(name: String, matrixUserId: String? = nil, role: HumanRole? = nil) {
    self.name = name
    self.matrixUserId = matrixUserId
    self.role = role
  }
}

/// The leader's heartbeat (`spec.leader.heartbeat`).
public struct Heartbeat: Sendable, Hashable, Codable {
  public var enabled: Bool?
  /// A duration such as `15m`.
  public var every: String?

  public init(enabled: Bool? = nil, every: String? = nil) {
    self.enabled = enabled
    self.every = every
  }
}

/// The team leader. It always runs the ``Runtime/teamLeader`` runtime (copaw) with its image and
/// never exposes ports, so it has no `runtime`, `image`, `skills` or `expose`.
public struct LeaderSpec: Sendable, Hashable, Codable {
  /// Required; unique among the team's members.
  public var name: String
  public var workerName: String?
  public var model: String?
  public var identity: String?
  public var soul: String?
  public var agents: String?
  public var package: String?
  public var remoteSkills: [RemoteSkillSource]?
  public var mcpServers: [MCPServer]?
  public var heartbeat: Heartbeat?
  /// A duration such as `720m`, handed to the leader's idle policy.
  public var workerIdleTimeout: String?
  public var channelPolicy: ChannelPolicy?
  public var state: DesiredState?
  public var accessEntries: [AccessEntry]?
  public var env: [String: String]?
  public var labels: [String: String]?

  public init(
    name: String, workerName: String? = nil, model: String? = nil, identity: String? = nil, soul: String? = nil,
    agents: String? = nil, package: String? = nil, remoteSkills: [RemoteSkillSource]? = nil,
    mcpServers: [MCPServer]? = nil, heartbeat: Heartbeat? = nil, workerIdleTimeout: String? = nil,
    channelPolicy: ChannelPolicy? = nil, state: DesiredState? = nil, accessEntries: [AccessEntry]? = nil,
    env: [String: String]? = nil, labels: [String: String]? = nil
  ) {
    self.name = name
    self.workerName = workerName
    self.model = model
    self.identity = identity
    self.soul = soul
    self.agents = agents
    self.package = package
    self.remoteSkills = remoteSkills
    self.mcpServers = mcpServers
    self.heartbeat = heartbeat
    self.workerIdleTimeout = workerIdleTimeout
    self.channelPolicy = channelPolicy
    self.state = state
    self.accessEntries = accessEntries
    self.env = env
    self.labels = labels
  }

  /// `workerName`, else `name`.
  public var runtimeName: String { workerName.nonEmpty ?? name }
}

/// A team worker: a Worker spec without `containerManaged` (team members are always managed).
public struct TeamWorkerSpec: Sendable, Hashable, Codable {
  /// Required; unique among the team's members.
  public var name: String
  public var workerName: String?
  public var model: String?
  public var runtime: Runtime?
  public var image: String?
  public var identity: String?
  public var soul: String?
  public var agents: String?
  public var skills: [String]?
  public var remoteSkills: [RemoteSkillSource]?
  public var mcpServers: [MCPServer]?
  public var package: String?
  public var expose: [ExposePort]?
  public var channelPolicy: ChannelPolicy?
  public var state: DesiredState?
  public var accessEntries: [AccessEntry]?
  public var env: [String: String]?
  public var labels: [String: String]?

  public init(
    name: String, workerName: String? = nil, model: String? = nil, runtime: Runtime? = nil, image: String? = nil,
    identity: String? = nil, soul: String? = nil, agents: String? = nil, skills: [String]? = nil,
    remoteSkills: [RemoteSkillSource]? = nil, mcpServers: [MCPServer]? = nil, package: String? = nil,
    expose: [ExposePort]? = nil, channelPolicy: ChannelPolicy? = nil, state: DesiredState? = nil,
    accessEntries: [AccessEntry]? = nil, env: [String: String]? = nil, labels: [String: String]? = nil
  ) {
    self.name = name
    self.workerName = workerName
    self.model = model
    self.runtime = runtime
    self.image = image
    self.identity = identity
    self.soul = soul
    self.agents = agents
    self.skills = skills
    self.remoteSkills = remoteSkills
    self.mcpServers = mcpServers
    self.package = package
    self.expose = expose
    self.channelPolicy = channelPolicy
    self.state = state
    self.accessEntries = accessEntries
    self.env = env
    self.labels = labels
  }

  /// `workerName`, else `name`.
  public var runtimeName: String { workerName.nonEmpty ?? name }
}

/// What the host observed about a Team.
public struct TeamStatus: ResourceStatus {
  /// `Pending`, `Active`, `Degraded` or `Failed`.
  public var phase: Phase?
  public var observedGeneration: Int64?
  public var conditions: [Condition]?
  public var message: String?
  public var teamRoomID: String?
  public var leaderDMRoomID: String?
  public var leaderReady: Bool?
  public var readyWorkers: Int?
  /// `spec.workers.count`.
  public var totalWorkers: Int?
  /// One entry per member, sorted by name.
  public var members: [TeamMemberStatus]?

  public init() {}

  public init(
    phase: Phase? = nil, observedGeneration: Int64? = nil, conditions: [Condition]? = nil, message: String? = nil,
    teamRoomID: String? = nil, leaderDMRoomID: String? = nil, leaderReady: Bool? = nil, readyWorkers: Int? = nil,
    totalWorkers: Int? = nil, members: [TeamMemberStatus]? = nil
  ) {
    self.phase = phase
    self.observedGeneration = observedGeneration
    self.conditions = conditions
    self.message = message
    self.teamRoomID = teamRoomID
    self.leaderDMRoomID = leaderDMRoomID
    self.leaderReady = leaderReady
    self.readyWorkers = readyWorkers
    self.totalWorkers = totalWorkers
    self.members = members
  }
}

/// One member in `TeamStatus.members[]`.
public struct TeamMemberStatus: Sendable, Hashable, Codable {
  public var name: String
  public var runtimeName: String?
  /// `team_leader` or `worker`.
  public var role: MemberRole?
  /// The member's own room.
  public var roomID: String?
  public var matrixUserID: String?
  /// The ``SpecHash`` of the member spec last reconciled successfully.
  public var specHash: String?
  /// Whether Matrix/storage/gateway provisioning succeeded.
  public var observed: Bool?
  public var ready: Bool?
  /// What the member's container was last seen doing (`Running`, `Sleeping`, `Stopped`,
  /// `Pending`): with ``specHash`` it tells whether the member has reached its desired state
  /// (the hash leaves `state` out, so it cannot). Not in upstream's status.
  public var phase: Phase?
  public var exposedPorts: [ExposedPort]?

  public init(
    name: String, runtimeName: String? = nil, role: MemberRole? = nil, roomID: String? = nil,
    matrixUserID: String? = nil, specHash: String? = nil, observed: Bool? = nil, ready: Bool? = nil,
    phase: Phase? = nil, exposedPorts: [ExposedPort]? = nil
  ) {
    self.name = name
    self.runtimeName = runtimeName
    self.role = role
    self.roomID = roomID
    self.matrixUserID = matrixUserID
    self.specHash = specHash
    self.observed = observed
    self.ready = ready
    self.phase = phase
    self.exposedPorts = exposedPorts
  }
}
