// BM1: apply N Workers through the REST API with the real no-op backend (hc_memory, in process)
// until every one is Running; the floor is what raw SQLite needs to commit the same number of
// writes one by one, measured right before each repetition.
import DriverHost
import DriverProtocols
import Foundation
import Model
import ResourceStore
import Reconcile
import Logging
import Prometheus
import Store

enum ApplyBench {
  /// The CLI's default `--concurrency`: the in-process client sends the same way.
  static let cliConcurrency = 8

  struct Repetition {
    /// `hiclaw apply -f` (the real CLI process, defaults) until every Worker is Running.
    var wallSeconds: Double
    /// Until the CLI exited.
    var cliSeconds: Double
    /// CPU of the CLI process, and of the host (this process) from the start of the CLI until
    /// all are Running.
    var cliCPUSeconds: Double
    var hostCPUSeconds: Double
    var writesPerWorker: Double
    var writesPerTransaction: Double
    /// WAL pages the store's commits wrote, per Worker (deterministic: the I/O side of the cost).
    var walPagesPerWorker: Double
    var rawCommitsPerSecond: Double
    var floorSeconds: Double { writesPerWorker * Double(workers) / rawCommitsPerSecond }
    var workers: Int
    /// Peers: the same PUTs from a client in this process, 8 at a time (the CLI's pattern without
    /// its process) and one at a time.
    var inProcessSeconds: Double = 0
    /// The CPU of that client's threads: a lean HTTP client's cost, next to the CLI's.
    var inProcessClientCPUSeconds: Double = 0
    var sequentialSeconds: Double = 0
    /// Peer: the PUTs alone (8 clients), to a host with no controllers running.
    var createOnlySeconds: Double = 0
    var createOnlyCPUSeconds: Double = 0
    /// Peer: the reconciles alone (the Workers stored first, then the controllers started).
    var reconcileOnlySeconds: Double = 0
    var reconcileOnlyCPUSeconds: Double = 0
    /// Peer: the backend calls of the apply alone (inspect, create, start per Worker).
    var backendSeconds: Double = 0
    var backendCPUSeconds: Double = 0
  }

