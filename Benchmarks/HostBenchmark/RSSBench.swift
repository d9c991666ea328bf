// Idle RSS of the real daemon: a spawned release `hiclaw-host` (memory backend), idle with no
// Workers (the peer), then idle with N Workers created over HTTP and reconciled.
import Foundation
import Glibc

enum RSSBench {
  /// A running `hiclaw-host` child.
  final class Daemon {
    let process: Process
    let port: Int
    let token: String
    let directory: URL

    init(binary: String, directory: URL, extraArguments: [String], environment: [String: String]) throws {
      guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw BenchError("\(binary) is not executable: build the product hiclaw-host (scripts/bench-host.sh does) or pass --host-binary")
      }
      self.directory = directory
      process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", directory.path, "--backend", "memory"] + extraArguments
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
      let output = Pipe()
      process.standardOutput = output
      process.standardError = FileHandle(forWritingAtPath: "/dev/null")
      try process.run()
      // "hiclaw-host listening on http://127.0.0.1:PORT"
      let handle = output.fileHandleForReading
      var text = ""
      let deadline = Date().addingTimeInterval(30)
      var found: Int?
      while found == nil, Date() < deadline, process.isRunning {
        let data = handle.availableData
        if data.isEmpty { break }
        text += String(decoding: data, as: UTF8.self)
        if let range = text.range(of: "listening on http://127.0.0.1:") {
          let digits = text[range.upperBound...].prefix { $0.isNumber }
          if text[range.upperBound...].dropFirst(digits.count).first?.isNewline == true { found = Int(digits) }
        }
      }
      guard let port = found else {
        process.terminate()
        throw BenchError("hiclaw-host did not report its port; output: \(text)")
      }
      self.port = port
      // Keep draining its output so that it never blocks on a full pipe.
      startThread("host-stdout") {
        while !handle.availableData.isEmpty {}
      }
      let tokenFile = directory.appendingPathComponent("admin.token")
      guard let token = try? String(contentsOf: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
        !token.isEmpty
      else {
        process.terminate()
        throw BenchError("no admin token in \(tokenFile.path)")
      }
      self.token = token
    }

    var memory: ProcessMemory? { memoryOf(pid: process.processIdentifier) }

    func stop() {
      if process.isRunning {
        process.terminate()
        process.waitUntilExit()
      }
    }
  }

  /// One way of running the daemon.
  struct Variant {
    var name: String
    var arguments: [String]
    var environment: [String: String]
  }

