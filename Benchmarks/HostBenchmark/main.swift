// hiclaw-bench-host: the host benchmarks of issue 3, each next to its floor or peer, in one run.
// Run it through scripts/bench-host.sh (release build); results and their reading:
// Benchmarks/RESULTS.md ("Host benchmarks").
//
//   store  BM4  store create/update throughput, 1 and 16 writers, vs raw SQLite (same schema, pragmas)
//   apply  BM1  1,000 Workers created through the REST API until all are Running (hc_memory
//               backend in process), vs the raw SQLite time for the same number of commits
//   get    BM2  GET /api/v1/workers/{name} p50/p99 at 1 and 64 clients vs a loopback round trip
//   watch  BM3  watch event latency at 100 writes/s, over HTTP and (peer) the store's own watch
//   rss         idle RSS of a spawned hiclaw-host with 1,000 Workers vs with none
//   codec       the Model's JSON work per Worker (encode, spec hash, decode + validate) vs
//               Foundation's coders
//
// Output: tables for people, then one JSON object per line (every line starting with `{`).
import Metrics
import Foundation
import Glibc
import Logging
import Prometheus
import Store

// The store's process-wide SQLite settings, before the raw floors open their connections, so
// that both sides of every comparison run with the same SQLite.
Store.configureSQLite()

let allSections = ["store", "apply", "get", "watch", "rss", "codec"]

let usage = """
  usage: hiclaw-bench-host [options]
    --sections LIST       comma-separated subset of \(allSections.joined(separator: ",")) (default: all)
    --repetitions N       repetitions of every measurement (default 5; rss: 2 per variant)
    --quick               small counts and 2 repetitions, to check the program itself (< 1 min)
    --json-out FILE       also write the JSON lines to FILE
    --memory-driver PATH  libhc_memory.so (default: next to this program)
    --host-binary PATH    hiclaw-host, for rss (default: next to this program)
  --cli-binary PATH     hiclaw, for apply (default: next to this program)
    --writes N            BM4 writes per case (default 5000)
    --workers N           Workers for apply and rss (default 1000)
    --requests N          BM2 requests per repetition and concurrency (default 20000)
    --watch-writes N      BM3 writes per repetition at 100/s (default 1000)
    --keep                keep the temporary directory
  """

struct Options {
  var sections: Set<String> = Set(allSections)
  var repetitions = 5
  var rssRepetitions = 2
  var jsonOut: String?
  var memoryDriver: String
  var hostBinary: String
  var cliBinary: String
  var writes = 5000
  var workers = 1000
  var requests = 20_000
  var watchWrites = 1000
  var quick = false
  var keep = false
}

func parseOptions(_ arguments: [String]) -> Options {
  let directory = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    ?? CommandLine.arguments[0]).deletingLastPathComponent()
  var options = Options(
    memoryDriver: directory.appendingPathComponent("libhc_memory.so").path,
    hostBinary: directory.appendingPathComponent("hiclaw-host").path,
    cliBinary: directory.appendingPathComponent("hiclaw").path)
  var iterator = arguments.makeIterator()
  var repetitionsSet = false
  func value(_ flag: String) -> String {
    guard let value = iterator.next() else { fail("\(flag) needs a value\n\(usage)") }
    return value
  }
  func number(_ flag: String) -> Int {
    guard let number = Int(value(flag)), number > 0 else { fail("\(flag) needs a positive number") }
    return number
  }
  var explicit: [String: Int] = [:]
  while let flag = iterator.next() {
    switch flag {
    case "--sections":
      options.sections = Set(value(flag).split(separator: ",").map(String.init))
    case "--repetitions", "--reps":
      options.repetitions = number(flag)
      repetitionsSet = true
    case "--json-out": options.jsonOut = value(flag)
    case "--memory-driver": options.memoryDriver = value(flag)
    case "--host-binary": options.hostBinary = value(flag)
    case "--cli-binary": options.cliBinary = value(flag)
    case "--writes", "--workers", "--requests", "--watch-writes": explicit[flag] = number(flag)
    case "--quick": options.quick = true
    case "--keep": options.keep = true
    case "-h", "--help":
      print(usage)
      exit(0)
    default: fail("unknown argument \(flag)\n\(usage)")
    }
  }
  if options.quick {
    options.repetitions = 2
    options.rssRepetitions = 1
    options.writes = 800
    options.workers = 200
    options.requests = 2000
    options.watchWrites = 150
  }
  if repetitionsSet { options.rssRepetitions = options.repetitions }
  options.writes = explicit["--writes"] ?? options.writes
  options.workers = explicit["--workers"] ?? options.workers
  options.requests = explicit["--requests"] ?? options.requests
  options.watchWrites = explicit["--watch-writes"] ?? options.watchWrites
  let unknown = options.sections.subtracting(allSections)
  if !unknown.isEmpty { fail("unknown sections \(unknown.sorted())") }
  return options
}

