// BM2 (GET latency vs a loopback round trip) and BM3 (watch event latency at 100 writes/s vs
// the store's own watch), against the API server in this process, with the controllers running
// over hc_memory and N reconciled Workers stored (the state of a host after an apply).
import Foundation
import GRDB
import Logging
import Model
import ResourceStore
import Prometheus
import Store
import Synchronization

enum HTTPBench {
  static func run(root: URL, options: Options, registry: PrometheusCollectorRegistry, driver: MemoryDriver, report: Report)
    async throws
  {
    let host = try await InProcessHost.start(root: root, registry: registry, backend: driver)
    do {
      let revision = host.store.currentRevision
      async let running = host.waitUntilRunning(count: options.workers, from: revision, timeout: .seconds(120))
      _ = try await InProcessHost.createWorkers(port: host.port, token: host.token, count: options.workers)
      _ = try await running
      _ = await host.waitForQuiet()
      note("HTTP sections: \(options.workers) Workers Running in the in-process host on port \(host.port)")
      if options.sections.contains("get") {
        try await GetBench.run(host: host, options: options, report: report)
      }
      if options.sections.contains("watch") {
        try await WatchBench.run(host: host, options: options, report: report)
      }
      await host.stop()
    } catch {
      await host.stop()
      throw error
    }
  }
}

enum GetBench {
  struct Sample {
    var p50: Double
    var p99: Double
    var throughput: Double
  }

  /// `clients` threads, each on its own keep-alive connection, send `total` requests in all
  /// (cycling through `requests`), each timed from send to the last byte of the response.
  static func measure(port: Int, clients: Int, total: Int, requests: [[UInt8]], expectStatus: Int?) throws -> Sample {
    let perClient = max(1, total / clients)
    let shared = UncheckedBox(requests)
    let results = runThreads(clients) { client -> Result<(latencies: [Double], start: UInt64, end: UInt64), BenchError> in
      do {
        let connection = try HTTPConnection(port: port)
        var latencies: [Double] = []
        latencies.reserveCapacity(perClient)
        let requests = shared.value
        // Warm-up: connection set-up, first-use costs on both sides.
        for index in 0..<10 { _ = try connection.roundTrip(requests[(client + index) % requests.count]) }
        let start = nowNanoseconds()
        for index in 0..<perClient {
          let request = requests[(client * 7919 + index) % requests.count]
          let sent = nowNanoseconds()
          let response = try connection.roundTrip(request)
          latencies.append(Double(nowNanoseconds() - sent))
          if let expectStatus, response.status != expectStatus {
            return .failure(BenchError("GET answered \(response.status): \(response.bodyString.prefix(200))"))
          }
        }
        return .success((latencies, start, nowNanoseconds()))
      } catch {
        return .failure(error as? BenchError ?? BenchError("\(error)"))
      }
    }
    var all: [Double] = []
    var start = UInt64.max
    var end = UInt64(0)
    for result in results {
      let value = try result.get()
      all += value.latencies
      start = min(start, value.start)
      end = max(end, value.end)
    }
    let summary = Summary(all)
    return Sample(p50: summary.median, p99: summary.p99, throughput: Double(all.count) / (Double(end - start) / 1e9))
  }

