import Foundation
import Hummingbird
import Model
import ResourceStore
import Store
import Synchronization

/// Where a worker name resolves for the lifecycle endpoints.
///
/// A standalone Worker wins over a Team member of the same name (the reconciler marks such a
/// Team `Failed`, so the standalone Worker is the one that runs). Members are looked up by
/// member name (`spec.leader.name`, `spec.workers[].name`), not by `workerName`, in the Teams of
/// the default namespace in name order; the first Team that has the name wins.
enum LifecycleTarget: Sendable {
  case worker(Worker)
  case member(team: Team, role: MemberRole)

  /// The object a write to this target changes (what ``KeyedSerializer`` serialises on).
  var lockKey: String {
    switch self {
    case .worker(let worker): "Worker/\(worker.metadata.name)"
    case .member(let team, _): "Team/\(team.metadata.name)"
    }
  }

  /// The `metadata.name` of the Team, for a member.
  var teamName: String? {
    if case .member(let team, _) = self { return team.metadata.name }
    return nil
  }
}

/// `{"name","phase"}`: the answer of wake, sleep and ensure-ready.
struct LifecyclePhase: Encodable {
  var name: String
  var phase: String
}

/// `{"name","team","role","phase","state","ready","message"}`: `GET /api/v1/workers/{name}/status`.
/// `team` and `message` are `null` when there is none (always present, so clients see the shape).
struct LifecycleStatus: Encodable {
  var name: String
  var team: String?
  /// `worker` (a standalone Worker or a team worker) or `team_leader`.
  var role: String
  var phase: String
  /// The desired state (`Running`, `Sleeping`, `Stopped`).
  var state: String
  var ready: Bool
  var message: String?

  enum CodingKeys: String, CodingKey { case name, team, role, phase, state, ready, message }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(name, forKey: .name)
    try container.encode(team, forKey: .team)
    try container.encode(role, forKey: .role)
    try container.encode(phase, forKey: .phase)
    try container.encode(state, forKey: .state)
    try container.encode(ready, forKey: .ready)
    try container.encode(message, forKey: .message)
  }
}

extension APIServer {
  /// The condition a Worker's agent sets through `POST …/ready`.
  static let readyCondition = "Ready"

  /// The lifecycle endpoints, for standalone Workers and Team members alike.
  ///
  /// Each attempt resolves the name, authorizes against where it resolved (a team leader only
  /// for members of its team), and writes with the version it read as precondition; if another
  /// writer got there first, the whole attempt is repeated on a fresh read (up to
  /// ``writeAttempts`` times, then 409).
  func lifecycle(_ call: Call, verb: LifecycleVerb, name: String) async throws -> Response {
    for attempt in 1...Self.writeAttempts {
      let found = try await resolveWorker(name)
      try authorize(call, .lifecycle(verb, worker: name, team: found?.teamName))
      guard let found else {
        throw APIError(.notFound, "no Worker and no Team member is named \(name.debugDescription)",
          details: APIError.Details(kind: Kind.worker.rawValue, name: name))
      }
      if verb == .status { return JSONResponse.make(status: .ok, Self.summary(of: found, name: name)) }
      do {
        return try await lifecycleWrites.run(found.lockKey) {
          // Read again under the lock: the writes ahead of this one changed the object.
          guard let target = try await resolveWorker(name), target.lockKey == found.lockKey,
            target.teamName == found.teamName
          else {
            throw StoreError(.conflict, "\(name) moved while waiting", fix: "retry")
          }
          return try await lifecycleWrite(verb, target: target, name: name)
        }
      } catch let error as StoreError
        where (error.code == .conflict || error.code == .notFound) && attempt < Self.writeAttempts
      {
        continue
      }
    }
    throw APIError(.conflict, "the worker \(name.debugDescription) kept changing; retry",
      details: APIError.Details(kind: Kind.worker.rawValue, name: name))
  }

  /// One lifecycle write on a freshly read target (called under the target's lock).
  private func lifecycleWrite(_ verb: LifecycleVerb, target: LifecycleTarget, name: String) async throws -> Response {
    switch verb {
    case .status:
      return JSONResponse.make(status: .ok, Self.summary(of: target, name: name))
    case .wake:
      _ = try await setDesiredState(.running, of: target, name: name)
      return JSONResponse.make(status: .ok, LifecyclePhase(name: name, phase: DesiredState.running.rawValue))
    case .sleep:
      _ = try await setDesiredState(.sleeping, of: target, name: name)
      return JSONResponse.make(status: .ok, LifecyclePhase(name: name, phase: DesiredState.sleeping.rawValue))
    case .ensureReady:
      let after = try await setDesiredState(.running, of: target, name: name, onlyFrom: [.sleeping, .stopped])
      return JSONResponse.make(status: .ok, LifecyclePhase(name: name, phase: Self.summary(of: after, name: name).phase))
    case .ready:
      try await markReady(target, name: name)
      return Response(status: .noContent)
    }
  }