func machineFacts(_ options: Options, root: URL) -> [String: String] {
  var facts: [String: String] = [:]
  facts["date"] = ISO8601DateFormatter().string(from: Date())
  facts["nproc"] = "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))"
  if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
    let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
  {
    facts["cpu"] = line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
  }
  if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
    facts["loadavg"] = load.split(separator: " ").prefix(3).joined(separator: " ")
  }
  var names = utsname()
  uname(&names)
  facts["kernel"] = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
  #if DEBUG
    facts["build"] = "debug"
  #else
    facts["build"] = "release"
  #endif
  // The file system of the temporary directory: the longest mount point that contains it.
  if let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) {
    var best: [Substring] = []
    for line in mounts.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count >= 3 else { continue }
      let mountPoint = String(fields[1])
      let prefix = mountPoint == "/" ? "/" : mountPoint + "/"
      guard root.path == mountPoint || root.path.hasPrefix(prefix) else { continue }
      if best.isEmpty || mountPoint.count > best[1].count { best = fields }
    }
    if !best.isEmpty { facts["tmp_fs"] = "\(best[2]) (\(best[0]) on \(best[1]))" }
  }
  facts["tmp"] = root.path
  facts["repetitions"] = "\(options.repetitions)"
  facts["sections"] = allSections.filter(options.sections.contains).joined(separator: ",")
  facts["writes"] = "\(options.writes)"
  facts["workers"] = "\(options.workers)"
  facts["requests"] = "\(options.requests)"
  facts["watch_writes"] = "\(options.watchWrites)"
  if options.quick { facts["quick"] = "true" }
  return facts
}

// MARK: Run

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
let report = Report()
let root = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-bench-host-\(getpid())")
try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
let facts = machineFacts(options, root: root)
var meta = Record(section: "meta", name: "machine")
meta.facts = facts
report.add(meta)
print("hiclaw-bench-host — \(facts["date"]!)")
print("machine: \(facts["nproc"]!) CPUs, \(facts["cpu"] ?? "?"), Linux \(facts["kernel"]!), load \(facts["loadavg"] ?? "?"), "
  + "\(facts["build"]!) build, temporary files on \(facts["tmp_fs"] ?? "?")")
#if DEBUG
  print("WARNING: this is a debug build; numbers are not meaningful (use scripts/bench-host.sh)")
#endif

// The daemon's logging and metrics setup: warnings and up to standard error, swift-metrics over
// Prometheus (the reconcile engine and the API server record through it on every call).
LoggingSystem.bootstrap { label in
  var handler = StreamLogHandler.standardError(label: label)
  handler.logLevel = benchLogLevel
  return handler
}
let registry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

do {
  if options.sections.contains("store") {
    try await StoreBench.run(root: root, count: options.writes, repetitions: options.repetitions, report: report)
  }
  // The in-memory backend, loaded once (a library can be initialised by one driver host per process).
  var driver: MemoryDriver?
  if !options.sections.isDisjoint(with: ["apply", "get", "watch"]) {
    var logger = Logger(label: "hiclaw-bench-host")
    logger.logLevel = benchLogLevel
    driver = try await MemoryDriver.load(path: options.memoryDriver, root: root, logger: logger)
  }
  if options.sections.contains("apply"), let driver {
    try await ApplyBench.run(root: root, options: options, registry: registry, driver: driver, report: report)
  }
  if options.sections.contains("get") || options.sections.contains("watch"), let driver {
    try await HTTPBench.run(root: root, options: options, registry: registry, driver: driver, report: report)
  }
  if options.sections.contains("rss") {
    try await RSSBench.run(root: root, options: options, report: report)
  }
  if options.sections.contains("codec") {
    try CodecBench.run(options: options, report: report)
  }
} catch {
  fail("\(error)")
}

if !options.keep { try? FileManager.default.removeItem(at: root) }

// MARK: Verdicts and JSON lines

let judged = report.records.filter { $0.pass != nil }
report.heading("Targets")
report.table(
  ["section", "case", "measured", "target", "result"],
  judged.map { record in
    [record.section, record.name, record.measured ?? formatRatio(record.ratio), record.target ?? "", verdict(record.pass)]
  })

print("")
print("JSON lines:")
let lines = report.jsonLines()
for line in lines { print(line) }
if let path = options.jsonOut {
  do {
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  } catch {
    fail("cannot write \(path): \(error)")
  }
}
