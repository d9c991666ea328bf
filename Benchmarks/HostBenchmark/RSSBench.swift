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

    init(binary: String, directory: URL) throws {
      guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw BenchError("\(binary) is not executable: build the product hiclaw-host (scripts/bench-host.sh does) or pass --host-binary")
      }
      self.directory = directory
      process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", directory.path, "--backend", "memory"]
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

    var memory: (rss: Double, hwm: Double)? { memoryOf(pid: process.processIdentifier) }

    func stop() {
      if process.isRunning {
        process.terminate()
        process.waitUntilExit()
      }
    }
  }

  struct Sample {
    var idleEmpty: Double
    var idleFull: Double
    var peak: Double
    var applySeconds: Double
  }

  /// Counts the Workers whose status phase is Running, by listing them over HTTP.
  static func runningCount(port: Int, token: String) throws -> Int {
    let connection = try HTTPConnection(port: port)
    let response = try connection.call("GET", "/api/v1/workers", token: token)
    guard response.status == 200 else { throw BenchError("list answered \(response.status)") }
    return response.bodyString.components(separatedBy: #""phase":"Running""#).count - 1
  }

  static func once(binary: String, root: URL, workers: Int, idle: Duration) async throws -> Sample {
    let directory = freshDirectory(root, "daemon")
    defer { try? FileManager.default.removeItem(at: directory) }
    let daemon = try Daemon(binary: binary, directory: directory)
    defer { daemon.stop() }
    try await Task.sleep(for: idle)
    guard let empty = daemon.memory else { throw BenchError("cannot read /proc/\(daemon.process.processIdentifier)/status") }
    let start = nowNanoseconds()
    _ = try await InProcessHost.createWorkers(port: daemon.port, token: daemon.token, count: workers)
    // Poll (a list every 250 ms; its transient memory is freed before the idle reading).
    let deadline = ContinuousClock.now + .seconds(120)
    let (port, token) = (daemon.port, daemon.token)
    while try await onThread("rss-poll", { try runningCount(port: port, token: token) }) < workers {
      guard ContinuousClock.now < deadline else { throw BenchError("the daemon's Workers did not all reach Running") }
      try await Task.sleep(for: .milliseconds(250))
    }
    let applySeconds = secondsSince(start)
    try await Task.sleep(for: idle)
    guard let full = daemon.memory else { throw BenchError("cannot read the daemon's memory") }
    return Sample(idleEmpty: empty.rss, idleFull: full.rss, peak: full.hwm, applySeconds: applySeconds)
  }

  static func run(root: URL, options: Options, report: Report) async throws {
    let workers = options.workers
    let idle: Duration = options.quick ? .seconds(1) : .seconds(5)
    report.heading("Idle RSS of hiclaw-host (--backend memory): \(options.rssRepetitions) fresh daemon(s), "
      + "VmRSS after \(idle) idle with 0 Workers, then with \(workers) Workers Running")
    var samples: [Sample] = []
    for repetition in 0..<options.rssRepetitions {
      let sample = try await once(binary: options.hostBinary, root: root, workers: workers, idle: idle)
      samples.append(sample)
      note(String(format: "RSS repetition %d/%d: idle, 0 Workers %@; idle, %d Workers %@ (peak %@); apply took %.2f s",
        repetition + 1, options.rssRepetitions, formatBytes(sample.idleEmpty), workers, formatBytes(sample.idleFull),
        formatBytes(sample.peak), sample.applySeconds))
    }
    var empty = Record(section: "rss", name: "idle, 0 Workers (peer)", unit: "bytes")
    empty.set(samples.map(\.idleEmpty))
    var full = Record(section: "rss", name: "idle, \(workers) Workers Running", unit: "bytes")
    full.set(samples.map(\.idleFull))
    full.ratio = full.median! / empty.median!
    full.ratioTo = "idle, 0 Workers"
    full.target = "≤ 64 MiB" + (workers == 1000 ? "" : " (defined for 1,000 Workers)")
    full.pass = full.median! <= 64 * 1_048_576
    full.measured = formatBytes(full.median)
    var peak = Record(section: "rss", name: "peak (VmHWM) during the apply", unit: "bytes")
    peak.set(samples.map(\.peak))
    let perWorker = (full.median! - empty.median!) / Double(workers)
    for record in [empty, full, peak] { report.add(record) }
    report.table(["case", "median", "range", "vs 0 Workers", "target", "result"], [
      [empty.name, formatBytes(empty.median), range(empty, formatBytes), "", "", ""],
      [full.name, formatBytes(full.median), range(full, formatBytes), formatRatio(full.ratio), full.target!, verdict(full.pass)],
      [peak.name, formatBytes(peak.median), range(peak, formatBytes), "", "", ""],
    ])
    print(String(format: "%.1f KiB per Worker (idle difference / %d)", perWorker / 1024, workers))
  }
}
