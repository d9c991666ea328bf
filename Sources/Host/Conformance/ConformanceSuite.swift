import DriverABI
import DriverHost
import DriverProtocols
import Foundation

/// One finding of `hiclaw driver verify`.
public struct CheckResult: Sendable, Codable, Equatable {
  public enum Outcome: String, Sendable, Codable { case pass, fail, skip }
  /// `static`, `in-process` or `process`.
  public var mode: String
  /// A stable id, e.g. `load`, `call.ping`, `shutdown.threads`.
  public var check: String
  public var outcome: Outcome
  /// For pass: what was seen; for fail: what is wrong and how to fix it; for skip: why.
  public var message: String

  public init(mode: String, check: String, outcome: Outcome, message: String) {
    self.mode = mode
    self.check = check
    self.outcome = outcome
    self.message = message
  }
}

/// The driver conformance suite (driver-abi.md §C.11), run through the C ABI only, so C, Rust and
/// Swift drivers all face the same checks. ``runStatic(library:manifest:)`` inspects files;
/// ``run(library:isolation:host:expectedName:)`` loads the driver once in the given isolation
/// and exercises it.
///
/// In-process checks can crash the process that runs them (that is what a driver trap does), so
/// `hiclaw driver verify` runs that pass in a child process and reports a crash as a failure.
public struct ConformanceSuite: Sendable {
  /// The call deadline used for every check. nil in the in-process pass: deadline timers would
  /// wake threads during the thread-activity check, and the parent process bounds that pass.
  public var timeout: Duration?
  /// Budget of the ping-latency smoke check (median of 200 blocking calls).
  public var pingBudget: [DriverIsolation: Duration] = [.inProcess: .microseconds(200), .process: .milliseconds(2)]

  public init(timeout: Duration? = .seconds(5)) {
    self.timeout = timeout
  }

  static let entryPoints = [HC_DRIVER_INIT_SYMBOL, HC_DRIVER_MAGIC_SYMBOL]
  static let malformedJSON = #"{"unterminated": "#
  static let unknownMethod = "hc.conformance.no-such-method"

  /// Checks that need no driver code: the manifest and the exported-symbol audit.
  public func runStatic(library: String, manifest: (DriverManifest, URL)?) -> [CheckResult] {
    var results: [CheckResult] = []
    func add(_ check: String, _ outcome: CheckResult.Outcome, _ message: String) {
      results.append(CheckResult(mode: "static", check: check, outcome: outcome, message: message))
    }
    if let (manifest, directory) = manifest {
      let path = directory.appendingPathComponent(manifest.library).path
      do {
        let actual = try sha256Hex(ofFile: path)
        if actual == manifest.sha256 {
          add("manifest", .pass, "valid; sha256 of \(manifest.library) matches")
        } else {
          add("manifest", .fail, "sha256: the manifest says \(manifest.sha256) but \(manifest.library) has \(actual); reinstall the driver with `hiclaw driver install`")
        }
      } catch {
        add("manifest", .fail, error.description)
      }
    } else {
      add("manifest", .skip, "no manifest given (verify a manifest .json to check it)")
    }
    do {
      let exported = try ELFSymbols.exportedSymbols(ofFile: library)
      let missing = Self.entryPoints.filter { !exported.contains($0) }
      let extra = exported.filter { !Self.entryPoints.contains($0) }
      if !missing.isEmpty {
        add("symbols", .fail, "does not export \(missing.joined(separator: ", ")); mark the entry points HC_EXPORT (C) or `@c public` (Swift)")
      } else if !extra.isEmpty {
        add("symbols", .fail,
          "exports \(extra.count) symbol(s) besides the two entry points (\(extra.prefix(5).joined(separator: ", "))\(extra.count > 5 ? ", …" : "")); build C with -fvisibility=hidden, link Swift with -Xlinker --version-script=exports.map")
      } else {
        add("symbols", .pass, "exports exactly \(Self.entryPoints.reversed().joined(separator: " and "))")
      }
    } catch {
      add("symbols", .fail, "\(error.description); a driver must be an ELF shared library for this machine")
    }
    return results
  }

