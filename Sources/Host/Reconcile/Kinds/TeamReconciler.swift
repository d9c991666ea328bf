import Foundation
import Logging
import Model
import ResourceStore
import Store

/// Reconciles Teams (upstream spec §3.6 B): one agent per member (leader first), each with its
/// own spec hash, so that changing, adding or removing one member never touches the others'
/// containers. Members no longer in the spec are torn down. Errors are collected per member:
/// one failing member does not stop the others, and the Team is `Degraded` until it converges.
public struct TeamReconciler: Reconciler {
  public var kind: Kind { .team }
  let machinery: AgentMachinery

  public init(store: Store, backend: any WorkerBackend, provisioners: Provisioners = .noOp,
    runtimes: RuntimeDrivers = .none, settings: ReconcileSettings = ReconcileSettings(), logger: Logger)
  {
    machinery = AgentMachinery(
      store: store, backend: backend, provisioners: provisioners, runtimes: runtimes, settings: settings, logger: logger)
  }

  /// One member as the reconciler sees it.
  struct Member: Sendable {
    var name: String
    var runtimeName: String
    var role: MemberRole
    var specHash: String
    var model: String?
    var runtime: Runtime
    var image: String?
    var state: DesiredState
    var env: [String: String]?
    var labels: [String: String]?
    /// The member's spec as written (what a runtime driver renders from).
    var spec: MemberSpec
  }

  /// A team member's spec: the leader's or a worker's.
  enum MemberSpec: Encodable, Sendable {
    case leader(LeaderSpec)
    case worker(TeamWorkerSpec)

    func encode(to encoder: any Encoder) throws {
      switch self {
      case .leader(let spec): try spec.encode(to: encoder)
      case .worker(let spec): try spec.encode(to: encoder)
      }
    }
  }

  /// The members the spec asks for, leader first. Hashes leave `state` out (``SpecHash``):
  /// sleeping and waking a member never recreates it.
  static func members(of spec: TeamSpec) -> [Member] {
    let leader = spec.leader
    var members = [
      Member(
        name: leader.name, runtimeName: leader.runtimeName, role: .teamLeader,
        specHash: SpecHash.leader(of: spec), model: leader.model, runtime: .copaw, image: nil,
        state: leader.state ?? .running, env: leader.env, labels: leader.labels, spec: .leader(leader))
    ]
    for worker in spec.workers ?? [] {
      members.append(Member(
        name: worker.name, runtimeName: worker.runtimeName, role: .worker,
        specHash: SpecHash.worker(worker, of: spec), model: worker.model, runtime: worker.runtime ?? .copaw,
        image: worker.image, state: worker.state ?? .running, env: worker.env, labels: worker.labels, spec: .worker(worker)))
    }
    return members
  }

  static func instanceName(runtimeName: String) -> String { "hiclaw-worker-\(runtimeName)" }

  static func subject(team: Team, runtimeName: String, role: MemberRole) -> AgentSubject {
    AgentSubject(owner: "team/\(team.name)", runtimeName: runtimeName,
      role: role == .teamLeader ? .teamLeader : .worker, team: team.name)
  }

  public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
    let store = machinery.store
    guard var team = try await store.find(key)?.resource(as: Team.self) else { return .done }
    let desired = Self.members(of: machinery.settings.defaults.applied(to: team).spec)

