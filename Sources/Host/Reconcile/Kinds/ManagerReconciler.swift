import Foundation
import Logging
import Model
import ResourceStore
import Store

/// Reconciles Managers (upstream spec §3.6 D, without the onboarding welcome, which needs the
/// Matrix layer): finalizer, provisioning, container `hiclaw-manager` (CR `default`) or
/// `hiclaw-manager-<name>`, status.
public struct ManagerReconciler: Reconciler {
  public var kind: Kind { .manager }
  let machinery: AgentMachinery

  public init(store: Store, backend: any WorkerBackend, provisioners: Provisioners = .noOp,
    runtimes: RuntimeDrivers = .none, settings: ReconcileSettings = ReconcileSettings(), logger: Logger)
  {
    machinery = AgentMachinery(
      store: store, backend: backend, provisioners: provisioners, runtimes: runtimes, settings: settings, logger: logger)
  }

  public static func instanceName(_ manager: Manager) -> String {
    manager.name == "default" ? "hiclaw-manager" : "hiclaw-manager-\(manager.name)"
  }

  static func subject(_ manager: Manager) -> AgentSubject {
    // The Matrix localpart of every Manager is `manager` (upstream); storage and tokens are per CR.
    AgentSubject(owner: "manager/\(manager.name)", runtimeName: manager.name, role: .manager)
  }

  public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
    let machinery = machinery
    return try await SingleAgentReconcile<Manager>(
      machinery: machinery, subject: Self.subject, instanceName: Self.instanceName,
      plan: { manager, provisioned in
        let spec = machinery.settings.defaults.applied(to: manager).spec
        let subject = Self.subject(manager)
        var hashed = spec
        hashed.state = nil
        var environment = try await machinery.environment(subject, provisioned: provisioned, memberName: manager.name, user: spec.env)
        environment["HICLAW_MANAGER_NAME"] = manager.name
        var plan = AgentPlan(
          subject: subject, instanceName: Self.instanceName(manager),
          image: spec.image?.nonEmpty ?? machinery.settings.managerImage, environment: environment,
          labels: (spec.labels ?? [:]).merging([
            InstanceLabel.manager: manager.name, InstanceLabel.role: "manager",
            InstanceLabel.runtime: (spec.runtime ?? machinery.settings.defaults.managerRuntime).rawValue,
          ]) { _, hiclaw in hiclaw },
          desired: spec.state ?? .running, specHash: SpecHash.of(hashed), containerManaged: true)
        try await machinery.applyRuntime(
          spec.runtime ?? machinery.settings.defaults.managerRuntime, memberName: manager.name, spec: spec,
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

/// Reconciles Humans. Their Matrix account and room memberships belong to the Matrix layer
/// (a later issue); until then the reconciler owns the finalizer and the phase only.
public struct HumanReconciler: Reconciler {
  public var kind: Kind { .human }
  let store: Store

  public init(store: Store) { self.store = store }

  public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
    guard var human = try await store.find(key)?.resource(as: Human.self) else { return .done }
    if human.metadata.deletionTimestamp != nil {
      if human.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) {
        _ = try await store.removeFinalizer(key, ObjectMeta.cleanupFinalizer)
      }
      return .done
    }
    if !human.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) {
      human = try await store.addFinalizer(key, ObjectMeta.cleanupFinalizer).resource(as: Human.self)
    }
    var status = human.status
    status.phase = .active
    status.observedGeneration = human.metadata.generation
    status.message = nil
    status.setCondition(Condition(type: "Reconciled", status: .true, reason: "Converged",
      observedGeneration: human.metadata.generation))
    if status != human.status {
      human.status = status
      try await store.writeStatus(human)
    }
    return .done
  }
}
