import Foundation
import Model
import Reconcile
import ResourceStore
import Store
import Testing

@Suite struct ControllerTests {
  /// The whole engine: objects written to the store are picked up by the watch, reconciled by
  /// concurrent workers and converge, each created exactly once.
  @Test func hundredWorkersConvergeThroughTheWatch() async throws {
    try await Fixture.with { f in
      let manager = ControllerManager(store: f.store, backend: f.backend, concurrency: 4, logger: f.logger)
      let running = Task { await manager.run() }
      defer { running.cancel() }
      for index in 0..<100 { try await f.create(worker("w\(index)")) }
      let converged = try await eventually(timeout: .seconds(60)) {
        try await f.store.list(Worker.self).allSatisfy { $0.status.phase == .running }
      }
      #expect(converged)
      #expect(try await f.instances().count == 100)
      #expect(try await f.highestInstanceSequence() == 100, "no instance was created twice")

      // Delete through the store: the controller runs the finalizers.
      for index in 0..<10 { _ = try await f.store.delete(ObjectKey(.worker, "w\(index)")) }
      let cleaned = try await eventually(timeout: .seconds(60)) { try await f.store.list(Worker.self).count == 90 }
      #expect(cleaned)
      #expect(try await f.instances().count == 90)
      running.cancel()
      await running.value
    }
  }

  /// The engine reconciles a new object once: neither the reconciler's own status write nor the
  /// cleanup finalizer it adds first queues the object again. A finalizer someone else removes,
  /// or a spec change, still does.
  @Test func ownWritesDoNotQueueTheObjectAgain() async throws {
    try await Fixture.with { f in
      let counting = CountingReconciler(f.workers)
      let controller = Controller(reconciler: counting, store: f.store, concurrency: 4, logger: f.logger)
      let running = Task { await controller.run() }
      defer { running.cancel() }
      let names = (0..<20).map { "w\($0)" }
      for name in names { try await f.create(worker(name)) }
      #expect(try await eventually { try await f.store.list(Worker.self).allSatisfy { $0.status.phase == .running } })
      // Any further pass would follow the writes of the first at once; give it time to show.
      try await Task.sleep(for: .milliseconds(300))
      #expect(counting.passes == Dictionary(uniqueKeysWithValues: names.map { ($0, 1) }))

      let key = ObjectKey(.worker, "w0")
      _ = try await f.store.removeFinalizer(key, ObjectMeta.cleanupFinalizer)
      #expect(try await eventually { try await f.store.find(key)?.finalizers == [ObjectMeta.cleanupFinalizer] })
      #expect(counting.passes["w0"] == 2)

      try await f.replace(Worker.self, "w1") { $0.spec.model = "other" }
      #expect(try await eventually { counting.passes["w1"] == 2 })
      try await Task.sleep(for: .milliseconds(300))
      #expect(counting.passes["w1"] == 2)
      #expect(counting.passes.values.reduce(0, +) == names.count + 2)
      running.cancel()
      await running.value
    }
  }
}

/// Counts the passes of another reconciler, per object name.
final class CountingReconciler: Reconciler, @unchecked Sendable {
  let inner: any Reconciler
  private let lock = NSLock()
  private var counts: [String: Int] = [:]

  init(_ inner: any Reconciler) { self.inner = inner }

  var kind: Kind { inner.kind }
  var passes: [String: Int] { lock.withLock { counts } }

  func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
    lock.withLock { counts[key.name, default: 0] += 1 }
    return try await inner.reconcile(key)
  }
}