  static func run(root: URL, options: Options, registry: PrometheusCollectorRegistry, driver: MemoryDriver, report: Report)
    async throws
  {
    let workers = options.workers
    guard FileManager.default.isExecutableFile(atPath: options.cliBinary) else {
      throw BenchError("\(options.cliBinary) is not there: build the product hiclaw (scripts/bench-host.sh does) or pass --cli-binary")
    }
    let file = root.appendingPathComponent("apply-\(workers)-workers.yaml")
    try (0..<workers).map { """
      apiVersion: hiclaw.io/v1beta1
      kind: Worker
      metadata:
        name: \(InProcessHost.workerName($0))
      spec:
        model: qwen3-coder
      """ }.joined(separator: "\n---\n").write(to: file, atomically: true, encoding: .utf8)
    report.heading("BM1 `hiclaw apply -f` of \(workers) Workers until all are Running (the CLI binary against the host in "
      + "this process: store, API, \(ControllerManager.defaultConcurrency) reconciles per kind, hc_memory), \(options.repetitions) repetitions (medians)")
    var repetitions: [Repetition] = []
    for index in 0..<options.repetitions {
      // The floor's commit rate, measured next to every repetition (about as many commits).
      let raw = try await StoreBench.rawCommitRate(root: root, count: max(1000, workers * 5))
      var repetition = try await once(root: root, workers: workers, registry: registry, driver: driver, rawRate: raw,
        client: .cli(options.cliBinary, file))
      let createOnly = try await createOnly(root: root, workers: workers, registry: registry, driver: driver)
      repetition.createOnlySeconds = createOnly.seconds
      repetition.createOnlyCPUSeconds = createOnly.hostCPUSeconds
      repetition.reconcileOnlySeconds = createOnly.reconcileSeconds
      repetition.reconcileOnlyCPUSeconds = createOnly.reconcileCPUSeconds
      (repetition.backendSeconds, repetition.backendCPUSeconds) = try await backendOnly(driver: driver, workers: workers)
      let inProcess = try await once(root: root, workers: workers, registry: registry, driver: driver,
        rawRate: raw, client: .requests(cliConcurrency))
      repetition.inProcessSeconds = inProcess.wallSeconds
      repetition.inProcessClientCPUSeconds = inProcess.cliCPUSeconds
      repetition.sequentialSeconds = try await once(root: root, workers: workers, registry: registry, driver: driver,
        rawRate: raw, client: .requests(1)).wallSeconds
      repetitions.append(repetition)
      let perWorker = { (seconds: Double) in seconds / Double(workers) * 1e6 }
      note(String(format: "BM1 repetition %d/%d: %.3f s (CLI exited at %.3f s; in-process client ×8 %.3f s, ×1 %.3f s; PUTs alone %.3f s; reconciles alone %.3f s; backend alone %.3f s); CPU µs/Worker: host %.0f, CLI %.0f (in-process client %.0f), PUTs alone %.0f, reconciles alone %.0f, backend alone %.0f; %.2f writes/Worker, %.1f writes/tx, raw %.0f commits/s, floor %.3f s",
        index + 1, options.repetitions, repetition.wallSeconds, repetition.cliSeconds, repetition.inProcessSeconds,
        repetition.sequentialSeconds, repetition.createOnlySeconds, repetition.reconcileOnlySeconds, repetition.backendSeconds,
        perWorker(repetition.hostCPUSeconds), perWorker(repetition.cliCPUSeconds),
        perWorker(repetition.inProcessClientCPUSeconds), perWorker(repetition.createOnlyCPUSeconds),
        perWorker(repetition.reconcileOnlyCPUSeconds), perWorker(repetition.backendCPUSeconds),
        repetition.writesPerWorker, repetition.writesPerTransaction, repetition.rawCommitsPerSecond, repetition.floorSeconds))
    }

    func seconds(_ name: String, _ value: (Repetition) -> Double) -> Record {
      var record = Record(section: "apply", name: name, unit: "s")
      record.set(repetitions.map(value))
      return record
    }
    func cpu(_ name: String, _ value: (Repetition) -> Double) -> Record {
      var record = Record(section: "apply", name: name, unit: "µs/worker")
      record.set(repetitions.map { value($0) / Double(workers) * 1e6 })
      return record
    }
    var wall = seconds("\(workers) Workers: hiclaw apply → all Running", \.wallSeconds)
    wall.target = "≤ 5 s" + (workers == 1000 ? "" : " (defined for 1,000 Workers)")
    wall.pass = wall.median! <= 5
    wall.measured = formatSeconds(wall.median)
    let floor = seconds("floor: writes × raw SQLite commit time", \.floorSeconds)
    var ratio = Record(section: "apply", name: "wall time / floor", unit: "ratio")
    ratio.set(repetitions.map { $0.wallSeconds / $0.floorSeconds })
    ratio.ratio = ratio.median
    ratio.ratioTo = "floor (same repetition)"
    ratio.target = "≤ 2× floor"
    ratio.pass = ratio.median! <= 2
    let cliExit = seconds("of which: until the CLI exited", \.cliSeconds)
    var inProcess = seconds("peer: the same PUTs from a client in this process, \(cliConcurrency) at a time", \.inProcessSeconds)
    inProcess.ratio = median(repetitions.map { $0.inProcessSeconds / $0.floorSeconds })
    inProcess.ratioTo = "floor (same repetition)"
    var sequential = seconds("peer: the same, one PUT at a time", \.sequentialSeconds)
    sequential.ratio = median(repetitions.map { $0.sequentialSeconds / $0.floorSeconds })
    sequential.ratioTo = "floor (same repetition)"
    let createOnly = seconds("peer: the PUTs alone (\(cliConcurrency) clients), no controllers running", \.createOnlySeconds)
    let reconcileOnly = seconds("peer: the reconciles alone (Workers stored first, then the controllers start)", \.reconcileOnlySeconds)
    let backend = seconds("peer: the backend calls alone (inspect, create, start × \(workers))", \.backendSeconds)
    var writes = Record(section: "apply", name: "store writes per Worker", unit: "writes/worker")
    writes.set(repetitions.map(\.writesPerWorker))
    var batch = Record(section: "apply", name: "writes per transaction (group commit)", unit: "writes/tx")
    batch.set(repetitions.map(\.writesPerTransaction))
    var walPages = Record(section: "apply", name: "WAL pages written per Worker", unit: "pages/worker")
    walPages.set(repetitions.map(\.walPagesPerWorker))
    var raw = Record(section: "apply", name: "raw SQLite commit rate (1 writer)", unit: "commits/s")
    raw.set(repetitions.map(\.rawCommitsPerSecond))
    let hostCPU = cpu("CPU per Worker: the host, during the apply", \.hostCPUSeconds)
    let cliCPU = cpu("CPU per Worker: the CLI process", \.cliCPUSeconds)
    let createOnlyCPU = cpu("CPU per Worker: the host, the PUTs alone", \.createOnlyCPUSeconds)
    let reconcileCPU = cpu("CPU per Worker: the host, the reconciles alone", \.reconcileOnlyCPUSeconds)
    let backendCPU = cpu("CPU per Worker: the backend calls alone", \.backendCPUSeconds)
    for record in [wall, cliExit, inProcess, sequential, createOnly, reconcileOnly, backend, writes, batch, walPages, raw, floor, ratio,
      hostCPU, cliCPU, createOnlyCPU, reconcileCPU, backendCPU]
    {
      report.add(record)
    }
    func micros(_ value: Double?) -> String { String(format: "%.0f µs", value ?? 0) }
    func secondsRow(_ record: Record, _ target: String = "", _ result: String = "") -> [String] {
      let name = record.ratio.map { record.name + " (÷ floor: " + formatRatio($0) + ")" } ?? record.name
      return [name, formatSeconds(record.median), range(record, formatSeconds), target, result]
    }
    report.table(["measurement", "median", "range", "target", "result"], [
      secondsRow(wall, wall.target!, verdict(wall.pass)),
      secondsRow(cliExit), secondsRow(inProcess), secondsRow(sequential), secondsRow(createOnly), secondsRow(reconcileOnly),
      secondsRow(backend),
      [writes.name, String(format: "%.2f", writes.median!), range(writes) { String(format: "%.2f", $0 ?? 0) }, "", ""],
      [batch.name, String(format: "%.1f", batch.median!), range(batch) { String(format: "%.1f", $0 ?? 0) }, "", ""],
      [raw.name, formatRate(raw.median), range(raw, formatRate), "", ""],
      secondsRow(floor),
      [ratio.name, formatRatio(ratio.median), range(ratio, formatRatio), ratio.target!, verdict(ratio.pass)],
    ] + [hostCPU, cliCPU, createOnlyCPU, reconcileCPU, backendCPU].map { [$0.name, micros($0.median), range($0, micros), "", ""] })
    try await postSteps(root: root, registry: registry, repetitions: options.repetitions, report: report)
    try await postPaths(root: root, registry: registry, repetitions: options.repetitions, report: report)
  }

