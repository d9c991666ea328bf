// The reference correct fixture (noop), in process and through the runner: what the host learns
// at load, calls, the error model (§C.6, §C.11 item 8) and the allocator balance (§C.5, item 6).
import DriverHost
import DriverProtocols
import Foundation
import Testing

@Suite("noop driver", .timeLimit(.minutes(2)))
struct NoopDriverTests {
  @Test("load info, calls, error statuses and allocator balance", arguments: DriverIsolation.allCases)
  func noop(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("noop"), isolation)
      #expect(driver.name == "noop")
      #expect(driver.isolation == isolation)
      let info = driver.info
      #expect(info.magic.magic == 0x4844_5231)
      #expect(info.magic.name == "noop")
      #expect(info.magic.toolchain == "c")
      #expect(info.magic.version == "1.0.0")
      #expect(info.magic.abiMajor == 1)
      #expect(info.magic.abiMinor == 0)
      #expect(info.magic.pointerSize == 8)
      #expect(info.magic.structSize == 48)
      #expect(info.negotiatedMinor == 0)
      #expect(info.capabilities == 0)
      #expect(!info.supportsAsync)
      #expect(!info.supportsCancel)
      #expect(info.vtableSize == 80)
      #expect(info.description.name == "noop")
      #expect(info.description.kind == .workerBackend)
      #expect(info.description.version == "1.0.0")
      #expect(info.description.protocols == ["hiclaw.worker-backend/1"])
      #expect(info.description.methods == ["ping"])
      #expect(info.description.capabilities.isEmpty)

      // The INFO line noop logs at init reaches the host's logger, tagged with the driver.
      let initLog = t.logs.entries(containing: "noop: initialised (ABI 1.0)")
      #expect(initLog.count == 1, "captured: \(t.logs.entries.map(\.message))")
      #expect(initLog.first?.metadata["driver"] == "noop")
      #expect(initLog.first?.level == .info)

      let instance = try await driver.makeInstance()
      #expect(try await instance.call("ping") == #"{"driver":"noop"}"#)
      #expect(try await instance.call("ping", "") == #"{"driver":"noop"}"#)

      let unknown = await instance.callOutcome("frobnicate")
      #expect(unknown.driverStatus == .unimplemented)
      #expect(unknown.errorMessage == "method 'frobnicate' is not implemented by noop")
      let thrown = await callError { try await instance.call("frobnicate") }
      #expect(thrown?.status == .unimplemented)
      #expect(thrown?.message == "method 'frobnicate' is not implemented by noop")
      #expect(thrown?.retryable == false)

      let malformed = await instance.callOutcome("ping", #"{"a":"#)
      #expect(malformed.driverStatus == .invalidArgument)
      #expect(malformed.errorMessage == "request: invalid JSON at byte 5: unexpected end of input")

      let badConfig = await callError { try await driver.makeInstance(config: "{not json") }
      #expect(badConfig?.status == .invalidArgument)
      #expect(badConfig?.message == "config: invalid JSON at byte 1: expected string key")

      // callBlocking, from a thread the caller owns.
      let blocking: RawOutcome = await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: instance.callBlocking("ping")) }
      }
      #expect(blocking == RawOutcome(status: 0, json: #"{"driver":"noop"}"#))

      let before = await driver.statistics()
      #expect(before.allocator.allocations > 0)
      #expect(before.violations.isEmpty)

      await instance.destroy()
      let stats = await driver.shutdown()
      #expect(stats.allocator.allocations > 0, "nothing was counted: \(stats.allocator)")
      #expect(stats.allocator.allocations == stats.allocator.frees, "\(stats.allocator)")
      #expect(stats.allocator.bytesOutstanding == 0)
      #expect(stats.violations.isEmpty, "\(stats.violations)")
      #expect(stats.restarts == 0)
      #expect(stats.activeForeignThreads.isEmpty, "\(stats.activeForeignThreads)")
    }
  }

  @Test("the runner reports the same DriverInfo as the in-process loader")
  func sameInfoBothWays() async throws {
    try await withTestHost { t in
      let path = try t.fixture("noop")
      let inProcess = try await t.load(path, .inProcess)
      let runner = try await t.load(path, .process)
      #expect(runner.info == inProcess.info)
      await runner.shutdown()
      await inProcess.shutdown()
    }
  }

  /// A call on an instance that was destroyed is the caller's mistake: it must fail with the
  /// same non-retryable NOT_FOUND in both modes (a retryable UNAVAILABLE would make the host retry
  /// a call that can never succeed).
  @Test("a call after destroy fails with NOT_FOUND, not retryable", arguments: DriverIsolation.allCases)
  func callAfterDestroy(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("noop"), isolation)
      let instance = try await driver.makeInstance()
      await instance.destroy()
      let outcome = await instance.callOutcome("ping")
      #expect(outcome.driverStatus == .notFound, "\(isolation): \(outcome)")
      let error = await callError { try await instance.call("ping") }
      #expect(error?.retryable == false, "\(isolation): \(String(describing: error))")
      await driver.shutdown()
    }
  }
}