  /// Loads the library in `isolation` through `host` and runs every dynamic check, reporting each
  /// result as soon as it is known (so a crash in process still leaves the earlier results).
  public func run(
    library: String, isolation: DriverIsolation, host: DriverHost, expectedName: String? = nil,
    report: @Sendable (CheckResult) -> Void
  ) async {
    let mode = isolation.rawValue
    func add(_ check: String, _ outcome: CheckResult.Outcome, _ message: String) {
      report(CheckResult(mode: mode, check: check, outcome: outcome, message: message))
    }
    let laterChecks = ["describe", "create.bad-config", "create", "call.unknown-method", "call.ping", "call.bad-json",
      "async.exactly-once", "concurrency", "domain", "fuzz.malformed", "latency.ping", "shutdown.threads", "memory.balance", "violations"]

    // In process, the threads that exist before the driver is loaded are the host's (the language
    // runtime's workers among them, which other work in this process keeps busy): a thread the
    // driver leaves running is one it started.
    let before = isolation == .inProcess ? ThreadActivity.threadIDs() : []
    let driver: Driver
    do {
      driver = try await host.load(library: library, isolation: isolation, expectedName: expectedName)
      let info = driver.info
      add("load", .pass,
        "magic ok (\(info.magic.name) \(info.magic.version), toolchain \(info.magic.toolchain)); negotiated ABI 1.\(info.negotiatedMinor); capabilities \(capabilityNames(info.capabilities))")
    } catch {
      add("load", .fail, error.description)
      for check in laterChecks { add(check, .skip, "the driver did not load") }
      return
    }
    let description = driver.description
    let methods = Set(description.methods)

    // describe: protocols known, methods belong to them.
    let protocolMethods = Set(description.protocols.compactMap(KnownProtocols.methods(of:)).flatMap { $0 })
    let unknownMethods = methods.subtracting(protocolMethods).sorted()
    let wrongKind = description.protocols.compactMap(KnownProtocols.spec(for:)).filter { $0.kind != description.kind }
    if !wrongKind.isEmpty {
      add("describe", .fail, "kind \(description.kind.rawValue) does not match protocol \(wrongKind[0].id); declare the kind of the protocol you implement")
    } else if !unknownMethods.isEmpty {
      add("describe", .fail, "declares methods \(unknownMethods) that none of its protocols \(description.protocols) defines; declare only protocol methods")
    } else {
      add("describe", .pass, "\(description.kind.rawValue), protocols \(description.protocols.joined(separator: ", ")), methods \(description.methods.sorted().joined(separator: ", "))")
    }

    // create with malformed config, then a real instance.
    do {
      let stray = try await driver.makeInstance(config: Self.malformedJSON)
      await stray.destroy()
      add("create.bad-config", .fail, "create accepted malformed config JSON; return HC_ERR_INVALID_ARGUMENT with error JSON")
    } catch {
      if error.status == .invalidArgument {
        add("create.bad-config", .pass, "malformed config → INVALID_ARGUMENT (\(error.message))")
      } else {
        add("create.bad-config", .fail, "malformed config → \(error.status.name) (\(error.message)); return HC_ERR_INVALID_ARGUMENT")
      }
    }
    let instance: DriverInstance
    do {
      instance = try await driver.makeInstance(config: "{}")
      add("create", .pass, "instance created from {}")
    } catch {
      add("create", .fail, "create({}) failed: \(error); a driver must accept an empty configuration or document its required fields in describe")
      for check in laterChecks.dropFirst(3) where check != "shutdown.threads" && check != "memory.balance" && check != "violations" {
        add(check, .skip, "no instance")
      }
      await finish(driver: driver, instances: [], isolation: isolation, host: host, hostThreads: before, add: add)
      return
    }

    // Unknown method.
    let unknown = await instance.callOutcome(Self.unknownMethod, "{}", timeout: timeout)
    if unknown.status == HC_ERR_UNIMPLEMENTED {
      if unknown.json.isEmpty || isErrorBody(unknown.json) {
        add("call.unknown-method", .pass, "UNIMPLEMENTED")
      } else {
        add("call.unknown-method", .fail, "UNIMPLEMENTED, but its error JSON is not {\"code\",\"message\",…}: \(unknown.json.prefix(120))")
      }
    } else {
      add("call.unknown-method", .fail, "an unknown method returned \(name(unknown.status)); return HC_ERR_UNIMPLEMENTED")
    }

    // ping.
    var pingWorks = false
    if methods.contains("ping") {
      let ping = await instance.callOutcome("ping", "{}", timeout: timeout)
      if ping.ok {
        do throws(JSONCheckError) {
          try JSONCheck.validate(ping.json)
          pingWorks = true
          add("call.ping", .pass, "OK \(ping.json.prefix(80))")
        } catch {
          add("call.ping", .fail, "ping returned OK but its result is not valid JSON (\(error.message)); return a JSON object")
        }
      } else {
        add("call.ping", .fail, "ping → \(name(ping.status)): \(errorText(ping.json))")
      }
      let bad = await instance.callOutcome("ping", Self.malformedJSON, timeout: timeout)
      if bad.status == HC_ERR_INVALID_ARGUMENT {
        add("call.bad-json", .pass, "malformed request → INVALID_ARGUMENT")
      } else {
        add("call.bad-json", .fail, "malformed request JSON → \(name(bad.status)); return HC_ERR_INVALID_ARGUMENT")
      }
    } else {
      add("call.ping", .skip, "the driver declares no ping method")
      add("call.bad-json", .skip, "the driver declares no ping method")
    }

    // Async: many concurrent requests, each completed exactly once.
    if driver.info.supportsAsync && pingWorks {
      let outcomes = await concurrentPings(instance, count: 64)
      let failed = outcomes.filter { !$0.ok }
      failed.isEmpty
        ? add("async.exactly-once", .pass, "64 concurrent call_async requests completed")
        : add("async.exactly-once", .fail, "\(failed.count) of 64 concurrent requests failed: \(errorText(failed[0].json))")
    } else {
      add("async.exactly-once", .skip, driver.info.supportsAsync ? "needs a working ping" : "the driver has no HC_CAP_ASYNC")
    }

    // Concurrency across instances.
    var extra: [DriverInstance] = []
    if pingWorks {
      var failures = 0
      for _ in 0..<4 {
        if let more = try? await driver.makeInstance(config: "{}") { extra.append(more) } else { failures += 1 }
      }
      var outcomes: [RawOutcome] = []
      for candidate in extra { outcomes += await concurrentPings(candidate, count: 16) }
      let failed = outcomes.filter { !$0.ok }
      failures == 0 && failed.isEmpty
        ? add("concurrency", .pass, "\(outcomes.count) concurrent calls on \(extra.count) instances")
        : add("concurrency", .fail, "\(failures) creates and \(failed.count) of \(outcomes.count) concurrent calls failed\(failed.first.map { ": " + errorText($0.json) } ?? "")")
    } else {
      add("concurrency", .skip, "needs a working ping")
    }

    // Domain protocol.
    await DomainChecks(timeout: timeout).run(description: description, instance: instance) { add($0, $1, $2) }

    // Malformed requests to every declared method: each must be refused with INVALID_ARGUMENT
    // (no crash, no other status); syntactically invalid JSON cannot have side effects.
    let fuzzed = description.methods.sorted()
    if fuzzed.isEmpty {
      add("fuzz.malformed", .skip, "the driver declares no methods")
    } else {
      var failures: [String] = []
      var sent = 0
      // Stop at the first failure: a driver that crashes or hangs on bad input would otherwise
      // cost a runner restart (or a deadline) per request.
      fuzzing: for method in fuzzed {
        for request in MalformedRequests.make(count: 40, seed: UInt64(method.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })) {
          let outcome = await instance.callOutcome(method, request, timeout: timeout)
          sent += 1
          if outcome.status != HC_ERR_INVALID_ARGUMENT {
            failures.append("\(method)(\(request.prefix(40).debugDescription)) → \(name(outcome.status)): \(errorText(outcome.json).prefix(160))")
            break fuzzing
          }
        }
      }
      failures.isEmpty
        ? add("fuzz.malformed", .pass, "\(sent) malformed requests to \(fuzzed.count) method(s) → INVALID_ARGUMENT")
        : add("fuzz.malformed", .fail,
          "malformed request JSON must return INVALID_ARGUMENT: \(failures.joined(separator: "; "))")
    }