    if team.metadata.deletionTimestamp != nil {
      guard team.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) else { return .done }
      // Everything the Team ever had: what status recorded and what the spec names.
      var runtimeNames: [String: MemberRole] = [:]
      for member in team.status.members ?? [] { runtimeNames[member.runtimeName ?? member.name] = member.role ?? .worker }
      for member in desired { runtimeNames[member.runtimeName] = member.role }
      for (runtimeName, role) in runtimeNames.sorted(by: { $0.key < $1.key }) {
        try await machinery.teardown(Self.subject(team: team, runtimeName: runtimeName, role: role),
          instanceName: Self.instanceName(runtimeName: runtimeName), owner: key)
      }
      _ = try await store.removeFinalizer(key, ObjectMeta.cleanupFinalizer)
      return .done
    }
    if !team.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) {
      team = try await store.addFinalizer(key, ObjectMeta.cleanupFinalizer).resource(as: Team.self)
    }

    var status = team.status
    if status.phase == nil { status.phase = .pending }
    var recorded = Dictionary((status.members ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    var failures: [String] = []

    // Members no longer in the spec go first, so that a renamed member frees its name.
    let desiredNames = Set(desired.map(\.name))
    for stale in (status.members ?? []) where !desiredNames.contains(stale.name) {
      let runtimeName = stale.runtimeName ?? stale.name
      do {
        try await machinery.teardown(Self.subject(team: team, runtimeName: runtimeName, role: stale.role ?? .worker),
          instanceName: Self.instanceName(runtimeName: runtimeName), owner: key)
        recorded[stale.name] = nil
      } catch {
        failures.append("\(stale.name): \(error)")
      }
    }

    var converged = 0
    var leaderReady = false
    var readyWorkers = 0
    for member in desired {
      var memberStatus = recorded[member.name] ?? TeamMemberStatus(name: member.name)
      do {
        // A member whose runtime name (workerName) changed: its old agent goes first, or its
        // container and token would outlive it.
        if let previous = memberStatus.runtimeName, previous != member.runtimeName {
          try await machinery.teardown(Self.subject(team: team, runtimeName: previous, role: memberStatus.role ?? member.role),
            instanceName: Self.instanceName(runtimeName: previous), owner: key)
          memberStatus = TeamMemberStatus(name: member.name)
        }
        let subject = Self.subject(team: team, runtimeName: member.runtimeName, role: member.role)
        let provisioned = try await machinery.provisioners.provision(subject)
        var plan = AgentPlan(
          subject: subject, instanceName: Self.instanceName(runtimeName: member.runtimeName),
          image: member.image?.nonEmpty ?? machinery.settings.image(for: member.runtime),
          environment: try await machinery.environment(subject, provisioned: provisioned, memberName: member.name, user: member.env),
          labels: (member.labels ?? [:]).merging([
            InstanceLabel.worker: member.name, InstanceLabel.team: team.name,
            InstanceLabel.role: member.role.rawValue, InstanceLabel.runtime: member.runtime.rawValue,
          ]) { _, hiclaw in hiclaw },
          desired: member.state, specHash: member.specHash, containerManaged: true)
        try await machinery.applyRuntime(
          member.runtime, memberName: member.name, spec: member.spec, userImage: member.image?.nonEmpty,
          provisioned: provisioned, to: &plan)
        let observed = try await machinery.ensureContainer(plan, owner: key)
        memberStatus.runtimeName = member.runtimeName
        memberStatus.role = member.role
        memberStatus.matrixUserID = provisioned.matrixUserID ?? memberStatus.matrixUserID
        memberStatus.roomID = provisioned.roomID ?? memberStatus.roomID
        // Readiness belongs to the container the agent reported from: a new spec (whether this
        // pass or an interrupted earlier one created its container) or a stopped container
        // clears it. Checked on state, not on what this pass did, so a conflict or a crash
        // between the create and this write cannot keep a stale `ready`.
        if memberStatus.specHash != member.specHash || observed.recreated || observed.phase != .running {
          memberStatus.ready = nil
        }
        memberStatus.specHash = member.specHash
        memberStatus.phase = observed.phase
        memberStatus.observed = true
        if observed.phase == Phase(reached: member.state) { converged += 1 }
        if memberStatus.ready == true {
          if member.role == .teamLeader { leaderReady = true } else { readyWorkers += 1 }
        }
      } catch {
        failures.append("\(member.name): \(error)")
        machinery.event(key, .warning, "MemberFailed", "\(member.name): \(error)")
      }
      recorded[member.name] = memberStatus
    }

    status.members = desired.compactMap { recorded[$0.name] }
      + recorded.values.filter { !desiredNames.contains($0.name) }.sorted { $0.name < $1.name }
    status.leaderReady = leaderReady
    status.readyWorkers = readyWorkers
    status.totalWorkers = desired.count - 1
    if failures.isEmpty {
      // Active once every member is where its desired state says (running, or asleep on purpose).
      status.phase = converged == desired.count ? .active : .pending
      status.message = nil
      status.observedGeneration = team.metadata.generation
      status.setCondition(Condition(type: "Reconciled", status: .true, reason: "Converged",
        observedGeneration: team.metadata.generation))
    } else {
      status.phase = .degraded
      status.message = failures.joined(separator: "; ")
      status.setCondition(Condition(type: "Reconciled", status: .false, reason: "MemberFailed",
        message: status.message ?? "", observedGeneration: team.metadata.generation))
    }
    if status != team.status {
      var updated = team
      updated.status = status
      try await store.writeStatus(updated)
    }
    if !failures.isEmpty { throw MemberFailures(messages: failures) }
    return ReconcileResult(requeueAfter: machinery.settings.resyncInterval)
  }
}

/// Some members of a Team failed; retried with backoff.
struct MemberFailures: Error, CustomStringConvertible {
  var messages: [String]
  var description: String { messages.joined(separator: "; ") }
}
