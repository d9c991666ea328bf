// Contract violations at the boundary (§C.5–C.7, §C.11 items 6, 9, 10, 11): the host survives,
// records what the driver did wrong, and keeps its own promises (first result delivered, every
// buffer counted).
import DriverHost
import DriverProtocols
import Foundation
import Testing

@Suite("Contract violations", .timeLimit(.minutes(2)))
struct ViolationTests {
  @Test("double done: the first result is delivered, the second is recorded and freed", arguments: DriverIsolation.allCases)
  func doubleDone(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("double_done"), isolation)
      #expect(driver.info.supportsAsync)
      let instance = try await driver.makeInstance()
      #expect(try await instance.call("ping") == #"{"driver":"double_done"}"#)
      let unknown = await instance.callOutcome("other")
      #expect(unknown.driverStatus == .unimplemented)
      #expect(unknown.errorMessage == "method 'other' is not implemented by double_done")
      let recorded = await eventually {
        await driver.statistics().violations.filter { $0.contains("more than once") }.count >= 2
      }
      let violations = await driver.statistics().violations
      #expect(recorded, "violations: \(violations)")
      // Still serving: the host did not crash and the instance still answers.
      #expect(try await instance.call("ping") == #"{"driver":"double_done"}"#)
      await instance.destroy()
      let stats = await driver.shutdown()
      #expect(stats.violations.contains { $0.contains("done was called more than once") }, "\(stats.violations)")
      // Both buffers of every request were the host's and both were freed.
      #expect(stats.allocator.allocations == stats.allocator.frees, "\(stats.allocator)")
    }
  }

  @Test("a status outside hc_status becomes INTERNAL and is recorded", arguments: DriverIsolation.allCases)
  func badStatus(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("bad_status"), isolation)
      let instance = try await driver.makeInstance()
      let outcome = await instance.callOutcome("ping")
      #expect(outcome.status == DriverStatus.internal.rawValue, "\(outcome)")
      let error = await callError { try await instance.call("ping") }
      #expect(error?.status == .internal)
      #expect(error?.message.contains("INTERNAL") == true, "\(String(describing: error))")
      let violations = await driver.statistics().violations
      #expect(violations.contains { $0.contains("ping") && $0.contains("42") }, "\(violations)")
      await instance.destroy()
      let stats = await driver.shutdown()
      #expect(stats.allocator.allocations == stats.allocator.frees, "\(stats.allocator)")
    }
  }

  @Test("a driver that leaks host buffers shows up in the allocation balance", arguments: DriverIsolation.allCases)
  func leaks(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("leaks"), isolation)
      let instance = try await driver.makeInstance()
      for _ in 0..<3 {
        #expect(try await instance.call("ping") == #"{"driver":"leaks"}"#)
      }
      await instance.destroy()
      let stats = await driver.shutdown()
      let leaked = stats.allocator.allocations - stats.allocator.frees
      #expect(leaked == 3, "allocations \(stats.allocator.allocations), frees \(stats.allocator.frees)")
      #expect(stats.allocator.outstanding == 3)
      #expect(stats.allocator.bytesOutstanding == 3 * 64, "\(stats.allocator)")
    }
  }

  /// A leak check runs after shutdown (no call can allocate any more): statistics() must still
  /// report the final numbers then, not an empty record.
  @Test("statistics() after shutdown still reports the final statistics", arguments: DriverIsolation.allCases)
  func statisticsAfterShutdown(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("leaks"), isolation)
      let instance = try await driver.makeInstance()
      _ = try await instance.call("ping")
      await instance.destroy()
      let final = await driver.shutdown()
      #expect(final.allocator.outstanding == 1, "\(final.allocator)")
      let after = await driver.statistics()
      #expect(after.allocator == final.allocator, "\(isolation): after shutdown statistics() says \(after.allocator)")
      #expect(after.violations == final.violations)
    }
  }

  @Test("a failing create returns the driver's status and message and leaks nothing", arguments: DriverIsolation.allCases)
  func createFails(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("create_fails"), isolation)
      let error = await callError { try await driver.makeInstance(config: #"{"endpoint":"tcp://x"}"#) }
      #expect(error?.status == .failedPrecondition, "\(String(describing: error))")
      #expect(error?.message == "create_fails: cannot reach backend at config.endpoint")
      #expect(error?.retryable == false)
      let malformed = await callError { try await driver.makeInstance(config: "[") }
      #expect(malformed?.status == .invalidArgument)
      #expect(malformed?.message.hasPrefix("config: invalid JSON at byte 1") == true, "\(String(describing: malformed))")
      let stats = await driver.shutdown()
      #expect(stats.allocator.allocations >= 2, "\(stats.allocator)")
      #expect(stats.allocator.allocations == stats.allocator.frees, "\(stats.allocator)")
      #expect(stats.violations.isEmpty, "\(stats.violations)")
    }
  }
}
