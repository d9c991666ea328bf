import DriverHost
import DriverProtocols
import Foundation
import Logging
import Model
import Store

/// Settings shared by the reconcilers.
public struct ReconcileSettings: Sendable {
  /// Runtime and image defaults (spec §5.1).
  public var defaults: Defaults = .standard
  /// Image per runtime when the spec names none.
  public var images: [Runtime: String] = [
    .openclaw: "hiclaw/worker-agent:latest",
    .copaw: "hiclaw/copaw-worker:latest",
    .hermes: "hiclaw/hermes-worker:latest",
  ]
  /// The image of runtimes not in ``images``.
  public var fallbackImage = "hiclaw/worker-agent:latest"
  /// The image of Managers when the spec names none.
  public var managerImage = "hiclaw/manager-agent:latest"
  /// Added to every agent's environment (`HICLAW_CONTROLLER_URL`, …).
  public var environment: [String: String] = [:]
  /// Periodic re-check of objects that converged (drift repair).
  public var resyncInterval: Duration = .seconds(300)
  /// Value of the `hiclaw.io/controller` label on every instance (multi-host isolation).
  public var controllerName = "hiclaw"

  public init() {}

  func image(for runtime: Runtime?) -> String {
    images[runtime ?? defaults.workerRuntime] ?? fallbackImage
  }
}

/// Labels hiclaw puts on instances.
enum InstanceLabel {
  static let specHash = "hiclaw.io/spec-hash"
  static let controller = "hiclaw.io/controller"
  static let role = "hiclaw.io/role"
  static let worker = "hiclaw.io/worker"
  static let team = "hiclaw.io/team"
  static let manager = "hiclaw.io/manager"
  static let runtime = "hiclaw.io/runtime"
  /// The object that owns the instance (`worker/alice`, `team/alpha`): two objects whose agents
  /// share a runtime name must not take each other's container (see ``AgentMachinery``).
  static let owner = "hiclaw.io/owner"
}

/// What one agent's container should be.
struct AgentPlan: Sendable {
  var subject: AgentSubject
  var instanceName: String
  var image: String
  var environment: [String: String]
  var labels: [String: String]
  var desired: DesiredState
  /// The hash of the user-authored inputs that need a new container when they change (the
  /// spec without `state`). Stored as an instance label, so change detection travels with the
  /// instance and survives a host crash at any point.
  var specHash: String
  var containerManaged: Bool
  /// The command, when a runtime driver rendered one (nil keeps the image's).
  var command: [String]? = nil
  /// The ports the agent listens on, when a runtime driver rendered them.
  var ports: [WorkerBackendV1.Port]? = nil
  /// The object has never been reconciled (its status is empty), so its instance most likely
  /// does not exist: create it straight away instead of inspecting first.
  var createFirst = false
}

/// The parts of a `render` answer that shape the container (hashed into the spec-hash label).
private struct RenderedContainer: Encodable {
  var image: String
  var command: [String]?
  var ports: [AgentRuntimeV1.Port]
  var env: [String: String]

  init(_ rendered: AgentRuntimeV1.RenderResponse) {
    image = rendered.image
    command = rendered.command
    ports = rendered.ports
    env = rendered.env
  }
}

/// What the container is now.
struct AgentObservation: Sendable, Hashable {
  /// The instance state (`running`, `stopped`, …), nil when there is no instance.
  var containerState: String?
  /// The phase this implies for the desired state.
  var phase: Phase
  /// A new container was created in this pass (its agent has not reported ready yet).
  var recreated: Bool
}

/// The parts every agent reconcile uses: the store, the backend, the provisioners.
struct AgentMachinery: Sendable {
  let store: Store
  let backend: any WorkerBackend
  let provisioners: Provisioners
  let runtimes: RuntimeDrivers
  let settings: ReconcileSettings
  let logger: Logger

