import Foundation
import Logging
import Model
import ResourceStore
import Store

/// Reconciles standalone Workers (upstream spec §3.6 A): finalizer, provisioning (Matrix →
/// storage → gateway), container, status. Deletion runs the teardown, then drops the finalizer.
public struct WorkerReconciler: Reconciler {
  public var kind: Kind { .worker }
  let machinery: AgentMachinery

  public init(store: Store, backend: any WorkerBackend, provisioners: Provisioners = .noOp,
    settings: ReconcileSettings = ReconcileSettings(), logger: Logger)
  {
    machinery = AgentMachinery(store: store, backend: backend, provisioners: provisioners, settings: settings, logger: logger)
  }

  /// The backend instance of a standalone Worker (upstream's container name).
  public static func instanceName(_ worker: Worker) -> String { "hiclaw-worker-\(worker.runtimeName)" }

  static func subject(_ worker: Worker) -> AgentSubject {
    AgentSubject(owner: "worker/\(worker.name)", runtimeName: worker.runtimeName, role: .worker)
  }

  /// The hash that decides whether the container must be recreated: the spec without `state`
  /// (sleeping and waking never recreate).
  static func specHash(_ spec: WorkerSpec) -> String {
    var hashed = spec
    hashed.state = nil
    return SpecHash.of(hashed)
  }

  public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
    let store = machinery.store
    guard var worker = try await store.find(key)?.resource(as: Worker.self) else { return .done }
    let subject = Self.subject(worker)

    if worker.metadata.deletionTimestamp != nil {
      guard worker.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) else { return .done }
      try await machinery.teardown(subject, instanceName: Self.instanceName(worker), owner: key)
      _ = try await store.removeFinalizer(key, ObjectMeta.cleanupFinalizer)
      return .done
    }
    if !worker.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) {
      // First the finalizer, so that nothing is provisioned that a delete could miss.
      worker = try await store.addFinalizer(key, ObjectMeta.cleanupFinalizer).resource(as: Worker.self)
    }

    let spec = machinery.settings.defaults.applied(to: worker).spec
    var status = worker.status
    do {
      let provisioned = try await machinery.provisioners.provision(subject)
      status.matrixUserID = provisioned.matrixUserID ?? status.matrixUserID
      status.roomID = provisioned.roomID ?? status.roomID
      let plan = AgentPlan(
        subject: subject, instanceName: Self.instanceName(worker),
        image: spec.image?.nonEmpty ?? machinery.settings.image(for: spec.runtime),
        environment: try await machinery.environment(subject, provisioned: provisioned, memberName: worker.name, user: spec.env),
        labels: (spec.labels ?? [:]).merging([
          InstanceLabel.worker: worker.name, InstanceLabel.role: "standalone",
          InstanceLabel.runtime: (spec.runtime ?? machinery.settings.defaults.workerRuntime).rawValue,
        ]) { _, hiclaw in hiclaw },
        desired: spec.state ?? .running, specHash: Self.specHash(spec), containerManaged: spec.containerManaged ?? true)
      let observed = try await machinery.ensureContainer(plan, owner: key)
      status.phase = observed.phase
      status.containerState = observed.containerState
      status.observedGeneration = worker.metadata.generation
      status.message = nil
      status.setCondition(Condition(
        type: "Reconciled", status: .true, reason: "Converged", message: "", observedGeneration: worker.metadata.generation))
      if observed.recreated || observed.phase != .running {
        // A new or stopped container's agent has not said it is ready.
        status.setCondition(Condition(type: "Ready", status: .false, reason: "AgentNotReady",
          message: "waiting for the agent to report ready", observedGeneration: worker.metadata.generation))
      }
    } catch {
      let terminal = error.isTerminalBackendError
      status.message = "\(error)"
      if terminal { status.phase = .failed }
      status.setCondition(Condition(type: "Reconciled", status: .false,
        reason: terminal ? "InvalidRequest" : "BackendError", message: "\(error)", observedGeneration: worker.metadata.generation))
      await machinery.event(key, .warning, "ReconcileFailed", "\(error)")
      try await writeStatus(worker, status)
      if terminal { throw TerminalError(reason: "InvalidRequest", "\(error)") }
      throw error
    }
    try await writeStatus(worker, status)
    return ReconcileResult(requeueAfter: machinery.settings.resyncInterval)
  }

  /// Writes `status` if it differs (an unchanged status writes nothing, so a reconcile that
  /// changes nothing causes no watch event and no further reconcile).
  private func writeStatus(_ worker: Worker, _ status: WorkerStatus) async throws {
    guard status != worker.status else { return }
    var updated = worker
    updated.status = status
    try await machinery.store.writeStatus(updated)
  }
}

extension String {
  var nonEmpty: String? { isEmpty ? nil : self }
}