  static let variants = [
    // What the brief (and a user) runs: the memory backend with its default config, which
    // persists its world through the host's state service (a state file rewritten per mutation).
    Variant(name: "--backend memory (default config)", arguments: [], environment: [:]),
    // Peers that take one cost out at a time.
    Variant(name: "peer: --backend-config {\"persist\":false}", arguments: ["--backend-config", #"{"persist":false}"#],
      environment: [:]),
    Variant(name: "peer: persist false, MALLOC_ARENA_MAX=2", arguments: ["--backend-config", #"{"persist":false}"#],
      environment: ["MALLOC_ARENA_MAX": "2"]),
  ]

  struct Sample {
    var empty: ProcessMemory
    var full: ProcessMemory
    var applySeconds: Double
  }

  /// Counts the Workers whose status phase is Running, by listing them over HTTP.
  static func runningCount(port: Int, token: String) throws -> Int {
    let connection = try HTTPConnection(port: port)
    let response = try connection.call("GET", "/api/v1/workers", token: token)
    guard response.status == 200 else { throw BenchError("list answered \(response.status)") }
    return response.bodyString.components(separatedBy: #""phase":"Running""#).count - 1
  }

  static func once(binary: String, variant: Variant, root: URL, workers: Int, idle: Duration) async throws -> Sample {
    let directory = freshDirectory(root, "daemon")
    defer { try? FileManager.default.removeItem(at: directory) }
    let daemon = try Daemon(binary: binary, directory: directory, extraArguments: variant.arguments, environment: variant.environment)
    defer { daemon.stop() }
    try await Task.sleep(for: idle)
    guard let empty = daemon.memory else { throw BenchError("cannot read /proc/\(daemon.process.processIdentifier)/status") }
    let start = nowNanoseconds()
    _ = try await InProcessHost.createWorkers(port: daemon.port, token: daemon.token, count: workers)
    // Poll with a list every 250 ms (its transient memory is freed before the idle reading).
    let deadline = ContinuousClock.now + .seconds(600)
    let (port, token) = (daemon.port, daemon.token)
    while try await onThread("rss-poll", { try runningCount(port: port, token: token) }) < workers {
      guard ContinuousClock.now < deadline else { throw BenchError("the daemon's Workers did not all reach Running") }
      try await Task.sleep(for: .milliseconds(250))
    }
    let applySeconds = secondsSince(start)
    try await Task.sleep(for: idle)
    guard let full = daemon.memory else { throw BenchError("cannot read the daemon's memory") }
    return Sample(empty: empty, full: full, applySeconds: applySeconds)
  }

  static func run(root: URL, options: Options, report: Report) async throws {
    let workers = options.workers
    let idle: Duration = options.quick ? .seconds(1) : .seconds(5)
    report.heading("Idle RSS of hiclaw-host --backend memory: \(options.rssRepetitions) fresh daemon(s) per variant, "
      + "VmRSS after \(idle) idle with 0 Workers, then after \(idle) idle with \(workers) Workers Running")
    var samples: [[Sample]] = Array(repeating: [], count: variants.count)
    for repetition in 0..<options.rssRepetitions {
      for (index, variant) in variants.enumerated() {
        let sample = try await once(binary: options.hostBinary, variant: variant, root: root, workers: workers, idle: idle)
        samples[index].append(sample)
        note(String(format: "RSS repetition %d/%d, %@: 0 Workers %@ (anon %@, file %@); %d Workers %@ (anon %@, file %@, peak %@); apply %.1f s",
          repetition + 1, options.rssRepetitions, variant.name, formatBytes(sample.empty.rss), formatBytes(sample.empty.anon),
          formatBytes(sample.empty.file), workers, formatBytes(sample.full.rss), formatBytes(sample.full.anon),
          formatBytes(sample.full.file), formatBytes(sample.full.hwm), sample.applySeconds))
      }
    }
    var rows: [[String]] = []
    for (index, variant) in variants.enumerated() {
      let values = samples[index]
      var empty = Record(section: "rss", name: "\(variant.name): idle, 0 Workers", unit: "bytes")
      empty.set(values.map(\.empty.rss))
      empty.note = "RssAnon \(formatBytes(median(values.map(\.empty.anon)))), RssFile \(formatBytes(median(values.map(\.empty.file))))"
      var full = Record(section: "rss", name: "\(variant.name): idle, \(workers) Workers Running", unit: "bytes")
      full.set(values.map(\.full.rss))
      full.ratio = full.median! / empty.median!
      full.ratioTo = "idle, 0 Workers"
      full.note = "RssAnon \(formatBytes(median(values.map(\.full.anon)))), RssFile \(formatBytes(median(values.map(\.full.file)))), "
        + "peak VmHWM \(formatBytes(median(values.map(\.full.hwm)))), apply \(String(format: "%.1f", median(values.map(\.applySeconds)))) s"
      if index == 0 {
        full.target = "≤ 64 MiB" + (workers == 1000 ? "" : " (defined for 1,000 Workers)")
        full.pass = full.median! <= 64 * 1_048_576
        full.measured = formatBytes(full.median)
      }
      report.add(empty)
      report.add(full)
      rows.append([empty.name, formatBytes(empty.median), range(empty, formatBytes), "", empty.note!, "", ""])
      rows.append([full.name, formatBytes(full.median), range(full, formatBytes), formatRatio(full.ratio), full.note!,
        full.target ?? "", verdict(full.pass)])
    }
    report.table(["case", "VmRSS", "range", "vs 0 Workers", "breakdown (medians)", "target", "result"], rows)
  }
}
