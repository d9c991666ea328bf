import Foundation
import Model

/// Documents and values shared by the tests.
enum Fixtures {
  static func data(_ text: String) -> Data { Data(text.utf8) }

  /// A Worker with every spec and status field set.
  static let fullWorker = Worker(
    metadata: ObjectMeta(
      name: "alice", namespace: "research", uid: "0b7c9f1e", resourceVersion: "42", generation: 3,
      creationTimestamp: Timestamp(rfc3339: "2026-05-01T12:30:00Z"),
      deletionTimestamp: Timestamp(rfc3339: "2026-05-02T08:00:00.250Z"),
      labels: ["app.kubernetes.io/name": "alice", "tier": "gold"], annotations: ["hiclaw.io/note": "anything at all"],
      finalizers: ["hiclaw.io/cleanup"]),
    spec: WorkerSpec(
      model: "qwen3.6-plus", runtime: .hermes, image: "registry.local/hermes:1", workerName: "alice-bot",
      identity: "I am Alice.", soul: "Curious.", agents: "Do research.", skills: ["web-search", "pdf"],
      remoteSkills: [
        RemoteSkillSource(
          source: "nacos://user:pw@nacos.local:8848/public", authType: .nacos,
          skills: [RemoteSkill(name: "summarise", version: "1.2.0"), RemoteSkill(name: "translate", label: "stable")])
      ],
      mcpServers: [MCPServer(name: "github", url: "https://mcp.example.com/github", transport: .sse)],
      package: "oss://hiclaw-config/packages/alice-0123456789abcdef.zip",
      expose: [ExposePort(port: 8080, protocol: .grpc)],
      channelPolicy: ChannelPolicy(
        groupAllowExtra: ["@bob:example.org"], groupDenyExtra: ["mallory"], dmAllowExtra: ["carol"],
        dmDenyExtra: ["@eve:example.org"]),
      containerManaged: false, state: .sleeping,
      accessEntries: [
        AccessEntry(
          service: .objectStorage, permissions: [.read, .list],
          scope: ["bucketRef": "main", "prefixes": ["agents/${self.name}/"], "depth": 2, "ratio": 0.5, "on": true])
      ],
      env: ["LOG_LEVEL": "debug", "_X1": ""], labels: ["team": "none"]),
    status: WorkerStatus(
      phase: .sleeping, observedGeneration: 3,
      conditions: [
        Condition(
          type: "Ready", status: .false, reason: "Sleeping", message: "asleep",
          lastTransitionTime: Timestamp(rfc3339: "2026-05-01T13:00:00Z")!, observedGeneration: 3)
      ],
      message: "", matrixUserID: "@alice-bot:example.org", roomID: "!room:example.org", containerState: "stopped",
      lastHeartbeat: Timestamp(rfc3339: "2026-05-01T12:59:59.999Z"),
      exposedPorts: [ExposedPort(port: 8080, domain: "alice-8080.example.org")]))

