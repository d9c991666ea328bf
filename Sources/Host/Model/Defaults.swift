/// Every default of the four kinds, applied in one place.
///
/// `apply(to:)` fills only fields that are absent (`nil`, or an empty string where a value is
/// expected) and never changes a value the user gave, so applying twice is the same as applying
/// once. It touches `metadata.namespace` and `spec` only, never `status`.
///
/// | kind | field | default |
/// |---|---|---|
/// | all | `metadata.namespace` | `default` |
/// | Worker | `runtime` | ``workerRuntime`` (host setting, else `openclaw`) |
/// | Worker | `workerName` | `metadata.name` |
/// | Worker | `containerManaged` | `true` |
/// | Worker, Team members, Manager | `state` | `Running` |
/// | all agents | `mcpServers[].transport` | `http` |
/// | Worker, Team workers | `expose[].protocol` | `http` |
/// | all agents | `remoteSkills[].authType` | `nacos` when the source has `user:pass@`, else `none` |
/// | Team | `teamName` | `metadata.name` |
/// | Team | `peerMentions` | `true` |
/// | Team | `humanMembers[].role` | `coordinator` |
/// | Team leader and workers | `workerName` | the member's `name` |
/// | Team workers | `runtime` | ``workerRuntime`` |
/// | Human | `username` | `metadata.name` |
/// | Manager | `runtime` | ``managerRuntime`` (host setting, else `openclaw`) |
/// | Manager | `config` | `heartbeatInterval: 15m`, `workerIdleTimeout: 720m`, `notifyChannel: admin-dm` |
///
/// Upstream differences (spec §11 and §3.6): upstream assumes `copaw` for team workers without a
/// runtime in one code path and the install default in another; here team workers get the same
/// configurable default as standalone Workers. The team leader has no `runtime` field and always
/// runs ``Runtime/teamLeader``.
public struct Defaults: Sendable, Hashable {
  /// The runtime of Workers and team workers that name none (`HICLAW_DEFAULT_WORKER_RUNTIME`).
  public var workerRuntime: Runtime
  /// The runtime of a Manager that names none (`HICLAW_MANAGER_RUNTIME`).
  public var managerRuntime: Runtime

  public static let heartbeatInterval = "15m"
  public static let workerIdleTimeout = "720m"
  public static let notifyChannel = "admin-dm"

  /// The built-in defaults (`openclaw` for both).
  public static let standard = Defaults()

  public init(workerRuntime: Runtime = .openclaw, managerRuntime: Runtime = .openclaw) {
    self.workerRuntime = workerRuntime
    self.managerRuntime = managerRuntime
  }

  /// Defaults from environment values (passed in; nothing is read here):
  /// `HICLAW_DEFAULT_WORKER_RUNTIME` and `HICLAW_MANAGER_RUNTIME`; unset or empty values fall
  /// back to `openclaw`. Values are not checked here; validating the defaulted object reports a
  /// bad one.
  public init(environment: [String: String]) {
    let worker = environment["HICLAW_DEFAULT_WORKER_RUNTIME"].nonEmpty.map { Runtime(rawValue: $0.lowercased()) }
    let manager = environment["HICLAW_MANAGER_RUNTIME"].nonEmpty.map { Runtime(rawValue: $0.lowercased()) }
    self.init(workerRuntime: worker ?? .openclaw, managerRuntime: manager ?? .openclaw)
  }

  // MARK: Apply

  public func apply(to resource: inout AnyResource) {
    switch resource {
    case .worker(var value): apply(to: &value); resource = .worker(value)
    case .team(var value): apply(to: &value); resource = .team(value)
    case .human(var value): apply(to: &value); resource = .human(value)
    case .manager(var value): apply(to: &value); resource = .manager(value)
    }
  }