  /// Where a POST's time goes over HTTP: requests that stop at successive points of the create
  /// path, 1 client, against a host with the store and the API only (p50 of each).
  static func postPaths(root: URL, registry: PrometheusCollectorRegistry, repetitions: Int, report: Report) async throws {
    let host = try await InProcessHost.start(root: root, registry: registry, backend: nil)
    let total = 2000
    let token = host.token
    let cases: [(name: String, status: Int, requests: (Int) -> [[UInt8]])] = [
      ("GET /healthz (no token, no body)", 200, { _ in [HTTPConnection.request("GET", "/healthz", token: nil)] }),
      ("GET /api/v1/workers/{name} (token, store read)", 200, { _ in
        [HTTPConnection.request("GET", "/api/v1/workers/seed", token: token)] }),
      ("POST, body not JSON (token, body read, 400)", 400, { _ in
        [HTTPConnection.request("POST", "/api/v1/workers", token: token, body: "{")] }),
      ("POST ?dryRun=All (+ decode, validate, exists check)", 201, { _ in
        [HTTPConnection.request("POST", "/api/v1/workers?dryRun=All", token: token, body: InProcessHost.workerBody("dry"))] }),
      ("POST (+ the store write): a create", 201, { repetition in
        // The first 10 are sent twice (the measuring loop's warm-up): dry runs, so both answer 201.
        (0..<total).map {
          HTTPConnection.request("POST", "/api/v1/workers" + ($0 < 10 ? "?dryRun=All" : ""), token: token,
            body: InProcessHost.workerBody("p\(repetition)-\($0)"))
        } }),
    ]
    var p50s: [String: [Double]] = [:]
    do {
      let seed = HTTPConnection.request("POST", "/api/v1/workers", token: token, body: InProcessHost.workerBody("seed"))
      _ = try await onThread { try HTTPConnection(port: host.port).roundTrip(seed) }
      for repetition in 0..<repetitions {
        for item in cases {
          let requests = item.requests(repetition)
          let status = item.status
          let port = host.port
          let windowStart = nowNanoseconds()
          let sample = try await onThread("post-paths") {
            try GetBench.measure(port: port, clients: 1, total: total, requests: requests, expectStatus: status)
          }
          noteWindow("POST path: \(item.name)", windowStart, nowNanoseconds())
          p50s[item.name, default: []].append(sample.p50)
        }
      }
      await host.stop()
    } catch {
      await host.stop()
      throw error
    }
    var rows: [[String]] = []
    for item in cases {
      var record = Record(section: "apply", name: "POST path over HTTP: " + item.name, unit: "ns")
      record.set(p50s[item.name]!)
      report.add(record)
      rows.append([item.name, formatTime(record.median), range(record, formatTime)])
    }
    print("")
    print("A POST over HTTP, cut short at successive points (1 client, p50 of \(total) requests, medians of repetitions):")
    report.table(["request", "p50", "range"], rows)
  }

