// Process isolation (§C.9 item 9, §C.11 items 15–17): a crash or a hang kills only the runner,
// which is restarted with backoff; calls wait for the restart; leaked driver threads are seen.
import DriverHost
import DriverProtocols
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Runner isolation", .timeLimit(.minutes(2)))
struct IsolationTests {
  /// A runner inherits nothing of the host but its standard streams and its socket: a
  /// descriptor the host opened without close-on-exec (as some libraries do) stays out of it.
  @Test("a runner inherits only descriptors 0–3")
  func runnersInheritNothingElse() async throws {
    let marker = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-fd-marker-\(getpid())")
    try Data("x".utf8).write(to: marker)
    defer { try? FileManager.default.removeItem(at: marker) }
    let leaky = open(marker.path, O_RDONLY)  // no O_CLOEXEC on purpose
    #expect(leaky > 3)
    defer { close(leaky) }
    try await withTestHost(timeout: .seconds(20)) { t in
      let driver = try await t.load(try t.fixture("noop"), .process)
      let instance = try await driver.makeInstance()
      #expect(await instance.callOutcome("ping").ok)
      let pid = try #require(t.runnerProcesses().first)
      let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
      let targets = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
      #expect(!targets.contains(marker.path), "the runner holds the host's \(marker.path): \(targets)")
      #expect(targets.contains { $0.hasPrefix("socket:") })
      await instance.destroy()
    }
  }