  /// See ``LifecycleTarget``.
  func resolveWorker(_ name: String) async throws -> LifecycleTarget? {
    if let worker = try await store.find(Worker.self, name) { return .worker(worker) }
    for team in try await store.list(Team.self) where team.metadata.namespace == ObjectMeta.defaultNamespace {
      if team.spec.leader.name == name { return .member(team: team, role: .teamLeader) }
      if team.spec.workers?.contains(where: { $0.name == name }) == true { return .member(team: team, role: .worker) }
    }
    return nil
  }

  // MARK: Desired state

  /// Writes `state` into the Worker's `spec.state` or the member's `state` (read-modify-write
  /// with the version read as precondition). Nothing is written if the state is already
  /// `state`, or (with `onlyFrom`) if the current state is not one of those.
  ///
  /// When a Team member's state changes, its reported readiness is cleared too (the agent must
  /// report again once it runs in its new state); a Worker's readiness needs no write, since a
  /// `Ready` condition only counts for the generation it was reported at and the state change
  /// bumps the generation.
  /// - Returns: the target as stored afterwards.
  func setDesiredState(_ state: DesiredState, of target: LifecycleTarget, name: String, onlyFrom: [DesiredState]? = nil)
    async throws -> LifecycleTarget
  {
    func shouldChange(_ current: DesiredState?) -> Bool {
      let current = current ?? .running
      return current != state && (onlyFrom?.contains(current) ?? true)
    }
    switch target {
    case .worker(var worker):
      guard shouldChange(worker.spec.state) else { return target }
      worker.spec.state = state
      let stored = try await store.update(StoredObject(resource: .worker(worker)))
      return .worker(try stored.resource(as: Worker.self))
    case .member(var team, let role):
      if role == .teamLeader {
        guard shouldChange(team.spec.leader.state) else { return target }
        team.spec.leader.state = state
      } else {
        guard var workers = team.spec.workers, let index = workers.firstIndex(where: { $0.name == name }),
          shouldChange(workers[index].state)
        else { return target }
        workers[index].state = state
        team.spec.workers = workers
      }
      let stored = try await store.update(StoredObject(resource: .team(team)))
      var updated = try stored.resource(as: Team.self)
      updated = try await setMemberReady(false, teamName: updated.metadata.name, member: name) ?? updated
      return .member(team: updated, role: role)
    }
  }

  // MARK: Readiness

  /// `POST …/ready`: persists that the agent reported itself ready.
  func markReady(_ target: LifecycleTarget, name: String) async throws {
    switch target {
    case .worker(var worker):
      worker.status.setCondition(Condition(
        type: Self.readyCondition, status: .true, reason: "AgentReported", message: "the agent reported itself ready",
        observedGeneration: worker.metadata.generation))
      // Equal status: the store writes nothing, so a heartbeat loop calling this is free.
      try await store.writeStatus(worker)
    case .member(var team, _):
      Self.setReady(true, member: name, in: &team)
      try await store.writeStatus(team)
    }
  }

  /// Sets a member's `ready` in its Team's status, retrying on conflicts with other status
  /// writers. Returns the Team as stored, or `nil` if it (or the member) is gone.
  func setMemberReady(_ ready: Bool, teamName: String, member: String) async throws -> Team? {
    for attempt in 1...Self.writeAttempts {
      guard var team = try await store.find(Team.self, teamName) else { return nil }
      let isMember = team.spec.leader.name == member || team.spec.workers?.contains { $0.name == member } == true
      guard isMember else { return nil }
      let before = team.status
      Self.setReady(ready, member: member, in: &team)
      if team.status == before { return team }
      // (A `catch where` on the typed error here crashes the Swift 6.1 SIL ownership verifier.)
      let written: Team?
      do {
        written = try await store.writeStatus(team).resource(as: Team.self)
      } catch {
        guard error.code == .conflict, attempt < Self.writeAttempts else { throw error }
        written = nil
      }
      if let written { return written }
    }
    return nil
  }