  static func run(host: InProcessHost, options: Options, report: Report) async throws {
    let names = (0..<options.workers).map(InProcessHost.workerName)
    let requests = names.map { HTTPConnection.request("GET", "/api/v1/workers/\($0)", token: host.token) }
    // The floor answers with the bytes the API server sends for one of these GETs.
    let port = host.port
    let recorded = try await onThread { try recordRawResponse(port: port, request: requests[0]) }
    let floorServer = try LoopbackServer(response: recorded)
    defer { floorServer.stop() }
    report.heading("BM2 GET /api/v1/workers/{name}: \(options.requests) requests per case, \(options.repetitions) repetitions "
      + "(medians of per-repetition p50/p99); floor: loopback server answering the same \(recorded.count) bytes")

    let concurrencies = [1, 64]
    var floor: [Int: [Sample]] = [:]
    var api: [Int: [Sample]] = [:]
    for repetition in 0..<options.repetitions {
      for clients in concurrencies {
        let total = options.requests
        // Alternate which goes first.
        let order = repetition % 2 == 0 ? [false, true] : [true, false]
        for isAPI in order {
          let sample = try await onThread("get-bench") {
            try measure(port: isAPI ? port : floorServer.port, clients: clients, total: total, requests: requests,
              expectStatus: isAPI ? 200 : nil)
          }
          if isAPI { api[clients, default: []].append(sample) } else { floor[clients, default: []].append(sample) }
        }
        note(String(format: "BM2 repetition %d/%d, %d client(s): floor p50 %@ p99 %@, API p50 %@ p99 %@ (%.0f req/s)",
          repetition + 1, options.repetitions, clients, formatTime(floor[clients]!.last!.p50), formatTime(floor[clients]!.last!.p99),
          formatTime(api[clients]!.last!.p50), formatTime(api[clients]!.last!.p99), api[clients]!.last!.throughput))
      }
    }

    var rows: [[String]] = []
    for clients in concurrencies {
      let floorSamples = floor[clients]!
      let apiSamples = api[clients]!
      func record(_ name: String, _ samples: [Sample]) -> Record {
        var record = Record(section: "get", name: name, unit: "ns")
        record.set(samples.map(\.p50))
        record.p50Ns = record.median
        record.p99Ns = median(samples.map(\.p99))
        record.samplesPerRep = options.requests
        record.note = String(format: "%.0f requests/s (median)", median(samples.map(\.throughput)))
        return record
      }
      let floorRecord = record("\(clients) client(s): loopback round trip (floor)", floorSamples)
      var apiRecord = record("\(clients) client(s): GET /api/v1/workers/{name}", apiSamples)
      // Paired per repetition (measured back to back), then the median of those ratios.
      apiRecord.ratio = median(zip(apiSamples, floorSamples).map { $0.p50 / $1.p50 })
      apiRecord.ratioTo = "p50 of the loopback round trip, same repetition"
      if clients == 1 {
        apiRecord.target = "p50 ≤ 4× loopback round trip"
        apiRecord.pass = apiRecord.ratio! <= 4
      }
      let p99Ratio = median(zip(apiSamples, floorSamples).map { $0.p99 / $1.p99 })
      report.add(floorRecord)
      report.add(apiRecord)
      rows.append([floorRecord.name, formatTime(floorRecord.p50Ns), formatTime(floorRecord.p99Ns), floorRecord.note!, "", "", ""])
      rows.append([apiRecord.name, formatTime(apiRecord.p50Ns), formatTime(apiRecord.p99Ns), apiRecord.note!,
        formatRatio(apiRecord.ratio) + " / " + formatRatio(p99Ratio), apiRecord.target ?? "", verdict(apiRecord.pass)])
    }
    // Where the rest goes: GET /healthz through the same server (routing, metrics, Hummingbird
    // and NIO, no token and no store), 1 client, next to the loopback floor of its own bytes.
    let healthz = [HTTPConnection.request("GET", "/healthz", token: nil)]
    let healthzBytes = try await onThread { try recordRawResponse(port: port, request: healthz[0]) }
    let healthzFloor = try LoopbackServer(response: healthzBytes)
    defer { healthzFloor.stop() }
    var serverSamples: [Sample] = []
    var serverFloor: [Sample] = []
    for _ in 0..<options.repetitions {
      let total = options.requests / 2
      serverFloor.append(try await onThread("get-bench") {
        try measure(port: healthzFloor.port, clients: 1, total: total, requests: healthz, expectStatus: nil)
      })
      serverSamples.append(try await onThread("get-bench") {
        try measure(port: port, clients: 1, total: total, requests: healthz, expectStatus: 200)
      })
    }
    var serverRecord = Record(section: "get", name: "1 client(s): GET /healthz (the HTTP server alone)", unit: "ns")
    serverRecord.set(serverSamples.map(\.p50))
    serverRecord.p50Ns = serverRecord.median
    serverRecord.p99Ns = median(serverSamples.map(\.p99))
    serverRecord.ratio = median(zip(serverSamples, serverFloor).map { $0.p50 / $1.p50 })
    serverRecord.ratioTo = "p50 of the loopback round trip of its own bytes, same repetition"
    report.add(serverRecord)
    rows.append([serverRecord.name, formatTime(serverRecord.p50Ns), formatTime(serverRecord.p99Ns),
      String(format: "%.0f requests/s (median)", median(serverSamples.map(\.throughput))), formatRatio(serverRecord.ratio), "", ""])
    report.table(["case", "p50", "p99", "throughput", "vs floor (p50 / p99)", "target", "result"], rows)
    try await components(host: host, names: names, repetitions: options.repetitions, report: report)
  }

