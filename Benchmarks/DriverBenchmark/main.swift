// hiclaw-bench-driver: measures the driver ABI's costs, each next to its floor or peer, in one run.
// Run it through scripts/bench.sh (release build); results and their reading: Benchmarks/RESULTS.md.
//
//   1. load      dlopen + magic + init (+ describe), C and Swift drivers, fresh child per sample
//   2. trivial   a bare vtable call through the ABI function pointer vs a direct Swift call
//   3. json      1 KiB JSON in / 256 B out in process: raw vtable, callRaw, call, Driver façade
//   4. runner    the same call through hiclaw-driver-runner vs a socketpair ping-pong
//
// Output: tables for people, then one JSON object per line (every line starting with `{`).
import DriverHost
import DriverProtocols
import Foundation
import Glibc
import Logging

let usage = """
  usage: hiclaw-bench-driver --bench-driver libhc_bench.so --swift-driver libhc_docker.so [options]
    --runner PATH         hiclaw-driver-runner (default: $HICLAW_RUNNER, else next to this program)
    --sections LIST       comma-separated subset of load,trivial,json,runner (default: all)
    --reps N              repetitions of the loop benchmarks (default 7)
    --load-children N     child processes per driver and mode for load (default 21)
    --trivial-calls N     calls per repetition for the trivial call (default 10000000)
    --json-calls N        calls per repetition for the in-process JSON call (default 200000)
    --timed-calls N       individually timed calls: façade and runner (default 20000)
    --blocks N            interleaved blocks for the runner section (default 4)
    --json-out FILE       also write the JSON lines to FILE
    --quick               small counts, for checking the program itself
  """

// MARK: Hidden child modes (this program re-executes itself).

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--measure-load" {
  guard arguments.count >= 4, arguments[2] == "--mode" else { fail("--measure-load PATH --mode steps|host") }
  LoadBench.child(path: arguments[1], mode: arguments[3])
}
if arguments.first == "--pong-fd" {
  guard arguments.count >= 6, let fd = Int32(arguments[1]), let request = Int(arguments[3]),
    let response = Int(arguments[5])
  else { fail("--pong-fd FD --request-size N --response-size N") }
  if arguments.count >= 7, arguments[6] == "--relay" {
    PingPongPeer.serveRelayed(fd: fd, requestSize: request, responseSize: response)
  } else {
    PingPongPeer.serve(fd: fd, requestSize: request, responseSize: response)
  }
  exit(0)
}

// MARK: Options

struct Options {
  var benchDriver = ""
  var swiftDriver = ""
  var runner: String?
  var sections: Set<String> = ["load", "trivial", "json", "runner"]
  var reps = 7
  var loadChildren = 21
  var trivialCalls = 10_000_000
  var jsonCalls = 200_000
  var timedCalls = 20_000
  var blocks = 4
  var jsonOut: String?
}

func parseOptions(_ arguments: [String]) -> Options {
  var options = Options()
  var iterator = arguments.makeIterator()
  func value(_ flag: String) -> String {
    guard let value = iterator.next() else { fail("\(flag) needs a value\n\(usage)") }
    return value
  }
  func number(_ flag: String) -> Int {
    guard let number = Int(value(flag)), number > 0 else { fail("\(flag) needs a positive number") }
    return number
  }
  while let flag = iterator.next() {
    switch flag {
    case "--bench-driver": options.benchDriver = value(flag)
    case "--swift-driver": options.swiftDriver = value(flag)
    case "--runner": options.runner = value(flag)
    case "--sections": options.sections = Set(value(flag).split(separator: ",").map(String.init))
    case "--reps": options.reps = number(flag)
    case "--load-children": options.loadChildren = number(flag)
    case "--trivial-calls": options.trivialCalls = number(flag)
    case "--json-calls": options.jsonCalls = number(flag)
    case "--timed-calls": options.timedCalls = number(flag)
    case "--blocks": options.blocks = number(flag)
    case "--json-out": options.jsonOut = value(flag)
    case "--quick":
      options.reps = 3
      options.loadChildren = 5
      options.trivialCalls = 1_000_000
      options.jsonCalls = 20_000
      options.timedCalls = 2_000
      options.blocks = 2
    case "-h", "--help":
      print(usage)
      exit(0)
    default: fail("unknown argument \(flag)\n\(usage)")
    }
  }
  let unknown = options.sections.subtracting(["load", "trivial", "json", "runner"])
  if !unknown.isEmpty { fail("unknown sections \(unknown.sorted())") }
  if options.benchDriver.isEmpty { fail("--bench-driver is required\n\(usage)") }
  if options.sections.contains("load") && options.swiftDriver.isEmpty { fail("--swift-driver is required for load\n\(usage)") }
  options.benchDriver = URL(fileURLWithPath: options.benchDriver).standardizedFileURL.path
  if !options.swiftDriver.isEmpty {
    options.swiftDriver = URL(fileURLWithPath: options.swiftDriver).standardizedFileURL.path
  }
  return options
}

