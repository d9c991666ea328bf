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
    runtimes: RuntimeDrivers = .none, settings: ReconcileSettings = ReconcileSettings(), logger: Logger)
  {
    machinery = AgentMachinery(
      store: store, backend: backend, provisioners: provisioners, runtimes: runtimes, settings: settings, logger: logger)
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
    let machinery = machinery
    return try await SingleAgentReconcile<Worker>(
      machinery: machinery, subject: Self.subject, instanceName: Self.instanceName,
      plan: { worker, provisioned in
        let spec = machinery.settings.defaults.applied(to: worker).spec
        let subject = Self.subject(worker)
        var plan = AgentPlan(
          subject: subject, instanceName: Self.instanceName(worker),
          image: spec.image?.nonEmpty ?? machinery.settings.image(for: spec.runtime),
          environment: try await machinery.environment(subject, provisioned: provisioned, memberName: worker.name, user: spec.env),
          labels: (spec.labels ?? [:]).merging([
            InstanceLabel.worker: worker.name, InstanceLabel.role: "standalone",
            InstanceLabel.runtime: (spec.runtime ?? machinery.settings.defaults.workerRuntime).rawValue,
          ]) { _, hiclaw in hiclaw },
          desired: spec.state ?? .running, specHash: Self.specHash(spec), containerManaged: spec.containerManaged ?? true)
        try await machinery.applyRuntime(
          spec.runtime ?? machinery.settings.defaults.workerRuntime, memberName: worker.name, spec: spec,
          userImage: spec.image?.nonEmpty, provisioned: provisioned, to: &plan)
        return plan
      },
      record: { observed, provisioned, status in
        status.matrixUserID = provisioned.matrixUserID ?? status.matrixUserID
        status.roomID = provisioned.roomID ?? status.roomID
        status.containerState = observed.containerState
      }
    ).reconcile(key)
  }
}

extension String {
  var nonEmpty: String? { isEmpty ? nil : self }
}
