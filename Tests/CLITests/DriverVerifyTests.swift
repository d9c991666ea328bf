import Foundation
import Testing

/// `hiclaw driver verify` passes every bundled driver and fails each broken fixture with a message
/// that says what is wrong and how to fix it.
@Suite(.serialized) struct DriverVerifyTests {
  static let bundled = ["docker", "kubernetes", "cloud", "openclaw", "copaw", "hermes", "zeroclaw", "nanoclaw", "memory"]

  @Test(arguments: bundled)
  func bundledDriverPasses(_ name: String) {
    let result = hiclaw("driver", "verify", Paths.library(name), "--timeout", "10")
    #expect(result.status == 0, "\(result.output)")
    #expect(result.stdout.contains("PASS  in-process  load"))
    #expect(result.stdout.contains("PASS  runner      load"))
    #expect(result.stdout.contains("PASS  static      symbols"))
    #expect(result.stdout.contains(" 0 failed"))
  }

  @Test func memoryBackendRunsTheDomainChecks() {
    let result = hiclaw("driver", "verify", Paths.library("memory"), "--mode", "runner")
    #expect(result.status == 0, "\(result.output)")
    #expect(result.stdout.contains("PASS  runner      domain.worker-backend"))
  }

  @Test func skeletonSaysWhichChecksItSkippedAndWhy() {
    let result = hiclaw("driver", "verify", Paths.library("docker"), "--mode", "runner")
    #expect(result.stdout.contains("SKIP  runner      domain.worker-backend"))
    #expect(result.stdout.contains("missing create, start, inspect, stop, delete"))
  }

  @Test func jsonOutputListsEveryCheck() throws {
    let result = hiclaw("driver", "verify", Paths.fixture("noop"), "-o", "json")
    #expect(result.status == 0, "\(result.output)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(report["failed"] as? Int == 0)
    let checks = try #require(report["checks"] as? [[String: Any]])
    #expect(checks.contains { $0["check"] as? String == "memory.balance" && $0["mode"] as? String == "process" })
    #expect(checks.contains { $0["check"] as? String == "memory.balance" && $0["mode"] as? String == "in-process" })
  }

  /// (fixture, a message fragment that says what is wrong, a fragment that says how to fix it)
  static let broken: [(String, String, String)] = [
    ("wrong_magic", "found 0xDEADBEEF, expected 0x48445231", "rebuild it against hiclaw_driver.h"),
    ("wrong_major", "built for ABI major 2; this host supports major 1", "upgrade hiclaw"),
    ("wrong_pointer_size", "4-byte pointers; this host uses 8", "architecture"),
    ("missing_init", "does not export hc_driver_init_v1", "HC_EXPORT"),
    ("no_symbols", "does not export hc_driver_magic_v1", "HC_EXPORT"),
    ("init_fails", "refusing to start (this fixture always fails init)", "FAILED_PRECONDITION"),
    ("short_vtable", "hc_driver_api.call: is required but lies outside the vtable", "struct_size = sizeof(hc_driver_api)"),
    ("null_call", "hc_driver_api.call: is required but NULL", "implement call"),
    ("bad_describe", "describe: returned invalid JSON", "line 1, column"),
    ("bad_json", "result is not valid JSON", "return a JSON object"),
    ("bad_status", "status 42, which is not an hc_status", "INTERNAL"),
    ("leaks", "allocated by the driver were never freed", "free what you allocate with host->free"),
    ("double_done", "done was called more than once", "exactly once"),
    ("crash", "crashed the process (SIGSEGV", "killed by signal SIGSEGV"),
    ("hang", "stopped responding in process", "DEADLINE_EXCEEDED"),
    ("thread_leak", "still running after shutdown returned", "join every thread in shutdown"),
    ("create_fails", "create_fails: cannot reach backend", "FAILED_PRECONDITION"),
  ]

  @Test(arguments: broken.map(\.0))
  func brokenFixtureFailsWithItsReason(_ stem: String) {
    let (_, what, how) = Self.broken.first { $0.0 == stem }!
    let result = hiclaw("driver", "verify", Paths.fixture(stem), "--timeout", "2")
    #expect(result.status == 1, "\(result.output)")
    #expect(result.stdout.contains("FAIL"), "\(result.output)")
    #expect(result.stdout.contains(what), "expected «\(what)» in:\n\(result.output)")
    #expect(result.stdout.contains(how), "expected «\(how)» in:\n\(result.output)")
    #expect(!result.stdout.contains(" 0 failed"))
  }

  @Test func correctFixturesPass() {
    for stem in ["noop", "async_ok", "future_minor"] {
      let result = hiclaw("driver", "verify", Paths.fixture(stem), "--timeout", "5")
      #expect(result.status == 0, "\(stem): \(result.output)")
    }
  }

  @Test func missingFileIsAUsageError() {
    let result = hiclaw("driver", "verify", "/nonexistent/libhc_x.so")
    #expect(result.status == 2)
    #expect(result.stderr.contains("/nonexistent/libhc_x.so does not exist"))
  }
}