  public func apply(to worker: inout Worker) {
    Self.namespace(&worker.metadata)
    Self.fill(&worker.spec.runtime, workerRuntime)
    Self.fill(&worker.spec.workerName, worker.metadata.name)
    if worker.spec.containerManaged == nil { worker.spec.containerManaged = true }
    Self.fill(&worker.spec.state, .running)
    Self.mcp(&worker.spec.mcpServers)
    Self.expose(&worker.spec.expose)
    Self.remoteSkills(&worker.spec.remoteSkills)
  }

  public func apply(to team: inout Team) {
    Self.namespace(&team.metadata)
    Self.fill(&team.spec.teamName, team.metadata.name)
    if team.spec.peerMentions == nil { team.spec.peerMentions = true }
    if var members = team.spec.humanMembers {
      for index in members.indices { Self.fill(&members[index].role, .coordinator) }
      team.spec.humanMembers = members
    }
    var leader = team.spec.leader
    Self.fill(&leader.workerName, leader.name)
    Self.fill(&leader.state, .running)
    Self.mcp(&leader.mcpServers)
    Self.remoteSkills(&leader.remoteSkills)
    team.spec.leader = leader
    if var workers = team.spec.workers {
      for index in workers.indices { apply(toMember: &workers[index]) }
      team.spec.workers = workers
    }
  }

  /// The defaults of one team worker.
  public func apply(toMember worker: inout TeamWorkerSpec) {
    Self.fill(&worker.workerName, worker.name)
    Self.fill(&worker.runtime, workerRuntime)
    Self.fill(&worker.state, .running)
    Self.mcp(&worker.mcpServers)
    Self.expose(&worker.expose)
    Self.remoteSkills(&worker.remoteSkills)
  }

  public func apply(to human: inout Human) {
    Self.namespace(&human.metadata)
    Self.fill(&human.spec.username, human.metadata.name)
  }

  public func apply(to manager: inout Manager) {
    Self.namespace(&manager.metadata)
    Self.fill(&manager.spec.runtime, managerRuntime)
    Self.fill(&manager.spec.state, .running)
    Self.mcp(&manager.spec.mcpServers)
    // Upstream passes these to the Manager as environment that nothing reads (§11 item 7); they
    // are filled in so the Manager's runtime driver can honour them.
    var config = manager.spec.config ?? ManagerConfig()
    Self.fill(&config.heartbeatInterval, Self.heartbeatInterval)
    Self.fill(&config.workerIdleTimeout, Self.workerIdleTimeout)
    Self.fill(&config.notifyChannel, Self.notifyChannel)
    manager.spec.config = config
  }

  /// A defaulted copy.
  public func applied<R: Resource>(to resource: R) -> R {
    var any = AnyResource(resource)
    apply(to: &any)
    return any.base as! R
  }

  /// A defaulted copy.
  public func applied(to resource: AnyResource) -> AnyResource {
    var copy = resource
    apply(to: &copy)
    return copy
  }

  // MARK: Helpers

  static func namespace(_ metadata: inout ObjectMeta) {
    if metadata.namespace.isEmpty { metadata.namespace = ObjectMeta.defaultNamespace }
  }

  static func fill(_ field: inout String?, _ value: String) {
    if field.nonEmpty == nil, !value.isEmpty { field = value }
  }

  static func fill<E: OpenStringEnum>(_ field: inout E?, _ value: E) {
    if field == nil || field?.rawValue.isEmpty == true { field = value }
  }

  static func mcp(_ servers: inout [MCPServer]?) {
    guard var list = servers else { return }
    for index in list.indices { fill(&list[index].transport, .http) }
    servers = list
  }

  static func expose(_ ports: inout [ExposePort]?) {
    guard var list = ports else { return }
    for index in list.indices { fill(&list[index].protocol, .http) }
    ports = list
  }

  static func remoteSkills(_ sources: inout [RemoteSkillSource]?) {
    guard var list = sources else { return }
    for index in list.indices {
      fill(&list[index].authType, list[index].sourceHasCredentials ? RemoteSkillAuthType.nacos : RemoteSkillAuthType.anonymous)
    }
    sources = list
  }
}
