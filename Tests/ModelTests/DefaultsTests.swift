import Foundation
import Model
import Testing

@Suite("Defaults")
struct DefaultsTests {
  static let bareTeam = Team(
    metadata: ObjectMeta(name: "alpha", namespace: ""),
    spec: TeamSpec(
      humanMembers: [HumanMember(name: "dana")],
      leader: LeaderSpec(name: "lead", mcpServers: [MCPServer(name: "m", url: "http://m")]),
      workers: [
        TeamWorkerSpec(
          name: "w1", remoteSkills: [RemoteSkillSource(source: "nacos://u:p@h/ns", skills: [RemoteSkill(name: "s")])],
          expose: [ExposePort(port: 80)]),
        TeamWorkerSpec(name: "w2", workerName: "custom", runtime: .hermes, state: .stopped),
      ]))

  @Test("worker defaults")
  func worker() {
    var worker = Worker(
      metadata: ObjectMeta(name: "alice", namespace: ""),
      spec: WorkerSpec(
        model: "m", remoteSkills: [RemoteSkillSource(source: "nacos://h/ns", skills: [RemoteSkill(name: "s")])],
        mcpServers: [MCPServer(name: "a", url: "http://a"), MCPServer(name: "b", url: "http://b", transport: .sse)],
        expose: [ExposePort(port: 80), ExposePort(port: 81, protocol: .grpc)]))
    Defaults.standard.apply(to: &worker)
    #expect(worker.metadata.namespace == "default")
    #expect(worker.spec.runtime == .openclaw)
    #expect(worker.spec.workerName == "alice")
    #expect(worker.spec.containerManaged == true)
    #expect(worker.spec.state == .running)
    #expect(worker.spec.mcpServers?.map(\.transport) == [.http, .sse])
    #expect(worker.spec.expose?.map(\.protocol) == [.http, .grpc])
    #expect(worker.spec.remoteSkills?.first?.authType == RemoteSkillAuthType.anonymous)
    #expect(worker.status == WorkerStatus())
  }

  @Test("the worker runtime default is configurable (environment passed in)")
  func configurableRuntime() {
    let defaults = Defaults(environment: ["HICLAW_DEFAULT_WORKER_RUNTIME": "CoPaw", "HICLAW_MANAGER_RUNTIME": ""])
    #expect(defaults.workerRuntime == .copaw)
    #expect(defaults.managerRuntime == .openclaw)
    let worker = defaults.applied(to: Worker(metadata: ObjectMeta(name: "w"), spec: WorkerSpec(model: "m")))
    #expect(worker.spec.runtime == .copaw)
    let team = defaults.applied(to: Self.bareTeam)
    #expect(team.spec.workers?.map(\.runtime) == [.copaw, .hermes])
    #expect(Defaults(environment: [:]) == Defaults.standard)
  }

  @Test("user values are never overwritten")
  func keepsUserValues() {
    let worker = Fixtures.fullWorker
    #expect(Defaults.standard.applied(to: worker) == worker)
    var human = Fixtures.fullHuman
    #expect(Defaults.standard.applied(to: human).spec.username == "dana.s")
    human.spec.username = ""
    #expect(Defaults.standard.applied(to: human).spec.username == "dana")
    let manager = Fixtures.fullManager
    #expect(Defaults.standard.applied(to: manager) == manager)
  }

  @Test("team defaults")
  func team() {
    let team = Defaults.standard.applied(to: Self.bareTeam)
    #expect(team.metadata.namespace == "default")
    #expect(team.spec.teamName == "alpha")
    #expect(team.spec.peerMentions == true)
    #expect(team.spec.humanMembers?.first?.role == .coordinator)
    #expect(team.spec.leader.workerName == "lead")
    #expect(team.spec.leader.state == .running)
    #expect(team.spec.leader.mcpServers?.first?.transport == .http)
    #expect(team.spec.workers?.map(\.workerName) == ["w1", "custom"])
    #expect(team.spec.workers?.map(\.runtime) == [.openclaw, .hermes])
    #expect(team.spec.workers?.map(\.state) == [.running, .stopped])
    #expect(team.spec.workers?.first?.expose?.first?.protocol == .http)
    #expect(team.spec.workers?.first?.remoteSkills?.first?.authType == .nacos)
  }

  @Test("human and manager defaults")
  func humanAndManager() {
    let human = Defaults.standard.applied(
      to: Human(metadata: ObjectMeta(name: "dana"), spec: HumanSpec(displayName: "D", permissionLevel: 3)))
    #expect(human.spec.username == "dana")
    let manager = Defaults.standard.applied(to: Manager(metadata: ObjectMeta(name: "default"), spec: ManagerSpec(model: "m")))
    #expect(manager.spec.runtime == .openclaw)
    #expect(manager.spec.state == .running)
    #expect(manager.spec.config == ManagerConfig(heartbeatInterval: "15m", workerIdleTimeout: "720m", notifyChannel: "admin-dm"))
    let partial = Defaults(managerRuntime: .copaw).applied(
      to: Manager(metadata: ObjectMeta(name: "default"), spec: ManagerSpec(model: "m", config: ManagerConfig(workerIdleTimeout: "2h"))))
    #expect(partial.spec.runtime == .copaw)
    #expect(partial.spec.config == ManagerConfig(heartbeatInterval: "15m", workerIdleTimeout: "2h", notifyChannel: "admin-dm"))
  }

  @Test("applying twice equals applying once", arguments: [
    AnyResource.team(DefaultsTests.bareTeam),
    .worker(Worker(metadata: ObjectMeta(name: "w", namespace: ""), spec: WorkerSpec(model: "m", expose: [ExposePort(port: 1)]))),
    .human(Human(metadata: ObjectMeta(name: "h"), spec: HumanSpec(displayName: "H", permissionLevel: 1))),
    .manager(Manager(metadata: ObjectMeta(name: "default"), spec: ManagerSpec(model: "m"))),
  ] + Fixtures.all)
  func idempotent(resource: AnyResource) {
    let once = Defaults.standard.applied(to: resource)
    let twice = Defaults.standard.applied(to: once)
    #expect(once == twice)
    #expect(Validation.validate(once) == Validation.validate(resource))
  }

  @Test("empty strings count as absent")
  func emptyStrings() {
    let worker = Defaults.standard.applied(
      to: Worker(metadata: ObjectMeta(name: "w"), spec: WorkerSpec(model: "m", runtime: "", workerName: "", state: "")))
    #expect(worker.spec.runtime == .openclaw)
    #expect(worker.spec.workerName == "w")
    #expect(worker.spec.state == .running)
  }
}