  /// Where a POST's time goes: the create handler's steps called in this process, one at a time
  /// (no HTTP), on the body the apply sends.
  static func postSteps(root: URL, registry: PrometheusCollectorRegistry, repetitions: Int, report: Report) async throws {
    let host = try await InProcessHost.start(root: root, registry: registry, backend: nil)
    let calls = 1000
    var steps: [String: [Double]] = [:]
    let order = [
      "JSONNode.parse (the handler's first look)", "ResourceDecoder strict decode + validate",
      "defaults + validation", "StoredObject(resource:) (spec, status → canonical JSON)", "store.create",
      "StoredObject.resourceJSON() (response body)",
    ]
    do {
      for repetition in 0..<repetitions {
        var times: [String: [Double]] = [:]
        for index in 0..<calls {
          let body = Data(InProcessHost.workerBody("step-\(repetition)-\(index)").utf8)
          var start = nowNanoseconds()
          func lap(_ name: String) {
            let now = nowNanoseconds()
            times[name, default: []].append(Double(now - start))
            start = now
          }
          _ = try JSONNode.parse(body)
          lap(order[0])
          var resource = try ResourceDecoder(mode: .strict).decodeAndValidate(body).value
          lap(order[1])
          Defaults.standard.apply(to: &resource)
          guard Validation.validate(resource).isEmpty else { throw BenchError("invalid body") }
          lap(order[2])
          var object = try StoredObject(resource: resource)
          object.finalizers = [ObjectMeta.cleanupFinalizer]
          lap(order[3])
          let created = try await host.store.create(object)
          lap(order[4])
          guard !(try created.resourceJSON()).isEmpty else { throw BenchError("empty body") }
          lap(order[5])
        }
        for (name, values) in times { steps[name, default: []].append(Summary(values).median) }
      }
      await host.stop()
    } catch {
      await host.stop()
      throw error
    }
    let rows = stepRows(section: "apply", prefix: "POST step in process: ", steps: steps, summed: order, calls: calls,
      repetitions: repetitions, report: report)
    print("")
    print("Where a POST's time goes (each step timed alone, in process, 1 caller; medians of per-repetition medians):")
    report.table(["step", "median", "range"], rows)
  }

