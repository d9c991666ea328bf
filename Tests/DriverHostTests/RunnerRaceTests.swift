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
  /// The reader thread closes a dead runner's socket while other threads may still be sending
  /// on it (a request that passed the `exited` check, a service reply). The number can be reused
  /// at once by the next socket the process opens — the restarted runner's — so a send after the
  /// close must fail without writing anything, whichever socket now has the number.
  @Test("a channel closed by its reader writes nothing, even when its number is reused")
  func sendAfterCloseWritesNothing() throws {
    var old: [Int32] = [-1, -1]
    try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &old) == 0)
    let channel = FrameChannel(fd: old[0])
    #expect(channel.send([1, 2, 3]))
    channel.closeDescriptor()
    channel.closeDescriptor()  // idempotent: must not close whatever has the number next
    // The lowest free number is the one just closed, so the next socket usually takes it (the
    // "restarted runner"); other tests running in parallel may take it first, so the check of
    // the new socket runs only when this test got the number.
    var next: [Int32] = [-1, -1]
    try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &next) == 0)
    defer {
      close(next[0])
      close(next[1])
      close(old[1])
    }
    #expect(!channel.send([9, 9, 9, 9]))
    if next.contains(old[0]) {
      var byte: UInt8 = 0
      for fd in next {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        #expect(recv(fd, &byte, 1, 0) == -1 && errno == EAGAIN, "descriptor \(fd) received a stray byte")
      }
    }
    // The old peer still sees what was sent before the close, then end of stream.
    var buffer = [UInt8](repeating: 0, count: 8)
    #expect(read(old[1], &buffer, 8) == 3)
    #expect(read(old[1], &buffer, 8) == 0)
  }
}
