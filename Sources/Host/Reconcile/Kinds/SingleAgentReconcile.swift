import Foundation
import Model
import ResourceStore
import Store

/// The reconcile shared by the kinds that run exactly one agent (Worker, Manager):
/// read → (deleting: teardown, drop the finalizer) → finalizer → provision → container → status.
struct SingleAgentReconcile<R: Resource> {
  let machinery: AgentMachinery
  /// Who the agent is.
  let subject: @Sendable (R) -> AgentSubject
  /// The backend instance that runs it.
  let instanceName: @Sendable (R) -> String
  /// What its container should be, given what provisioning produced.
  let plan: @Sendable (R, ProvisionedAgent) async throws -> AgentPlan
  /// Copies kind-specific results (Matrix ids, container state) into the status.
  let record: @Sendable (AgentObservation, ProvisionedAgent, inout R.Status) -> Void

  func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
    let store = machinery.store
    guard var resource = try await store.find(key)?.resource(as: R.self) else { return .done }
    let agent = subject(resource)

    if resource.metadata.deletionTimestamp != nil {
      guard resource.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) else { return .done }
      try await machinery.teardown(agent, instanceName: instanceName(resource), owner: key)
      _ = try await store.removeFinalizer(key, ObjectMeta.cleanupFinalizer)
      return .done
    }
    if !resource.metadata.finalizers.contains(ObjectMeta.cleanupFinalizer) {
      // First the finalizer, so that nothing is provisioned that a delete could miss.
      resource = try await store.addFinalizer(key, ObjectMeta.cleanupFinalizer).resource(as: R.self)
    }

    let generation = resource.metadata.generation
    var status = resource.status
    do {
      let provisioned = try await machinery.provisioners.provision(agent)
      var agentPlan = try await plan(resource, provisioned)
      agentPlan.createFirst = resource.status == R.Status()
      let observed = try await machinery.ensureContainer(agentPlan, owner: key)
      record(observed, provisioned, &status)
      status.phase = observed.phase
      status.observedGeneration = generation
      status.message = nil
      status.setCondition(Condition(type: "Reconciled", status: .true, reason: "Converged", observedGeneration: generation))
      if observed.recreated || observed.phase != .running {
        // A new or stopped container's agent has not said it is ready (the API records that).
        status.setCondition(Condition(type: "Ready", status: .false, reason: "AgentNotReady",
          message: "waiting for the agent to report ready", observedGeneration: generation))
      }
    } catch {
      let terminal = error.isTerminalBackendError
      let reason = (error as? TerminalError)?.reason ?? (terminal ? "InvalidRequest" : "BackendError")
      status.message = "\(error)"
      if terminal { status.phase = .failed }
      status.setCondition(Condition(type: "Reconciled", status: .false, reason: reason, message: "\(error)",
        observedGeneration: generation))
      machinery.event(key, .warning, "ReconcileFailed", "\(error)")
      try await write(resource, status)
      if let error = error as? TerminalError { throw error }
      if terminal { throw TerminalError(reason: reason, "\(error)") }
      throw error
    }
    try await write(resource, status)
    return ReconcileResult(requeueAfter: machinery.settings.resyncInterval)
  }

  /// Writes `status` if it differs: an unchanged status writes nothing, so a reconcile that
  /// changes nothing causes no watch event and no further reconcile.
  private func write(_ resource: R, _ status: R.Status) async throws {
    guard status != resource.status else { return }
    var updated = resource
    updated.status = status
    try await machinery.store.writeStatus(updated)
  }
}
