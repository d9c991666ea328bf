// The host's parts wired together in this process, the way hiclaw-host wires them
// (Sources/Host/Daemon): a Store, the APIServer on 127.0.0.1:0 in a ServiceGroup, and the
// ControllerManager over the real in-memory backend driver loaded through DriverHost.
import APIServer
import DriverHost
import Foundation
import Logging
import Model
import Prometheus
import Reconcile
import ServiceLifecycle
import Store
import Synchronization

/// The in-memory backend (`libhc_memory.so`), loaded once per process in process: a library is
/// bound to the first driver host that initialised it.
final class MemoryDriver: Sendable {
  let host: DriverHost
  let driver: Driver

  static func load(path: String, root: URL, logger: Logger) async throws -> MemoryDriver {
    guard FileManager.default.fileExists(atPath: path) else {
      throw BenchError("\(path) does not exist: build the product hc_memory (scripts/bench-host.sh does) or pass --memory-driver")
    }
    let host = DriverHost(configuration: DriverHostConfiguration(
      stateDirectory: root.appendingPathComponent("driver-state"), logger: logger))
    let driver = try await host.load(library: path, isolation: .inProcess, expectedName: "memory")
    return MemoryDriver(host: host, driver: driver)
  }

  private init(host: DriverHost, driver: Driver) {
    self.host = host
    self.driver = driver
  }
}

/// The store kind of Workers (the Model's `kind`, as the API server stores it).
let workerKind = Kind.worker.rawValue

final class InProcessHost: Sendable {
  let store: Store
  let api: APIServer
  let port: Int
  /// An admin token minted in the store (as the daemon writes to admin.token).
  let token: String
  let directory: URL
  private let group: ServiceGroup
  private let serviceTask: Task<Void, Never>
  private let controllerTask: Task<Void, Never>?
  private let instance: DriverInstance?

  /// - Parameter backend: with a driver, the controllers run over a fresh instance of it
  ///   (config `{"persist":false,"namespace":"bench"}`: the world stays in memory, no state-file
  ///   rewrite per mutation); without, only the store and the API run.
  static func start(root: URL, registry: PrometheusCollectorRegistry, backend: MemoryDriver?, concurrency: Int = Int(ProcessInfo.processInfo.environment["BENCH_CONCURRENCY"] ?? "") ?? ControllerManager.defaultConcurrency)
    async throws -> InProcessHost
  {
    var logger = Logger(label: "hiclaw-bench-host")
    logger.logLevel = benchLogLevel
    let directory = freshDirectory(root, "host")
    let store = try Store(configuration: benchStoreConfiguration(directory.appendingPathComponent("store")))
    let token = try await store.createToken(role: "admin", subject: "admin").token
    var configuration = APIServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    let api = APIServer(store: store, configuration: configuration, registry: registry, logger: logger)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let application = api.makeApplication { port in continuation.yield(port) }
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(
      services: [.init(service: application)], gracefulShutdownSignals: [], logger: logger))
    let serviceTask = Task {
      do { try await group.run() } catch { note("API server stopped: \(error)") }
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw BenchError("the API server did not start") }

    var instance: DriverInstance?
    var controllerTask: Task<Void, Never>?
    if let backend {
      let made = try await backend.driver.makeInstance(config: #"{"persist":false,"namespace":"bench"}"#)
      let manager = ControllerManager(
        store: store, backend: DriverWorkerBackend(instance: made), concurrency: concurrency, logger: logger)
      controllerTask = Task { await manager.run() }
      instance = made
    }
    api.setReady(true)
    return InProcessHost(store: store, api: api, port: port, token: token, directory: directory, group: group,
      serviceTask: serviceTask, controllerTask: controllerTask, instance: instance)
  }

  private init(store: Store, api: APIServer, port: Int, token: String, directory: URL, group: ServiceGroup,
    serviceTask: Task<Void, Never>, controllerTask: Task<Void, Never>?, instance: DriverInstance?)
  {
    self.store = store
    self.api = api
    self.port = port
    self.token = token
    self.directory = directory
    self.group = group
    self.serviceTask = serviceTask
    self.controllerTask = controllerTask
    self.instance = instance
  }

  func stop() async {
    api.setReady(false)
    controllerTask?.cancel()
    await controllerTask?.value
    await group.triggerGracefulShutdown()
    await serviceTask.value
    await instance?.destroy()
    await store.close()
    try? FileManager.default.removeItem(at: directory)
  }

  /// The POST body of Worker `name` (what `hiclaw apply` sends for a minimal Worker).
  static func workerBody(_ name: String) -> String {
    #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"\#(name)"},"spec":{"model":"qwen3-coder"}}"#
  }

  static func workerName(_ index: Int) -> String { String(format: "w-%04d", index) }

  /// Creates `count` Workers through the API on dedicated threads, the way `hiclaw apply` sends
  /// them: one PUT per object (201 when absent); with several clients, each has its own
  /// keep-alive connection and takes the next name when free. Returns the seconds until the last
  /// PUT was answered.
  static func createWorkers(port: Int, token: String, count: Int, clients: Int = 1) async throws -> Double {
    try await createWorkersMeasured(port: port, token: token, count: count, clients: clients).seconds
  }

