// BM1: apply N Workers through the REST API with the real no-op backend (hc_memory, in process)
// until every one is Running; the floor is what raw SQLite needs to commit the same number of
// writes one by one, measured right before each repetition.
import Foundation
import Logging
import Prometheus
import Store

enum ApplyBench {
  struct Repetition {
    var wallSeconds: Double
    var createSeconds: Double
    var writesPerWorker: Double
    var writesPerTransaction: Double
    var rawCommitsPerSecond: Double
    var floorSeconds: Double { writesPerWorker * Double(workers) / rawCommitsPerSecond }
    var workers: Int
  }

  static func run(root: URL, options: Options, registry: PrometheusCollectorRegistry, report: Report) async throws {
    let workers = options.workers
    report.heading("BM1 apply \(workers) Workers through the REST API until all are Running (hc_memory in process, "
      + "4 reconcilers), \(options.repetitions) repetitions (medians)")
    var logger = Logger(label: "hiclaw-bench-host")
    logger.logLevel = benchLogLevel
    let driver = try await MemoryDriver.load(path: options.memoryDriver, root: root, logger: logger)
    var repetitions: [Repetition] = []
    for index in 0..<options.repetitions {
      // The floor's commit rate, measured next to every repetition (about as many commits).
      let raw = try await StoreBench.rawCommitRate(root: root, count: max(1000, workers * 5))
      let repetition = try await once(root: root, workers: workers, registry: registry, driver: driver, rawRate: raw)
      repetitions.append(repetition)
      note(String(format: "BM1 repetition %d/%d: %.3f s (create %.3f s), %.2f writes/Worker, %.1f writes/tx, raw %.0f commits/s, floor %.3f s",
        index + 1, options.repetitions, repetition.wallSeconds, repetition.createSeconds, repetition.writesPerWorker,
        repetition.writesPerTransaction, repetition.rawCommitsPerSecond, repetition.floorSeconds))
    }

    var wall = Record(section: "apply", name: "\(workers) Workers created → all Running", unit: "s")
    wall.set(repetitions.map(\.wallSeconds))
    var floor = Record(section: "apply", name: "floor: writes × raw SQLite commit time", unit: "s")
    floor.set(repetitions.map(\.floorSeconds))
    var ratio = Record(section: "apply", name: "wall time / floor", unit: "ratio")
    ratio.set(repetitions.map { $0.wallSeconds / $0.floorSeconds })
    ratio.ratio = ratio.median
    ratio.ratioTo = "floor (same repetition)"
    ratio.target = "≤ 2× floor"
    ratio.pass = ratio.median! <= 2
    wall.target = "≤ 5 s" + (workers == 1000 ? "" : " (defined for 1,000 Workers)")
    wall.pass = wall.median! <= 5
    wall.note = formatSeconds(wall.median)
    var creates = Record(section: "apply", name: "of which: the \(workers) POSTs", unit: "s")
    creates.set(repetitions.map(\.createSeconds))
    var writes = Record(section: "apply", name: "store writes per Worker", unit: "writes/worker")
    writes.set(repetitions.map(\.writesPerWorker))
    var batch = Record(section: "apply", name: "writes per transaction (group commit)", unit: "writes/tx")
    batch.set(repetitions.map(\.writesPerTransaction))
    var raw = Record(section: "apply", name: "raw SQLite commit rate (1 writer)", unit: "commits/s")
    raw.set(repetitions.map(\.rawCommitsPerSecond))
    for record in [wall, creates, writes, batch, raw, floor, ratio] { report.add(record) }
    report.table(["measurement", "median", "range", "target", "result"], [
      [wall.name, formatSeconds(wall.median), range(wall, formatSeconds), wall.target!, verdict(wall.pass)],
      [creates.name, formatSeconds(creates.median), range(creates, formatSeconds), "", ""],
      [writes.name, String(format: "%.2f", writes.median!), range(writes) { String(format: "%.2f", $0 ?? 0) }, "", ""],
      [batch.name, String(format: "%.1f", batch.median!), range(batch) { String(format: "%.1f", $0 ?? 0) }, "", ""],
      [raw.name, formatRate(raw.median), range(raw, formatRate), "", ""],
      [floor.name, formatSeconds(floor.median), range(floor, formatSeconds), "", ""],
      [ratio.name, formatRatio(ratio.median), range(ratio, formatRatio), ratio.target!, verdict(ratio.pass)],
    ])
  }

  static func once(root: URL, workers: Int, registry: PrometheusCollectorRegistry, driver: MemoryDriver, rawRate: Double)
    async throws -> Repetition
  {
    let host = try await InProcessHost.start(root: root, registry: registry, backend: driver)
    do {
      // Let the controllers list (nothing) and start watching.
      try await Task.sleep(for: .milliseconds(100))
      let before = host.store.writeStatistics
      let revision = host.store.currentRevision
      async let runningAt = host.waitUntilRunning(count: workers, from: revision, timeout: .seconds(120))
      let start = nowNanoseconds()
      let createSeconds = try await InProcessHost.createWorkers(port: host.port, token: host.token, count: workers)
      let end = try await runningAt
      let settled = await host.waitForQuiet()
      // Check the result the slow way, outside the clock.
      let list = try await host.store.list(kind: workerKind)
      let running = list.items.filter { $0.status.text.contains(#""phase":"Running""#) }.count
      guard list.items.count == workers, running == workers else {
        throw BenchError("after the apply: \(list.items.count) Workers, \(running) Running")
      }
      await host.stop()
      let writes = settled.writes - before.writes
      let transactions = settled.transactions - before.transactions
      return Repetition(
        wallSeconds: Double(end - start) / 1e9, createSeconds: createSeconds,
        writesPerWorker: Double(writes) / Double(workers),
        writesPerTransaction: Double(writes) / Double(max(1, transactions)),
        rawCommitsPerSecond: rawRate, workers: workers)
    } catch {
      await host.stop()
      throw error
    }
  }
}