  /// Where a GET's time goes: the handler's steps called in this process, one at a time (no
  /// HTTP): token check, store read, decoding into the typed resource, encoding the response.
  static func components(host: InProcessHost, names: [String], repetitions: Int, report: Report) async throws {
    let store = host.store
    let token = host.token
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let calls = 2000
    var steps: [String: [Double]] = [:]
    for _ in 0..<repetitions {
      var times: [String: [Double]] = [:]
      for index in 0..<calls {
        let key = ObjectKey(.worker, names[index % names.count])
        var start = nowNanoseconds()
        guard try await store.verifyToken(token) != nil else { throw BenchError("the token does not verify") }
        var now = nowNanoseconds()
        times["store.verifyToken", default: []].append(Double(now - start))
        start = now
        let object = try await store.get(key)
        now = nowNanoseconds()
        times["store.get", default: []].append(Double(now - start))
        start = now
        let body = try object.resourceJSON()
        now = nowNanoseconds()
        times["StoredObject.resourceJSON() (response body)", default: []].append(Double(now - start))
        // Peer: the typed path the response body replaced (decode into Worker, JSONEncoder).
        start = now
        let data = try encoder.encode(try object.resource())
        now = nowNanoseconds()
        times["peer: resource() + JSONEncoder (the typed path, replaced)", default: []].append(Double(now - start))
        guard !data.isEmpty, !body.isEmpty else { throw BenchError("empty encoding") }
      }
      for (name, values) in times { steps[name, default: []].append(Summary(values).median) }
    }
    // Floors of the store reads: the same point read of the objects row with GRDB directly, on
    // a second read-only pool over the same file, synchronously on one thread (SQLite and
    // GRDB's row access only) and through GRDB's async `read` (plus its thread hops).
    var configuration = Configuration()
    configuration.readonly = true
    let pool = try DatabasePool(path: host.directory.appendingPathComponent("store/store.sqlite").path, configuration: configuration)
    let sql = "SELECT id, kind, namespace, name, uid, resource_version, generation, creation_timestamp, deletion_timestamp, "
      + "labels, annotations, finalizers, spec, status FROM objects WHERE kind = ? AND namespace = ? AND name = ?"
    let workerNames = names
    for _ in 0..<repetitions {
      let sync = try await onThread("grdb-sync") { () throws -> [Double] in
        var times: [Double] = []
        for index in 0..<calls {
          let start = nowNanoseconds()
          let row = try pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [workerKind, "default", workerNames[index % workerNames.count]])
          }
          times.append(Double(nowNanoseconds() - start))
          guard row != nil else { throw BenchError("no row") }
        }
        return times
      }
      steps["GRDB point read, sync on one thread", default: []].append(Summary(sync).median)
      let storePath = host.directory.appendingPathComponent("store/store.sqlite").path
      let raw = try await onThread("raw-read") { () throws -> [Double] in
        let reader = try RawReader(path: storePath)
        var times: [Double] = []
        var total = 0
        for index in 0..<calls {
          let start = nowNanoseconds()
          total &+= try reader.read(kind: workerKind, namespace: "default", name: workerNames[index % workerNames.count])
          times.append(Double(nowNanoseconds() - start))
        }
        guard total > 0 else { throw BenchError("empty rows") }
        return times
      }
      steps["SQLite C API point read, one thread (floor of store.get)", default: []].append(Summary(raw).median)
      var times: [Double] = []
      for index in 0..<calls {
        let name = workerNames[index % workerNames.count]
        let start = nowNanoseconds()
        let found = try await pool.read { db in
          try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [workerKind, "default", name]) != nil
        }
        times.append(Double(nowNanoseconds() - start))
        guard found else { throw BenchError("no row") }
      }
      steps["GRDB point read, async DatabasePool.read", default: []].append(Summary(times).median)
    }
    try pool.close()

    let rows = stepRows(section: "get", prefix: "GET step in process: ", steps: steps,
      summed: ["store.verifyToken", "store.get", "StoredObject.resourceJSON() (response body)"],
      apart: [
        "peer: resource() + JSONEncoder (the typed path, replaced)",
        "SQLite C API point read, one thread (floor of store.get)", "GRDB point read, sync on one thread",
        "GRDB point read, async DatabasePool.read",
      ], calls: calls, repetitions: repetitions, report: report)
    print("")
    print("Where a GET's time goes (each step timed alone, in process, 1 caller; medians of per-repetition medians):")
    report.table(["step", "median", "range"], rows)
  }
}