  /// Drives the agent's container to `plan` (upstream spec §3.6 A.4, with the change test done on
  /// the instance's spec-hash label instead of `generation`):
  /// desired `Stopped` ⇒ delete; `Sleeping` ⇒ stop if running; `Running` ⇒ create if absent,
  /// delete + create if the spec hash differs, start if not running.
  func ensureContainer(_ plan: AgentPlan, owner: ObjectKey) async throws -> AgentObservation {
    guard plan.containerManaged else {
      return AgentObservation(containerState: nil, phase: Phase(reached: plan.desired), recreated: false)
    }
    if plan.desired == .stopped {
      if let existing = try await backend.inspect(plan.instanceName) {
        try checkOwner(existing, plan.subject)
        try await backend.delete(plan.instanceName)
        event(owner, .normal, "Deleted", "deleted instance \(plan.instanceName) (desired state Stopped)")
      }
      return AgentObservation(containerState: nil, phase: .stopped, recreated: false)
    }
    var current: WorkerBackendV1.InstanceStatus?
    var recreated = false
    // A first reconcile creates without looking; `createIfAbsent` changes nothing if an instance
    // exists (say, created before a crash that lost the status write), and the checks below
    // then run on it as on any other.
    if plan.createFirst, let created = try await backend.createIfAbsent(createRequest(plan)) {
      current = created
      recreated = true
      event(owner, .normal, "Created", "created instance \(plan.instanceName) (\(created.id)) from \(plan.image)")
    } else {
      current = try await backend.inspect(plan.instanceName)
    }
    if !recreated, let existing = current { try checkOwner(existing, plan.subject) }
    if !recreated, let existing = current, existing.labels[InstanceLabel.specHash] != plan.specHash {
      try await backend.delete(plan.instanceName)
      event(owner, .normal, "Recreating", "the spec of \(plan.subject.runtimeName) changed: deleted instance \(existing.id)")
      current = nil
    }
    if current == nil {
      current = try await backend.create(createRequest(plan))
      recreated = true
      event(owner, .normal, "Created", "created instance \(plan.instanceName) (\(current?.id ?? "?")) from \(plan.image)")
    }
    guard var instance = current else { throw DriverCallErrorShim.vanished(plan.instanceName) }
    switch plan.desired {
    case .sleeping:
      if instance.state == .running {
        instance = try await backend.stop(plan.instanceName)
        event(owner, .normal, "Stopped", "stopped instance \(plan.instanceName) (desired state Sleeping)")
      }
      return AgentObservation(containerState: instance.state.rawValue, phase: .sleeping, recreated: recreated)
    default:
      if instance.state != .running {
        instance = try await backend.start(plan.instanceName)
        if !recreated { event(owner, .normal, "Started", "started instance \(plan.instanceName)") }
      }
      let phase: Phase = instance.state == .running ? .running : .pending
      return AgentObservation(containerState: instance.state.rawValue, phase: phase, recreated: recreated)
    }
  }

  /// Refuses an instance another object owns: a standalone Worker and a Team member (or members
  /// of two Teams) with one runtime name would otherwise delete and recreate each other's
  /// container forever. Terminal: only renaming one of them (`workerName`) fixes it.
  private func checkOwner(_ instance: WorkerBackendV1.InstanceStatus, _ subject: AgentSubject) throws {
    if let owner = instance.labels[InstanceLabel.owner], owner != subject.owner {
      throw TerminalError(reason: "RuntimeNameInUse",
        "the runtime name \(subject.runtimeName) is already used by \(owner) (instance \(instance.name)); give one of them another spec.workerName")
    }
  }

  private func createRequest(_ plan: AgentPlan) -> WorkerBackendV1.CreateRequest {
    var labels = plan.labels
    labels[InstanceLabel.owner] = plan.subject.owner
    labels[InstanceLabel.specHash] = plan.specHash
    labels[InstanceLabel.controller] = settings.controllerName
    // Running is the usual goal: one call creates and starts (a backend that ignores `start`
    // returns the instance stopped, and ensureContainer starts it as before).
    return WorkerBackendV1.CreateRequest(
      name: plan.instanceName, image: plan.image, command: plan.command, env: plan.environment, labels: labels,
      ports: plan.ports, start: plan.desired == .running ? true : nil)
  }

  /// Lets the driver of `runtime`, if one is loaded, shape the agent's container: its `render`
  /// answer sets the image (unless the user named one), the command and the ports, adds its
  /// environment for keys neither hiclaw nor the user set (hiclaw's values are never
  /// overridden, and the user's win over the runtime's defaults), and its files go to
  /// ``Provisioners/files``. Without a driver the plan keeps the host's defaults. Nothing is
  /// rendered for a container that is to be deleted (desired `Stopped`) or not managed.
  ///
  /// What the answer puts into the container (image, command, ports, env; not the files, which
  /// reach the agent through storage) is hashed into the plan's spec hash, the instance label
  /// that decides recreation: installing, upgrading or removing a runtime driver reshapes the
  /// containers whose rendering changes, and only those.
  ///
  /// The request carries the member's spec (with defaults applied) and, in `context`, who the
  /// agent is and the names of the environment variables that hold the credentials hiclaw
  /// provisions (`secret_env`): rendered files refer to those variables; the agent's token and
  /// provisioned keys are never sent to a runtime driver (what the user wrote in the spec is).
  func applyRuntime(
    _ runtime: Runtime, memberName: String, spec: some Encodable, userImage: String?, provisioned: ProvisionedAgent,
    to plan: inout AgentPlan
  ) async throws {
    guard plan.containerManaged, plan.desired != .stopped, runtimes.serves(runtime) else { return }
    let specValue = try JSONValue(encoding: spec).objectValue ?? [:]
    var agent: [String: JSONValue] = [
      "name": .string(plan.subject.runtimeName), "owner": .string(plan.subject.owner),
      "role": .string(plan.subject.role.rawValue),
    ]
    if let team = plan.subject.team { agent["team"] = .string(team) }
    if let user = provisioned.matrixUserID { agent["matrix_user_id"] = .string(user) }
    if let room = provisioned.roomID { agent["room_id"] = .string(room) }
    let secretEnvironment = (["HICLAW_AUTH_TOKEN"] + provisioned.environment.keys.sorted()).map(JSONValue.string)
    let request = AgentRuntimeV1.RenderRequest(
      worker: AgentRuntimeV1.Worker(name: memberName, spec: specValue),
      context: ["agent": .object(agent), "secret_env": .array(secretEnvironment)])
    guard let rendered = try await runtimes.render(runtime, request) else { return }
    plan.specHash += "-" + SpecHash.of(RenderedContainer(rendered))
    if userImage == nil, !rendered.image.isEmpty { plan.image = rendered.image }
    for (key, value) in rendered.env where plan.environment[key] == nil { plan.environment[key] = value }
    plan.command = rendered.command
    plan.ports = rendered.ports.isEmpty
      ? nil : rendered.ports.map { WorkerBackendV1.Port(name: $0.name, container: $0.container, protocol: $0.protocol) }
    try await provisioners.files.publish(rendered.files, for: plan.subject)
  }