  /// ``createWorkers(port:token:count:clients:)``, also returning the CPU time its client
  /// threads used (to tell the host's share of the process CPU from the instrument's).
  static func createWorkersMeasured(port: Int, token: String, count: Int, clients: Int = 1) async throws
    -> (seconds: Double, clientCPUSeconds: Double)
  {
    let requests = UncheckedBox((0..<count).map {
      HTTPConnection.request("PUT", "/api/v1/workers/\(workerName($0))", token: token, body: workerBody(workerName($0)))
    })
    let next = Counter()
    return try await onThread("apply-clients") {
      let start = nowNanoseconds()
      let results = runThreads(clients) { client -> Result<Double, BenchError> in
        let cpuStart = cpuSeconds(thread: true)
        do {
          let connection = try HTTPConnection(port: port)
          while let index = next.claim(below: count) {
            let response = try connection.roundTrip(requests.value[index])
            guard response.status == 201 else {
              return .failure(BenchError("PUT worker \(index): HTTP \(response.status) \(response.bodyString)"))
            }
          }
          return .success(cpuSeconds(thread: true) - cpuStart)
        } catch {
          return .failure(error as? BenchError ?? BenchError("\(error)"))
        }
      }
      let seconds = secondsSince(start)
      var clientCPU = 0.0
      for result in results { clientCPU += try result.get() }
      return (seconds, clientCPU)
    }
  }

  /// Waits until `count` distinct Workers have reported `status.phase == Running`, following
  /// the store's watch from `revision`; returns the monotonic time at which the last one did.
  func waitUntilRunning(count: Int, from revision: Int64, startedAt: UInt64 = nowNanoseconds(), timeout: Duration) async throws -> UInt64 {
    let store = self.store
    return try await withThrowingTaskGroup(of: UInt64?.self) { group in
      group.addTask {
        var running = Set<String>()
        var timeline = Timeline(start: startedAt)
        let watch = try await store.watch(kind: workerKind, fromRevision: revision)
        for try await event in watch where event.type != .deleted {
          if event.type == .added { timeline.created.append(nowNanoseconds()) }
          // Canonical JSON: sorted keys, no spaces.
          if event.object.status.text.utf8.contains(subsequence: runningPhase) {
            if running.insert(event.object.name).inserted { timeline.running.append(nowNanoseconds()) }
            if running.count == count {
              timeline.print()
              return nowNanoseconds()
            }
          }
        }
        return nil
      }
      group.addTask {
        try await Task.sleep(for: timeout)
        return nil
      }
      let first = try await group.next()!
      group.cancelAll()
      guard let first else { throw BenchError("not all \(count) Workers reached Running within \(timeout)") }
      return first
    }
  }

  /// Waits until the store has committed no write for `quiet` (the controllers are idle).
  func waitForQuiet(quiet: Duration = .milliseconds(300), timeout: Duration = .seconds(10)) async -> WriteStatistics {
    var last = store.writeStatistics
    var lastChange = ContinuousClock.now
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(50))
      let now = store.writeStatistics
      if now != last {
        last = now
        lastChange = ContinuousClock.now
      } else if ContinuousClock.now - lastChange >= quiet {
        break
      }
    }
    return last
  }
}

/// Hands out 0, 1, 2, … to whichever thread asks next (work sharing, like the CLI's threads).
final class Counter: Sendable {
  private let value = Atomic<Int>(0)
  /// The next number, or nil once `bound` is reached.
  func claim(below bound: Int) -> Int? {
    let taken = value.wrappingAdd(1, ordering: .relaxed).oldValue
    return taken < bound ? taken : nil
  }
}

/// `"phase":"Running"` as canonical status JSON spells it. Searched as bytes: `String.contains`
/// goes through Foundation's locale-aware search, which cost the apply benchmark's watcher more
/// than 1 % of the machine.
let runningPhase = Array(#""phase":"Running""#.utf8)

extension String.UTF8View {
  func contains(subsequence needle: [UInt8]) -> Bool {
    let haystack = Array(self)
    guard needle.count <= haystack.count, let first = needle.first else { return needle.isEmpty }
    var index = 0
    while index + needle.count <= haystack.count {
      if haystack[index] == first, haystack[index..<index + needle.count].elementsEqual(needle) { return true }
      index += 1
    }
    return false
  }
}

/// With `BENCH_WINDOWS` set: how many Workers were stored and how many Running, every 50 ms of
/// an apply (shows whether the reconciles keep pace with the PUTs or wait for them to end).
struct Timeline {
  /// When the client started (the CLI process was launched).
  var start: UInt64
  var created: [UInt64] = []
  var running: [UInt64] = []

  func print() {
    guard ProcessInfo.processInfo.environment["BENCH_WINDOWS"] != nil, let start = created.first else { return }
    let end = max(created.last ?? start, running.last ?? start)
    var line = "  … timeline (client start → first stored: \((start - self.start) / 1_000_000) ms; then ms: stored/Running):"
    var at = start
    while at <= end + 50_000_000 {
      line += " \((at - start) / 1_000_000): \(created.filter { $0 <= at }.count)/\(running.filter { $0 <= at }.count)"
      at += 50_000_000
    }
    if let lastStored = created.last, let lastRunning = running.last {
      line += " | last stored → all Running: \((lastRunning &- lastStored) / 1_000_000) ms"
    }
    Swift.print(line)
  }
}
