// Deterministic versions of the "next call waits for the restart" checks in IsolationTests.
//
// Through the public API those checks race the host's own threads (they fail when the suite runs
// alone and often pass under load). Here the follow-up call is issued from inside the failed call's
// completion handler — the earliest moment any caller can learn of the failure — through the
// transport the public API wraps, so the outcome no longer depends on scheduling.
@testable import DriverHost
import DriverProtocols
import Foundation
import Testing

@Suite("Runner restart ordering", .timeLimit(.minutes(1)))
struct RunnerRaceTests {
  /// Calls `first`, and from its completion handler calls `second`; returns both outcomes.
  static func chained(
    _ instance: DriverInstance, first: String, _ firstRequest: String = "{}", firstTimeout: Duration,
    second: String, _ secondRequest: String = "{}"
  ) async -> (RawOutcome, RawOutcome) {
    let transport = instance.driver.transport
    let handle = instance.handle
    return await withCheckedContinuation { continuation in
      transport.call(handle, method: first, request: firstRequest, timeout: firstTimeout, completion: { firstOutcome in
        transport.call(handle, method: second, request: secondRequest, timeout: .seconds(10), completion: { secondOutcome in
          continuation.resume(returning: (firstOutcome, secondOutcome))
        }, finished: {})
      }, finished: {})
    }
  }

  @Test("a call made when a crash is reported runs on the restarted runner")
  func afterCrash() async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("crash"), .process)
      let instance = try await driver.makeInstance()
      let (crashed, next) = await Self.chained(instance, first: "ping", firstTimeout: .seconds(10), second: "hc.test.ok")
      #expect(crashed.driverStatus == .internal)
      #expect(crashed.errorMessage?.contains("SIGSEGV") == true, "\(crashed)")
      #expect(next == RawOutcome(status: 0, json: "{}"),
        "a call issued after the crash was reported was failed as if it had been in flight: \(next)")
      #expect(await eventually { await driver.statistics().restarts >= 1 })
      await instance.destroy()
      await driver.shutdown()
    }
  }

  /// async_ok through the runner: a 5 s sleep times out after 300 ms (the runner is killed); the
  /// follow-up is a 50 ms sleep, so a runner that is about to be killed cannot answer it in time.
  @Test("a call made when a deadline is reported runs on the restarted runner")
  func afterDeadline() async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("async_ok"), .process)
      let instance = try await driver.makeInstance()
      let (timedOut, next) = await Self.chained(
        instance, first: "hc.test.sleep", #"{"ms":5000}"#, firstTimeout: .milliseconds(300),
        second: "hc.test.sleep", #"{"ms":50}"#)
      #expect(timedOut.driverStatus == .deadlineExceeded, "\(timedOut)")
      #expect(next == RawOutcome(status: 0, json: #"{"slept_ms":50}"#),
        "a call issued after the deadline was reported went to the runner being killed: \(next)")
      #expect(await eventually { await driver.statistics().restarts >= 1 })
      await instance.destroy()
      await driver.shutdown()
    }
  }
}