  /// Tears one agent down, in the upstream order (spec §3.6 A, delete): infrastructure
  /// (gateway, storage, Matrix — the reverse of provisioning), then the container, then its
  /// API token. Every step is idempotent, so a crash mid-way just repeats the steps.
  func teardown(_ subject: AgentSubject, instanceName: String, owner: ObjectKey) async throws {
    if let instance = try await backend.inspect(instanceName), let other = instance.labels[InstanceLabel.owner],
      other != subject.owner
    {
      // Another object's agent under the same runtime name: its container and accounts stay.
      try await revokeAgentToken(subject)
      event(owner, .normal, "Skipped", "instance \(instanceName) belongs to \(other): left alone")
      return
    }
    try await provisioners.deprovision(subject)
    try await backend.delete(instanceName)
    try await revokeAgentToken(subject)
    event(owner, .normal, "Deleted", "deleted instance \(instanceName) and the infrastructure of \(subject.runtimeName)")
  }

  /// The agent's environment: settings, provisioning results, its API token, then the user's
  /// `env` for keys not already set (upstream rule: user env never overrides hiclaw's).
  func environment(_ subject: AgentSubject, provisioned: ProvisionedAgent, memberName: String, user: [String: String]?)
    async throws -> [String: String]
  {
    var env = settings.environment
    env["HICLAW_WORKER_NAME"] = subject.runtimeName
    env["HICLAW_WORKER_CR_NAME"] = memberName
    for (key, value) in provisioned.environment { env[key] = value }
    env["HICLAW_AUTH_TOKEN"] = try await agentToken(subject, memberName: memberName)
    for (key, value) in user ?? [:] where env[key] == nil { env[key] = value }
    return env
  }

  // MARK: API tokens of agents

  private func tokenSecretName(_ subject: AgentSubject) -> String { "agent-token/\(subject.owner)/\(subject.runtimeName)" }

  /// The agent's API token (role `worker` with its member name, `team-leader` with its team, or
  /// `manager`), minted once and kept encrypted in the store so that a recreated container gets
  /// the same one.
  func agentToken(_ subject: AgentSubject, memberName: String) async throws -> String {
    let secretName = tokenSecretName(subject)
    if let stored = try await store.secret(secretName)?.string, let token = stored.split(separator: " ").last {
      return String(token)
    }
    let (role, tokenSubject): (String, String) =
      switch subject.role {
      case .worker: ("worker", memberName)
      case .teamLeader: ("team-leader", subject.team ?? "")
      case .manager: ("manager", memberName)
      }
    // Kept as "<id> <token>" (the id is what revocation needs), in the token's own transaction.
    return try await store.createToken(role: role, subject: tokenSubject, keptIn: secretName).token
  }

  func revokeAgentToken(_ subject: AgentSubject) async throws {
    let secretName = tokenSecretName(subject)
    guard let stored = try await store.secret(secretName)?.string else { return }
    if let id = stored.split(separator: " ").first { _ = try await store.revokeToken(id: String(id)) }
    _ = try await store.deleteSecret(secretName)
  }

  // MARK: Events

  /// Records an Event without waiting for its commit (it commits in order with the reconcile's
  /// later writes, so a status that says what happened is never visible before the Event).
  func event(_ key: ObjectKey, _ type: RecordedEvent.EventType, _ reason: String, _ message: String) {
    let logger = logger
    store.recordEventWithoutWaiting(for: key, type: type, reason: reason, message: message) { error in
      logger.debug("could not record an event", metadata: ["key": "\(key)", "error": "\(error)"])
    }
  }
}

enum DriverCallErrorShim {
  static func vanished(_ name: String) -> TerminalError {
    TerminalError(reason: "BackendInconsistent", "the backend created \(name) but does not report it")
  }
}

extension Error {
  /// Whether retrying the same thing cannot help.
  var isTerminalBackendError: Bool {
    if let error = self as? DriverCallError { return error.isTerminal }
    return self is TerminalError
  }
}