  /// What the apply asks of the no-op backend, alone: for each Worker the reconciler's
  /// `inspect` (absent), `create` and `start`, in order, through `DriverWorkerBackend`.
  static func backendOnly(driver: MemoryDriver, workers: Int) async throws -> (seconds: Double, cpuSeconds: Double) {
    let instance = try await driver.driver.makeInstance(config: #"{"persist":false,"namespace":"bench-backend"}"#)
    let backend = DriverWorkerBackend(instance: instance)
    do {
      let start = nowNanoseconds()
      let cpuStart = cpuSeconds()
      for index in 0..<workers {
        let name = "hiclaw-worker-\(InProcessHost.workerName(index))"
        guard try await backend.inspect(name) == nil else { throw BenchError("\(name) exists already") }
        _ = try await backend.create(WorkerBackendV1.CreateRequest(
          name: name, image: "hiclaw/worker-agent:latest", env: ["HICLAW_WORKER_NAME": name],
          labels: ["hiclaw.io/worker": name, "hiclaw.io/role": "standalone", "hiclaw.io/spec-hash": "0123456789abcdef"]))
        _ = try await backend.start(name)
      }
      let seconds = secondsSince(start)
      let cpu = cpuSeconds() - cpuStart
      noteWindow("backend alone", start, nowNanoseconds())
      await instance.destroy()
      return (seconds, cpu)
    } catch {
      await instance.destroy()
      throw error
    }
  }

  /// The POSTs alone: a host with the store and the API only. Then the reconciles alone: the
  /// controllers start over the Workers those POSTs stored (all queued at once by their list).
  static func createOnly(root: URL, workers: Int, registry: PrometheusCollectorRegistry, driver: MemoryDriver) async throws
    -> (seconds: Double, hostCPUSeconds: Double, reconcileSeconds: Double, reconcileCPUSeconds: Double)
  {
    let host = try await InProcessHost.start(root: root, registry: registry, backend: nil)
    var instance: DriverInstance?
    do {
      let cpuStart = cpuSeconds()
      let putsStart = nowNanoseconds()
      let result = try await InProcessHost.createWorkersMeasured(port: host.port, token: host.token, count: workers,
        clients: cliConcurrency)
      noteWindow("PUTs alone", putsStart, nowNanoseconds())
      let cpu = cpuSeconds() - cpuStart - result.clientCPUSeconds

      let made = try await driver.driver.makeInstance(config: #"{"persist":false,"namespace":"bench-reconcile"}"#)
      instance = made
      var logger = Logger(label: "hiclaw-bench-host")
      logger.logLevel = benchLogLevel
      let manager = ControllerManager(
        store: host.store, backend: DriverWorkerBackend(instance: made), concurrency: ControllerManager.defaultConcurrency, logger: logger)
      let revision = host.store.currentRevision
      async let runningAt = host.waitUntilRunning(count: workers, from: revision, timeout: .seconds(120))
      let reconcileStart = nowNanoseconds()
      let reconcileCPUStart = cpuSeconds()
      let controllers = Task { await manager.run() }
      let end = try await runningAt
      let reconcileCPU = cpuSeconds() - reconcileCPUStart
      noteWindow("reconciles alone", reconcileStart, end)
      controllers.cancel()
      await controllers.value
      await host.stop()
      await made.destroy()
      return (result.seconds, cpu, Double(end - reconcileStart) / 1e9, reconcileCPU)
    } catch {
      await host.stop()
      await instance?.destroy()
      throw error
    }
  }

  enum Client {
    /// `count` threads of this process, each with a keep-alive connection.
    case requests(Int)
    /// The `hiclaw` binary: `hiclaw apply -f file`.
    case cli(String, URL)

    var label: String {
      switch self {
      case .requests(let count): "\(count) in-process client(s)"
      case .cli: "hiclaw apply"
      }
    }
  }

  static func once(
    root: URL, workers: Int, registry: PrometheusCollectorRegistry, driver: MemoryDriver, rawRate: Double, client: Client
  ) async throws -> Repetition
  {
    let host = try await InProcessHost.start(root: root, registry: registry, backend: driver)
    do {
      // Let the controllers list (nothing) and start watching.
      try await Task.sleep(for: .milliseconds(100))
      let before = host.store.writeStatistics
      let pagesBefore = host.store.walPagesWritten
      let revision = host.store.currentRevision
      let start = nowNanoseconds()
      async let runningAt = host.waitUntilRunning(count: workers, from: revision, startedAt: start, timeout: .seconds(120))
      let cpuStart = cpuSeconds()
      var clientSeconds: Double
      var clientCPU: Double
      var hostCPU: Double
      switch client {
      case .requests(let count):
        let created = try await InProcessHost.createWorkersMeasured(port: host.port, token: host.token, count: workers,
          clients: count)
        (clientSeconds, clientCPU) = (created.seconds, created.clientCPUSeconds)
      case .cli(let binary, let file):
        let childCPUStart = cpuSeconds(children: true)
        // BENCH_CLI_ARGS (experiments only): extra `hiclaw apply` flags, such as `--concurrency 4`.
        let extra = (ProcessInfo.processInfo.environment["BENCH_CLI_ARGS"] ?? "").split(separator: " ").map(String.init)
        let output = try await runCLI(binary, ["apply", "-f", file.path] + extra, port: host.port, token: host.token)
        clientSeconds = secondsSince(start)
        clientCPU = cpuSeconds(children: true) - childCPUStart
        let created = output.split(separator: "\n").filter { $0.hasSuffix(" created") }.count
        guard created == workers else { throw BenchError("hiclaw apply printed \(created) created lines, not \(workers)") }
      }
      let end = try await runningAt
      hostCPU = cpuSeconds() - cpuStart
      if case .requests = client { hostCPU -= clientCPU }
      noteWindow("apply, \(client.label)", start, end)
      let settled = await host.waitForQuiet()
      // Check the result the slow way, outside the clock.
      let list = try await host.store.list(kind: workerKind)
      let running = list.items.filter { $0.status.text.utf8.contains(subsequence: runningPhase) }.count
      guard list.items.count == workers, running == workers else {
        throw BenchError("after the apply: \(list.items.count) Workers, \(running) Running")
      }
      await host.stop()
      let writes = settled.writes - before.writes
      let transactions = settled.transactions - before.transactions
      return Repetition(
        wallSeconds: Double(end - start) / 1e9, cliSeconds: clientSeconds, cliCPUSeconds: clientCPU, hostCPUSeconds: hostCPU,
        writesPerWorker: Double(writes) / Double(workers),
        writesPerTransaction: Double(writes) / Double(max(1, transactions)),
        walPagesPerWorker: Double(host.store.walPagesWritten - pagesBefore) / Double(workers),
        rawCommitsPerSecond: rawRate, workers: workers)
    } catch {
      await host.stop()
      throw error
    }
  }

  /// Runs the CLI against the host on `port` (its URL and token from the environment, as a user
  /// would set them), on a thread of its own; returns its standard output, or throws with its
  /// error output if it failed.
  static func runCLI(_ binary: String, _ arguments: [String], port: Int, token: String) async throws -> String {
    try await onThread("cli") {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = arguments
      var environment = ProcessInfo.processInfo.environment
      environment["HICLAW_CONTROLLER_URL"] = "http://127.0.0.1:\(port)"
      environment["HICLAW_TOKEN"] = token
      process.environment = environment
      let stdout = Pipe()
      let stderr = Pipe()
      process.standardOutput = stdout
      process.standardError = stderr
      try process.run()
      // Read before waiting: a full pipe would block the CLI.
      let output = stdout.fileHandleForReading.readDataToEndOfFile()
      let errors = stderr.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else {
        throw BenchError("hiclaw \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): "
          + String(decoding: errors.prefix(2000), as: UTF8.self))
      }
      return String(decoding: output, as: UTF8.self)
    }
  }
}