    // Latency smoke.
    if pingWorks {
      let budget = pingBudget[isolation] ?? .milliseconds(1)
      // Noise on a busy machine only ever adds time: take the best of up to three medians
      // before calling a driver slow.
      var median = pingLatency(instance, calls: 200)
      for _ in 0..<2 where median > budget { median = min(median, pingLatency(instance, calls: 200)) }
      median <= budget
        ? add("latency.ping", .pass, "median ping round trip \(format(median)) (budget \(format(budget)))")
        : add("latency.ping", .fail, "median ping round trip \(format(median)) exceeds \(format(budget)); ping must not do I/O")
    } else {
      add("latency.ping", .skip, "needs a working ping")
    }

    await finish(driver: driver, instances: [instance] + extra, isolation: isolation, host: host, hostThreads: before,
      add: add)
  }

  private func finish(
    driver: Driver, instances: [DriverInstance], isolation: DriverIsolation, host: DriverHost, hostThreads: Set<Int32>,
    add: (String, CheckResult.Outcome, String) -> Void
  ) async {
    for instance in instances { await instance.destroy() }
    let statistics = await driver.shutdown()
    // Threads: through the runner, the runner observes its own process; in process, observe ours.
    var active = statistics.activeForeignThreads
    if isolation == .inProcess {
      let own = host.pool.threadIDs.withLock { $0 }.union([Int32(getpid())]).union(host.deadlineThreadIDs)
        .union(hostThreads)
      active = ThreadActivity.activeThreads(excluding: own, window: .milliseconds(200))
    }
    if active.isEmpty {
      add("shutdown.threads", .pass, "no driver thread runs after shutdown")
    } else {
      let names = active.prefix(3).map { "tid \($0.tid) (named \"\($0.name)\" after the thread that started it) scheduled \($0.switches)× in 200 ms" }
      add("shutdown.threads", .fail,
        "\(active.count) thread(s) still running after shutdown returned: \(names.joined(separator: ", ")); stop and join every thread in shutdown")
    }
    let allocator = statistics.allocator
    if allocator.outstanding == 0 {
      add("memory.balance", .pass, "\(allocator.allocations) host allocations, \(allocator.frees) frees")
    } else {
      add("memory.balance", .fail,
        "\(allocator.outstanding) host buffer(s) (\(allocator.bytesOutstanding) bytes) allocated by the driver were never freed (allocations \(allocator.allocations), frees \(allocator.frees)); free what you allocate with host->free, or hand it to the host as a result")
    }
    if statistics.violations.isEmpty {
      add("violations", .pass, "no ABI contract violations")
    } else {
      add("violations", .fail, summarizeViolations(statistics.violations))
    }
  }

  private func concurrentPings(_ instance: DriverInstance, count: Int) async -> [RawOutcome] {
    await withTaskGroup(of: RawOutcome.self) { group in
      for _ in 0..<count { group.addTask { await instance.callOutcome("ping", "{}", timeout: timeout) } }
      var outcomes: [RawOutcome] = []
      for await outcome in group { outcomes.append(outcome) }
      return outcomes
    }
  }

  private func pingLatency(_ instance: DriverInstance, calls: Int) -> Duration {
    var samples: [UInt64] = []
    samples.reserveCapacity(calls)
    for _ in 0..<calls {
      let start = DispatchTime.now().uptimeNanoseconds
      _ = instance.callBlocking("ping", "{}", timeout: timeout)
      samples.append(DispatchTime.now().uptimeNanoseconds - start)
    }
    samples.sort()
    return .nanoseconds(samples[samples.count / 2])
  }
}