  static let fullTeam = Team(
    metadata: ObjectMeta(name: "alpha", labels: ["env": "prod"]),
    spec: TeamSpec(
      description: "Research team", teamName: "alpha-team",
      admin: TeamAdmin(name: "root", matrixUserId: "@root:example.org"),
      humanMembers: [HumanMember(name: "dana", matrixUserId: "@dana:example.org", role: .coordinator)],
      leader: LeaderSpec(
        name: "lead", workerName: "alpha-lead", model: "claude-sonnet-4-6", identity: "Lead", soul: "Calm",
        agents: "Coordinate", package: "packages/lead.zip",
        remoteSkills: [RemoteSkillSource(source: "nacos://nacos.local/ns1", authType: RemoteSkillAuthType.anonymous, skills: [RemoteSkill(name: "plan")])],
        mcpServers: [MCPServer(name: "jira", url: "http://jira.local/mcp")],
        heartbeat: Heartbeat(enabled: true, every: "30m"), workerIdleTimeout: "720m",
        channelPolicy: ChannelPolicy(dmAllowExtra: ["dana"]), state: .running,
        accessEntries: [AccessEntry(service: .aiGateway, permissions: [.read])], env: ["A": "1"],
        labels: ["role": "lead"]),
      workers: [
        TeamWorkerSpec(
          name: "w1", workerName: "alpha-w1", model: "qwen3.6-plus", runtime: .copaw, image: "img:1",
          identity: "W1", soul: "S1", agents: "A1", skills: ["git"],
          remoteSkills: [RemoteSkillSource(source: "nacos://n/ns", skills: [RemoteSkill(name: "x")])],
          mcpServers: [MCPServer(name: "fs", url: "https://fs.local", transport: .http)], package: "file:///tmp/w1.zip",
          expose: [ExposePort(port: 3000)], channelPolicy: ChannelPolicy(groupAllowExtra: ["w2"]), state: .stopped,
          accessEntries: [AccessEntry(service: .aiRegistry, permissions: [.write, .delete])], env: ["B": "2"],
          labels: ["role": "worker"]),
        TeamWorkerSpec(name: "w2"),
      ],
      peerMentions: false, channelPolicy: ChannelPolicy(groupDenyExtra: ["@spam:example.org"])),
    status: TeamStatus(
      phase: .degraded, observedGeneration: 2,
      conditions: [Condition(type: "Ready", status: .unknown, reason: "Reconciling", lastTransitionTime: Timestamp(millisecondsSinceEpoch: 5))],
      message: "w2: backend down", teamRoomID: "!team:x", leaderDMRoomID: "!dm:x", leaderReady: true, readyWorkers: 1,
      totalWorkers: 2,
      members: [
        TeamMemberStatus(
          name: "lead", runtimeName: "alpha-lead", role: .teamLeader, roomID: "!l:x", matrixUserID: "@alpha-lead:x",
          specHash: "0123456789abcdef", observed: true, ready: true, exposedPorts: []),
        TeamMemberStatus(
          name: "w1", runtimeName: "alpha-w1", role: .worker, roomID: "!w1:x", matrixUserID: "@alpha-w1:x",
          specHash: "fedcba9876543210", observed: true, ready: false,
          exposedPorts: [ExposedPort(port: 3000, domain: "w1.x")]),
      ]))

  static let fullHuman = Human(
    metadata: ObjectMeta(name: "dana", annotations: ["note": "x"]),
    spec: HumanSpec(
      displayName: "Dana Scully", username: "dana.s", email: "dana@example.org", permissionLevel: 2,
      accessibleTeams: ["alpha"], accessibleWorkers: ["alice"], note: "on call"),
    status: HumanStatus(
      phase: .active, observedGeneration: 1, conditions: nil, message: nil, matrixUserID: "@dana.s:example.org",
      initialPassword: "0123abcd", displayNameSyncedGeneration: 1, rooms: ["!team:x"], emailSent: false))

  static let fullManager = Manager(
    metadata: ObjectMeta(name: "default"),
    spec: ManagerSpec(
      model: "qwen3.6-plus", runtime: .copaw, image: "mgr:2", soul: "Helpful", agents: "Manage", skills: ["ops"],
      mcpServers: [MCPServer(name: "docs", url: "https://docs.local/mcp", transport: .http)], package: "http://pkg.local/m.zip",
      state: .running, env: ["TZ": "UTC"], labels: ["m": "1"],
      accessEntries: [AccessEntry(service: .objectStorage, permissions: [.read])],
      config: ManagerConfig(heartbeatInterval: "10m", workerIdleTimeout: "1h", notifyChannel: "admin-dm")),
    status: ManagerStatus(
      phase: .running, observedGeneration: 4, message: "", matrixUserID: "@manager:x", roomID: "!dm:x",
      containerState: "running", version: "mgr:2", welcomeSent: true))

  static let all: [AnyResource] = [.worker(fullWorker), .team(fullTeam), .human(fullHuman), .manager(fullManager)]

  /// A minimal valid document of each kind, as JSON text.
  static let minimalWorker = """
    {"apiVersion": "hiclaw.io/v1beta1", "kind": "Worker", "metadata": {"name": "alice"},
     "spec": {"model": "qwen3.6-plus"}}
    """
}

/// The errors `ResourceDecoder` throws for `text` (empty if it decodes).
func decodeErrors(_ text: String, mode: DecodeMode = .strict, validate: Bool = false) -> FieldErrors {
  do {
    let decoder = ResourceDecoder(mode: mode)
    if validate {
      _ = try decoder.decodeAndValidate(Fixtures.data(text))
    } else {
      _ = try decoder.decode(Fixtures.data(text))
    }
    return []
  } catch {
    return error
  }
}

/// The message reported at `path`, if any.
extension FieldErrors {
  func message(at path: String) -> String? { first(where: { $0.path == path })?.message }
}