  /// Sets `status.members[member].ready` (adding the entry, kept sorted by name, if absent) and
  /// keeps the aggregates `leaderReady` and `readyWorkers` in step. Clearing the readiness of
  /// a member without an entry adds nothing.
  static func setReady(_ ready: Bool, member: String, in team: inout Team) {
    var members = team.status.members ?? []
    let isLeader = team.spec.leader.name == member
    if let index = members.firstIndex(where: { $0.name == member }) {
      members[index].ready = ready
    } else if ready {
      let runtimeName =
        isLeader ? team.spec.leader.runtimeName : team.spec.workers?.first { $0.name == member }?.runtimeName
      members.append(TeamMemberStatus(name: member, runtimeName: runtimeName, role: isLeader ? .teamLeader : .worker, ready: true))
      members.sort { $0.name < $1.name }
    } else {
      return
    }
    team.status.members = members
    let readyNames = Set(members.filter { $0.ready == true }.map(\.name))
    team.status.leaderReady = readyNames.contains(team.spec.leader.name)
    team.status.readyWorkers = (team.spec.workers ?? []).filter { readyNames.contains($0.name) }.count
  }

  // MARK: Summary

  /// The lifecycle view of a target.
  ///
  /// `phase`: `Ready` when the observed phase is `Running` and the agent reported ready; else
  /// the observed phase, except that an agent desired `Running` but observed `Sleeping` or
  /// `Stopped` reads `Pending` (it is being woken). The observed phase of a Worker is its
  /// `status.phase` (`Pending` before the first reconcile). A Team member has no phase of its
  /// own, so it is derived from its status entry: the desired state reached when the entry's
  /// `specHash` equals the member's current ``SpecHash`` (the reconciler applied exactly this
  /// spec, state included), `Failed` when the Team failed, `Pending` before the first
  /// reconcile of the member, `Updating` while a newer spec waits to be applied.
  ///
  /// `ready`: for a Worker, a `Ready` condition with status `True` reported at the current
  /// generation (a spec change — a new container — needs a new report); for a member, its
  /// status entry's `ready`.
  static func summary(of target: LifecycleTarget, name: String) -> LifecycleStatus {
    let state: DesiredState
    let observed: Phase
    let ready: Bool
    let message: String?
    let role: MemberRole
    switch target {
    case .worker(let worker):
      state = worker.spec.state ?? .running
      observed = worker.status.phase ?? .pending
      let condition = worker.status.condition(readyCondition)
      ready = condition?.status == .true
        && (condition?.observedGeneration == nil || condition?.observedGeneration == worker.metadata.generation)
      message = worker.status.message
      role = .worker
    case .member(let team, let memberRole):
      role = memberRole
      let hash: String
      if memberRole == .teamLeader {
        state = team.spec.leader.state ?? .running
        hash = SpecHash.leader(of: team.spec)
      } else {
        let spec = team.spec.workers?.first { $0.name == name }
        state = spec?.state ?? .running
        hash = spec.map { SpecHash.worker($0, of: team.spec) } ?? ""
      }
      let entry = team.status.members?.first { $0.name == name }
      if let applied = entry?.specHash, applied == hash {
        // The member's spec is applied; whether its desired state is reached is what the
        // reconciler last saw the container do (older statuses have no phase: trust the hash).
        let reached = entry?.phase ?? Phase(reached: state)
        observed = reached == Phase(reached: state) || reached == .pending ? reached : .updating
      } else if team.status.phase == .failed {
        observed = .failed
      } else if entry?.specHash == nil {
        observed = .pending
      } else {
        observed = .updating
      }
      ready = entry?.ready == true
      message = team.status.message
    }
    let phase: Phase
    if observed == .running && ready {
      phase = "Ready"
    } else if state == .running && (observed == .sleeping || observed == .stopped) {
      phase = .pending
    } else {
      phase = observed
    }
    return LifecycleStatus(
      name: name, team: target.teamName, role: role.rawValue, phase: phase.rawValue, state: state.rawValue, ready: ready,
      message: message)
  }
}

/// Runs lifecycle writes to the same object one at a time within this server.
///
/// Why: the agents of a Team start together and each reports `ready` into the same Team
/// object; with optimistic concurrency alone, N concurrent writers to one object need up to N
/// rounds of conflicts and retries. Serialising them here leaves conflicts only with writers
/// outside the API server (the reconciler), which the retry loop absorbs.
///
/// Waiting is FIFO per key and not cancellable (a waiter waits at most for the writes ahead of
/// it, each a few store round trips).
final class KeyedSerializer: Sendable {
  /// Held keys, with the continuations waiting for each.
  private let state = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

  func run<T>(_ key: String, _ body: () async throws -> T) async throws -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let acquired = state.withLock { held -> Bool in
        if held[key] == nil {
          held[key] = []
          return true
        }
        held[key]!.append(continuation)
        return false
      }
      if acquired { continuation.resume() }
    }
    defer {
      let next = state.withLock { held -> CheckedContinuation<Void, Never>? in
        guard var waiters = held[key], !waiters.isEmpty else {
          held[key] = nil
          return nil
        }
        let first = waiters.removeFirst()
        held[key] = waiters
        return first
      }
      next?.resume()
    }
    return try await body()
  }
}