/// Groups violations that differ only in numbers: "done was called more than once for request N
/// (×64, e.g. request 7)".
func summarizeViolations(_ violations: [String]) -> String {
  var groups: [(pattern: String, first: String, count: Int)] = []
  for violation in violations {
    let pattern = violation.replacing(/[0-9]+/, with: "N")
    if let index = groups.firstIndex(where: { $0.pattern == pattern }) {
      groups[index].count += 1
    } else {
      groups.append((pattern, violation, 1))
    }
  }
  return groups.prefix(5).map { $0.count == 1 ? $0.first : "\($0.first) (and \($0.count - 1) more like it)" }
    .joined(separator: "; ")
}

func format(_ duration: Duration) -> String {
  let nanoseconds = Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
  if nanoseconds < 1_000 { return String(format: "%.0f ns", nanoseconds) }
  if nanoseconds < 1_000_000 { return String(format: "%.1f µs", nanoseconds / 1e3) }
  return String(format: "%.2f ms", nanoseconds / 1e6)
}

func name(_ status: Int32) -> String {
  DriverStatus(rawValue: status)?.name ?? "status \(status)"
}

func capabilityNames(_ capabilities: UInt64) -> String {
  var names: [String] = []
  if capabilities & UInt64(HC_CAP_ASYNC) != 0 { names.append("async") }
  if capabilities & UInt64(HC_CAP_CANCEL) != 0 { names.append("cancel") }
  if capabilities & UInt64(HC_CAP_RECOVER) != 0 { names.append("recover") }
  if capabilities & UInt64(HC_CAP_STREAMING) != 0 { names.append("streaming") }
  return names.isEmpty ? "none" : names.joined(separator: ", ")
}

/// True if `json` is an error body `{"code":…,"message":…}`.
func isErrorBody(_ json: String) -> Bool {
  guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return false }
  return object["code"] is String && object["message"] is String
}

func errorText(_ json: String) -> String {
  guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
    let message = object["message"] as? String
  else { return json.isEmpty ? "no detail" : String(json.prefix(200)) }
  return message
}
