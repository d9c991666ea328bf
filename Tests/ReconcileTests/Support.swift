import DriverHost
import DriverProtocols
import Foundation
import Logging
import Model
import Reconcile
import ResourceStore
import Store
import Synchronization
import Testing

/// The SwiftPM products directory (holds libhc_memory.so): `$HICLAW_BUILD_DIR`, else the
/// nearest ancestor of the test bundle that has it.
let productsDirectory: URL = {
  if let explicit = ProcessInfo.processInfo.environment["HICLAW_BUILD_DIR"], !explicit.isEmpty {
    return URL(fileURLWithPath: explicit)
  }
  var url = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
  while url.path != "/" {
    if FileManager.default.fileExists(atPath: url.appendingPathComponent("libhc_memory.so").path) { return url }
    url.deleteLastPathComponent()
  }
  return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug")
}()

/// One driver host and one loaded memory driver per test process: a library can be loaded by
/// one driver host per process (its global state is the driver's, not the host's). Each
/// fixture gets its own driver instance in its own namespace.
enum SharedDriver {
  static let memory = Task<Driver, any Error> { try await loadPrivateCopy("memory", expectedName: "memory") }
  /// The fixture runtime driver (`hc_fixture_runtime`, serving "nanoclaw").
  static let fixtureRuntime = Task<Driver, any Error> {
    try await loadPrivateCopy("fixture_runtime", expectedName: "fixture-runtime")
  }

  /// Loads a private copy of `libhc_<product>.so` in process (so that no other test suite in
  /// this process has loaded the same file), with its own driver host.
  private static func loadPrivateCopy(_ product: String, expectedName: String) async throws -> Driver {
    var logger = Logger(label: "test")
    logger.logLevel = .error
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-reconcile-\(product)-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let library = directory.appendingPathComponent("libhc_\(product).so")
    try? FileManager.default.removeItem(at: library)
    try FileManager.default.copyItem(at: productsDirectory.appendingPathComponent("libhc_\(product).so"), to: library)
    let host = DriverHost(configuration: DriverHostConfiguration(
      stateDirectory: directory.appendingPathComponent("state"), logger: logger))
    return try await host.load(library: library.path, isolation: .inProcess, expectedName: expectedName)
  }
}

/// A real store in a temporary directory and the real in-memory backend driver (`hc_memory`,
/// loaded in process through the C ABI), removed afterwards.
struct Fixture {
  let store: Store
  let backend: DriverWorkerBackend
  let driver: Driver
  let directory: URL
  let logger: Logger

  static func with<R>(_ body: (Fixture) async throws -> R) async throws -> R {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-reconcile-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    var logger = Logger(label: "test")
    logger.logLevel = .error
    let store = try Store(configuration: StoreConfiguration(directory: directory.appendingPathComponent("store")))
    let driver = try await SharedDriver.memory.value
    // A namespace per fixture: the memory backend's worlds are per process.
    let instance = try await driver.makeInstance(config: #"{"namespace":"\#(UUID().uuidString)"}"#)
    let fixture = Fixture(store: store, backend: DriverWorkerBackend(instance: instance), driver: driver,
      directory: directory, logger: logger)
    do {
      let result = try await body(fixture)
      await instance.destroy()
      await store.close()
      return result
    } catch {
      await instance.destroy()
      await store.close()
      throw error
    }
  }

  var workers: WorkerReconciler { WorkerReconciler(store: store, backend: backend, logger: logger) }
  var teams: TeamReconciler { TeamReconciler(store: store, backend: backend, logger: logger) }

  /// Creates `resource` in the store (as the API server would).
  @discardableResult
  func create(_ resource: some Resource) async throws -> StoredObject {
    try await store.create(StoredObject(resource: AnyResource(resource)))
  }

  /// Replaces the spec of `resource` in the store.
  func replace<R: Resource>(_ type: R.Type, _ name: String, _ change: (inout R) -> Void) async throws {
    var current = try #require(try await store.find(type, name))
    change(&current)
    current.metadata.resourceVersion = nil
    try await store.update(StoredObject(resource: AnyResource(current)))
  }

  /// Reconciles until the reconciler asks for nothing more than a periodic re-check (at most
  /// `limit` passes), the way the work queue would.
  func converge(_ reconciler: some Reconciler, _ name: String, limit: Int = 5) async throws {
    for _ in 0..<limit { _ = try await reconciler.reconcile(ObjectKey(reconciler.kind, name)) }
  }

  /// Every instance of the backend by name.
  func instances() async throws -> [String: WorkerBackendV1.InstanceStatus] {
    let json = try await backend.instance.call("list", #"{"labels":{}}"#)
    let list = try WireJSON.decode(WorkerBackendV1.InstanceList.self, from: Data(json.utf8))
    return Dictionary(uniqueKeysWithValues: list.items.map { ($0.name, $0) })
  }

  /// The highest instance sequence number the backend handed out among live instances: the
  /// memory backend numbers ids `mem-000001`, `mem-000002`, … in creation order, so with no
  /// deletions this is the number of creates ever made.
  func highestInstanceSequence() async throws -> Int {
    try await instances().values.compactMap { Int($0.id.dropFirst(4)) }.max() ?? 0
  }
}

func worker(_ name: String, model: String = "qwen", state: DesiredState? = nil, labels: [String: String] = [:]) -> Worker {
  var spec = WorkerSpec(model: model)
  spec.state = state
  return Worker(metadata: ObjectMeta(name: name, labels: labels), spec: spec)
}

func team(_ name: String, leader: String, workers: [String], model: String = "qwen") -> Team {
  var spec = TeamSpec(leader: LeaderSpec(name: leader))
  spec.leader.model = model
  spec.workers = workers.map {
    var member = TeamWorkerSpec(name: $0)
    member.model = model
    return member
  }
  return Team(metadata: ObjectMeta(name: name), spec: spec)
}

/// Waits until `condition` holds (polling), up to `timeout`.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
  let deadline = ContinuousClock.now.advanced(by: timeout)
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return try await condition()
}