  @Test("a SIGSEGV in a call kills the runner, not the host; the next call waits for the restart")
  func crash() async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("crash"), .process)
      let instance = try await driver.makeInstance()
      let firstRunner = t.runnerProcesses()
      #expect(firstRunner.count == 1)

      let outcome = await instance.callOutcome("ping")
      #expect(outcome.driverStatus == .internal, "\(outcome)")
      #expect(outcome.errorMessage?.contains("SIGSEGV") == true, "\(outcome)")
      let error = DriverCallError(status: outcome.status, json: outcome.json, operation: "ping")
      #expect(error.retryable, "a runner crash is reported as retryable")
      #expect(kill(getpid(), 0) == 0)

      // Issued after the failure was reported (a small burst, as a real caller retrying would):
      // none of them was in flight when the runner died, so each must wait for the restarted
      // runner and succeed.
      let followUps = await withTaskGroup(of: RawOutcome.self) { group in
        for _ in 0..<8 { group.addTask { await instance.callOutcome("hc.test.ok") } }
        var outcomes: [RawOutcome] = []
        for await outcome in group { outcomes.append(outcome) }
        return outcomes
      }
      let failed = followUps.filter { $0 != RawOutcome(status: 0, json: "{}") }
      #expect(failed.isEmpty, "calls made after the crash was reported did not wait for the restart: \(failed)")
      let stats = await driver.statistics()
      #expect(stats.restarts >= 1)
      #expect(stats.lastExit?.contains("SIGSEGV") == true, "\(String(describing: stats.lastExit))")
      #expect(!t.logs.entries(containing: "driver runner exited; restarting").isEmpty)
      let secondRunner = t.runnerProcesses()
      #expect(secondRunner.count == 1 && secondRunner != firstRunner, "runners before \(firstRunner), after \(secondRunner)")

      // The instance was re-created on the new runner: it keeps working.
      #expect(try await instance.call("hc.test.ok") == "{}")
      await instance.destroy()
      await driver.shutdown()
    }
  }

  @Test("a hanging call times out with DEADLINE_EXCEEDED; the runner is killed and the next call succeeds")
  func hang() async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("hang"), .process)
      let instance = try await driver.makeInstance()
      let (outcome, elapsed) = await measure {
        await instance.callOutcome("ping", timeout: .milliseconds(300))
      }
      #expect(outcome.driverStatus == .deadlineExceeded, "\(outcome)")
      // The fixture never answers: any bound proves the deadline fired; 10 s leaves room for a
      // loaded machine.
      #expect(elapsed >= 250 && elapsed < 10_000, "took \(elapsed) ms")
      #expect(outcome.errorMessage?.contains("killed") == true, "\(outcome)")

      // Issued right after the deadline: must run on the restarted runner.
      let ok = await instance.callOutcome("hc.test.ok")
      #expect(ok == RawOutcome(status: 0, json: "{}"), "the call after the deadline did not wait for the restart: \(ok)")
      let stats = await driver.statistics()
      #expect(stats.restarts >= 1)
      #expect(stats.lastExit?.contains("SIGKILL") == true, "\(String(describing: stats.lastExit))")
      await instance.destroy()
      await driver.shutdown()
    }
  }

  @Test("the hang's next call succeeds once the restart is done (restart itself works)")
  func hangThenWaitForRestart() async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("hang"), .process)
      let instance = try await driver.makeInstance()
      let outcome = await instance.callOutcome("ping", timeout: .milliseconds(300))
      #expect(outcome.driverStatus == .deadlineExceeded)
      #expect(await eventually { await driver.statistics().restarts >= 1 })
      #expect(try await instance.call("hc.test.ok") == "{}")
      await instance.destroy()
      await driver.shutdown()
    }
  }

  /// The runner is SIGKILLed (as the OOM killer would) with 64 calls in flight. Each caller, once
  /// told its call failed, calls again at once. Those second calls were never in flight on the
  /// dead runner: they must wait for the restart and succeed, not fail as "in flight".
  @Test("calls made after a runner death was reported wait for the restart")
  func callsAfterReportedDeath() async throws {
    try await withTestHost(timeout: .seconds(20)) { t in
      let driver = try await t.load(try t.fixture("hang"), .process)
      let instance = try await driver.makeInstance()
      let pid = try #require(t.runnerProcesses().first)
      let results = await withTaskGroup(of: (RawOutcome, RawOutcome).self) { group in
        for _ in 0..<64 {
          group.addTask {
            let first = await instance.callOutcome("ping")
            let second = await instance.callOutcome("hc.test.ok")
            return (first, second)
          }
        }
        try? await Task.sleep(for: .milliseconds(500))
        kill(pid, SIGKILL)
        var results: [(RawOutcome, RawOutcome)] = []
        for await result in group { results.append(result) }
        return results
      }
      #expect(results.count == 64)
      let firsts = results.map(\.0)
      #expect(firsts.allSatisfy { $0.driverStatus == .internal && $0.errorMessage?.contains("SIGKILL") == true },
        "\(firsts.filter { $0.driverStatus != .internal }.prefix(3))")
      let badSeconds = results.map(\.1).filter { $0 != RawOutcome(status: 0, json: "{}") }
      #expect(badSeconds.count == 0,
        "\(badSeconds.count) of 64 calls made after their caller saw the runner die failed instead of waiting for the restart, e.g. \(badSeconds.first.map { "\($0)" } ?? "")")
      #expect(await driver.statistics().restarts >= 1)
      await instance.destroy()
      await driver.shutdown()
    }
  }

  @Test("threads a driver leaves running after shutdown are reported; noop leaves none")
  func threadLeak() async throws {
    try await withTestHost { t in
      let leaky = try await t.load(try t.fixture("thread_leak"), .process)
      let instance = try await leaky.makeInstance()
      #expect(try await instance.call("ping") == #"{"driver":"thread_leak"}"#)
      await instance.destroy()
      let stats = await leaky.shutdown()
      #expect(!stats.activeForeignThreads.isEmpty, "the leaked thread was not reported")
      #expect(stats.activeForeignThreads.allSatisfy { $0.switches >= 2 }, "\(stats.activeForeignThreads)")
      let later = await leaky.statistics()
      #expect(!later.activeForeignThreads.isEmpty, "statistics() after shutdown lost the leaked threads")

      let noop = try await t.load(try t.fixture("noop"), .process)
      let noopInstance = try await noop.makeInstance()
      #expect(try await noopInstance.call("ping") == #"{"driver":"noop"}"#)
      await noopInstance.destroy()
      let clean = await noop.shutdown()
      #expect(clean.activeForeignThreads.isEmpty, "\(clean.activeForeignThreads)")
    }
  }
}