enum WatchBench {
  static let annotation = "bench-seq"

  /// The sequence number in a watch line or event text: the digits after `"bench-seq":"`.
  static func sequence(in bytes: some Collection<UInt8>) -> Int? {
    let needle = Array(#""bench-seq":""#.utf8)
    let array = Array(bytes)
    guard array.count >= needle.count else { return nil }
    var index = 0
    while index + needle.count <= array.count {
      if array[index] == needle[0], Array(array[index..<(index + needle.count)]) == needle {
        var value = 0
        var cursor = index + needle.count
        var digits = 0
        while cursor < array.count, array[cursor] >= 48, array[cursor] <= 57 {
          value = value * 10 + Int(array[cursor] - 48)
          cursor += 1
          digits += 1
        }
        return digits > 0 ? value : nil
      }
      index += 1
    }
    return nil
  }

  struct Sample {
    var http: Summary
    var store: Summary
  }

  /// One repetition: `writes` annotation updates of the stored Workers at 100/s, each timed from
  /// just before the store write to the moment its event line is read from the HTTP watch
  /// stream, and (peer) to the moment it comes out of the store's own watch in this process.
  ///
  /// Sequence numbers run from `base` (unique across repetitions: an update that changes
  /// nothing writes nothing and sends no event).
  static func once(host: InProcessHost, writes: Int, base: Int, objects: [StoredObject], interval: Duration) async throws -> Sample {
    let store = host.store
    let revision = store.currentRevision
    let sendTimes = SendTimes(count: writes)
    // The HTTP watch client, on its own thread.
    let port = host.port
    let token = host.token
    let (openedStream, openedContinuation) = AsyncStream<Void>.makeStream()
    let httpTask = Task {
      try await onThread("watch-client") { () throws -> [Double] in
        let connection = try HTTPConnection(port: port)
        connection.setReceiveTimeout(seconds: 30)
        try connection.send(HTTPConnection.request(
          "GET", "/api/v1/workers?watch=1&resourceVersion=\(revision)&timeoutSeconds=600", token: token))
        let head = try connection.readHead()
        guard head.status == 200, head.chunked else { throw BenchError("watch answered \(head.status)") }
        openedContinuation.yield()
        var latencies: [Double] = []
        var pending: [UInt8] = []
        while latencies.count < writes {
          guard let chunk = try connection.readChunk() else { throw BenchError("the watch stream ended early") }
          let received = nowNanoseconds()
          pending += chunk
          while let newline = pending.firstIndex(of: 10) {
            if let sequence = sequence(in: pending[..<newline]).map({ $0 - base }), sequence >= 0, sequence < writes {
              let sent = sendTimes.get(sequence)
              latencies.append(Double(received - sent))
            }
            pending.removeSubrange(...newline)
          }
        }
        return latencies
      }
    }
    // The store's own watch: the floor of the HTTP one (same events, no HTTP, no JSON).
    let watch = try await store.watch(kind: workerKind, fromRevision: revision)
    let storeTask = Task { () throws -> [Double] in
      var latencies: [Double] = []
      for try await event in watch {
        let received = nowNanoseconds()
        if let text = event.object.annotations[annotation], let sequence = Int(text).map({ $0 - base }), sequence >= 0,
          sequence < writes
        {
          let sent = sendTimes.get(sequence)
          latencies.append(Double(received - sent))
          if latencies.count == writes { break }
        }
      }
      return latencies
    }
    var iterator = openedStream.makeAsyncIterator()
    _ = await iterator.next()

    let clock = ContinuousClock()
    let start = clock.now
    for index in 0..<writes {
      try await Task.sleep(until: start + interval * index, clock: clock)
      var object = objects[index % objects.count]
      object.annotations[annotation] = String(base + index)
      object.resourceVersion = 0  // unconditional: the controllers never write annotations
      let now = nowNanoseconds()
      sendTimes.set(index, now)
      _ = try await store.update(object)
    }
    let timeout = Task {
      try await Task.sleep(for: .seconds(30))
      httpTask.cancel()
      storeTask.cancel()
    }
    defer { timeout.cancel() }
    let http = try await httpTask.value
    let own = try await storeTask.value
    guard http.count == writes, own.count == writes else {
      throw BenchError("watch saw \(http.count) (HTTP) and \(own.count) (store) of \(writes) events")
    }
    return Sample(http: Summary(http), store: Summary(own))
  }

  static func run(host: InProcessHost, options: Options, report: Report) async throws {
    let writes = options.watchWrites
    report.heading("BM3 watch event latency: \(writes) writes at 100/s per repetition, \(options.repetitions) repetitions "
      + "(medians of per-repetition p50/p99); peer: the store's own watch, same events")
    let objects = try await host.store.list(kind: workerKind).items
    guard !objects.isEmpty else { throw BenchError("no Workers to write") }
    var samples: [Sample] = []
    for repetition in 0..<options.repetitions {
      let sample = try await once(
        host: host, writes: writes, base: repetition * writes, objects: objects, interval: .milliseconds(10))
      samples.append(sample)
      note(String(format: "BM3 repetition %d/%d: HTTP p50 %@ p99 %@ max %@; store watch p50 %@ p99 %@",
        repetition + 1, options.repetitions, formatTime(sample.http.median), formatTime(sample.http.p99),
        formatTime(sample.http.max), formatTime(sample.store.median), formatTime(sample.store.p99)))
      _ = await host.waitForQuiet()
    }
    var storeRecord = Record(section: "watch", name: "store watch in process (peer)", unit: "ns")
    storeRecord.set(samples.map(\.store.p99))
    storeRecord.p50Ns = median(samples.map(\.store.median))
    storeRecord.p99Ns = storeRecord.median
    storeRecord.samplesPerRep = writes
    var httpRecord = Record(section: "watch", name: "HTTP watch, JSON lines (p99)", unit: "ns")
    httpRecord.set(samples.map(\.http.p99))
    httpRecord.p50Ns = median(samples.map(\.http.median))
    httpRecord.p99Ns = httpRecord.median
    httpRecord.samplesPerRep = writes
    httpRecord.ratio = median(samples.map { $0.http.p99 / $0.store.p99 })
    httpRecord.ratioTo = "p99 of the store's own watch, same repetition"
    httpRecord.target = "p99 ≤ 5 ms"
    httpRecord.pass = httpRecord.median! <= 5_000_000
    httpRecord.measured = "p99 " + formatTime(httpRecord.median)
    report.add(storeRecord)
    report.add(httpRecord)
    report.table(["case", "p50", "p99", "p99 range", "max (median)", "p99 vs store watch", "target", "result"], [
      [storeRecord.name, formatTime(storeRecord.p50Ns), formatTime(storeRecord.p99Ns), range(storeRecord, formatTime),
        formatTime(median(samples.map(\.store.max))), "", "", ""],
      [httpRecord.name, formatTime(httpRecord.p50Ns), formatTime(httpRecord.p99Ns), range(httpRecord, formatTime),
        formatTime(median(samples.map(\.http.max))), formatRatio(httpRecord.ratio), httpRecord.target!, verdict(httpRecord.pass)],
    ])
  }
}

/// When each write of BM3 was sent, by sequence number (written by the writer, read by the
/// watch consumers).
final class SendTimes: Sendable {
  private let times: Mutex<[UInt64]>
  init(count: Int) { times = Mutex([UInt64](repeating: 0, count: count)) }
  func set(_ index: Int, _ value: UInt64) { times.withLock { $0[index] = value } }
  func get(_ index: Int) -> UInt64 { times.withLock { $0[index] } }
}
