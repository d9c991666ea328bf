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
}