// MARK: Machine facts

func machineFacts(_ options: Options) -> [String: String] {
  var facts: [String: String] = [:]
  facts["date"] = ISO8601DateFormatter().string(from: Date())
  facts["nproc"] = "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))"
  if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
    let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
  {
    facts["cpu"] = line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
  }
  var names = utsname()
  uname(&names)
  facts["kernel"] = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
  facts["swift_toolchain"] = SwiftToolchain.current
  #if DEBUG
    facts["build"] = "debug"
  #else
    facts["build"] = "release"
  #endif
  facts["bench_driver"] = options.benchDriver
  facts["swift_driver"] = options.swiftDriver
  facts["reps"] = "\(options.reps)"
  facts["load_children"] = "\(options.loadChildren)"
  facts["trivial_calls"] = "\(options.trivialCalls)"
  facts["json_calls"] = "\(options.jsonCalls)"
  facts["timed_calls"] = "\(options.timedCalls)"
  return facts
}

// MARK: Run

let options = parseOptions(arguments)
let report = Report()
let facts = machineFacts(options)
var meta = Record(section: "meta", name: "machine")
meta.facts = facts
report.add(meta)
print("hiclaw-bench-driver — \(facts["date"]!)")
print("machine: \(facts["nproc"]!) CPUs, \(facts["cpu"] ?? "?"), Linux \(facts["kernel"]!), \(facts["swift_toolchain"]!), \(facts["build"]!) build")
#if DEBUG
  print("WARNING: this is a debug build; numbers are not meaningful (use scripts/bench.sh)")
#endif

if options.sections.contains("load") {
  LoadBench.run(
    drivers: [
      LoadBench.Driver(label: "bench (C)", path: options.benchDriver),
      LoadBench.Driver(label: "docker (Swift)", path: options.swiftDriver),
    ],
    children: options.loadChildren, report: report)
}

let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-bench-\(getpid())")
var logger = Logger(label: "hiclaw-bench")
logger.logLevel = .warning
var configuration = DriverHostConfiguration(stateDirectory: stateDirectory, logger: logger)
if let runner = options.runner { configuration.runnerExecutable = runner }
let host = DriverHost(configuration: configuration)

if options.sections.contains("trivial") || options.sections.contains("json") {
  let setup = InProcessSetup.load(path: options.benchDriver, host: host)
  if options.sections.contains("trivial") {
    CallBench.trivial(setup, reps: options.reps, calls: options.trivialCalls, report: report)
  }
  if options.sections.contains("json") {
    CallBench.json(
      setup, host: host, libraryPath: options.benchDriver, reps: options.reps, calls: options.jsonCalls,
      timed: options.timedCalls, report: report)
  }
}

if options.sections.contains("runner") {
  RunnerBench.run(
    host: host, libraryPath: options.benchDriver, calls: options.timedCalls, blocks: options.blocks,
    starts: options.loadChildren, report: report)
}

try? FileManager.default.removeItem(at: stateDirectory)

// MARK: Verdicts and JSON lines

let judged = report.records.filter { $0.pass != nil }
report.heading("Targets")
report.table(
  ["section", "case", "driver", "median", "target", "result"],
  judged.map { record in
    [
      record.section, record.name, record.driver ?? "",
      record.targetRatio != nil ? formatRatio(record.ratio) : formatTime(record.medianNs),
      record.targetRatio.map { "≤ " + formatRatio($0) } ?? formatTime(record.targetNs),
      verdict(record.pass),
    ]
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
