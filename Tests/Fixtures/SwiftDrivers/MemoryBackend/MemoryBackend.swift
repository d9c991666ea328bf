import DriverKit
import Synchronization

// An in-memory implementation of all of hiclaw.worker-backend/1, for tests of the host, the
// conformance suite and the reconcilers. Deterministic: ids are sequence numbers, lists are
// sorted by name, and nothing happens in the background.
//
// Instance config (all optional):
//   {"namespace": "default"}  instances sharing a namespace see the same world; the world is
//                             persisted through the host's state service, one key per instance
//                             ("memory/<ns>/instances/<id>", "" once deleted) and the next
//                             sequence number ("memory/<ns>/next"), so a new driver instance
//                             (after a runner or host restart) recovers it, and a change costs
//                             one small write however many instances there are.
//   {"fail_create": true}     the ABI `create` of the instance fails with FAILED_PRECONDITION.
//   {"delay_ms": N}           every method sleeps N ms first (cancellable: CANCELLED).
//   {"persist": false}        keep the world in memory only (benchmarks: a no-op backend).
#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

enum MemoryDriver: DriverDefinition {
  static let name = "memory"
  static let version = "0.1.0"
  static let kind = DriverKind.workerBackend
  static let protocols = [WorkerBackendV1.protocolID]
  static let methods = WorkerBackendV1.Method.allCases.map(\.rawValue)
  static let capabilities: [String: JSONValue] = [
    "persistent_state": true, "events": true, "logs": true, "label_selectors": true,
  ]

  struct Config: Decodable {
    var namespace: String?
    var failCreate: Bool?
    var delayMs: Int?
    var persist: Bool?

    enum CodingKeys: String, CodingKey {
      case namespace, persist
      case failCreate = "fail_create"
      case delayMs = "delay_ms"
    }
  }

  static func makeInstance(config: JSONValue, host: Host) throws(DriverError) -> MemoryBackend {
    let config = try DriverCodec.decodeConfig(Config.self, from: config)
    if config.failCreate == true {
      throw .failedPrecondition(
        "the memory backend was configured to fail (config.fail_create is true)",
        details: ["field": "fail_create"])
    }
    let delay = config.delayMs ?? 0
    guard delay >= 0 else {
      throw .invalidArgument("invalid driver config: field 'delay_ms' must be >= 0, got \(delay)")
    }
    let namespace = config.namespace ?? "default"
    guard !namespace.isEmpty else {
      throw .invalidArgument("invalid driver config: field 'namespace' must not be empty")
    }
    let world = try World.attach(namespace: namespace, host: host, persist: config.persist ?? true)
    host.log(.debug, "memory instance attached to namespace '\(namespace)'")
    return MemoryBackend(world: world, delayMilliseconds: delay, host: host)
  }
}

// MARK: - World

typealias V1 = WorkerBackendV1

/// One stored instance.
struct Record: Codable, Hashable, Sendable {
  var name: String
  var id: String
  var state: V1.InstanceState
  var exitCode: Int?
  var labels: [String: String]
  var image: String
  var command: [String]?
  var env: [String: String]?
  var ports: [V1.Port]?
  var log: [LogLine]

  enum CodingKeys: String, CodingKey {
    case name, id, state, labels, image, command, env, ports, log
    case exitCode = "exit_code"
  }

  var status: V1.InstanceStatus {
    let endpoints: [V1.Endpoint]? =
      state == .running
      ? (ports ?? []).map { port in
        let published = port.host.flatMap { $0 > 0 ? $0 : nil } ?? port.container
        return V1.Endpoint(name: port.name, url: "memory://\(name):\(published)")
      } : nil
    return V1.InstanceStatus(
      name: name, id: id, state: state, exitCode: exitCode, labels: labels, image: image,
      endpoints: endpoints?.isEmpty == true ? nil : endpoints)
  }

  mutating func append(_ text: String) {
    log.append(LogLine(unix: Int64(Date().timeIntervalSince1970), text: text))
    if log.count > 1000 { log.removeFirst(log.count - 1000) }
  }
}

struct LogLine: Codable, Hashable, Sendable {
  var unix: Int64
  var text: String
}

/// The world of one namespace. Earlier versions persisted it whole under "memory/<namespace>";
/// such a state is read once and rewritten one key per instance.
struct Snapshot: Codable, Hashable, Sendable {
  var nextSequence: Int = 1
  var instances: [String: Record] = [:]

  enum CodingKeys: String, CodingKey {
    case nextSequence = "next_sequence"
    case instances
  }
}

/// An event to emit once a mutation is committed.
struct PendingEvent: Sendable {
  var subject: String
  var reason: String
  var message: String
}

/// The instances of one namespace, shared by the live driver instances attached to it.
final class World: Sendable {
  let namespace: String
  let host: Host
  let persistent: Bool
  private let snapshot: Mutex<Snapshot>

  private init(namespace: String, host: Host, persistent: Bool, snapshot: Snapshot) {
    self.namespace = namespace
    self.host = host
    self.persistent = persistent
    self.snapshot = Mutex(snapshot)
  }

  /// Where the world was kept whole by earlier versions (read once, then rewritten per instance).
  var legacyKey: String { "memory/\(namespace)" }
  var nextSequenceKey: String { "memory/\(namespace)/next" }
  func instanceKey(id: String) -> String { "memory/\(namespace)/instances/\(id)" }

  /// The id of the instance created with sequence number `sequence` (`mem-000042`).
  static func id(sequence: Int) -> String {
    "mem-" + String(repeating: "0", count: max(0, 6 - String(sequence).count)) + String(sequence)
  }

  /// Live worlds and how many driver instances use each.
  private static let live = Mutex<[String: (world: World, users: Int)]>([:])

  /// The live world of `namespace`, or a new one loaded from the host's state.
  static func attach(namespace: String, host: Host, persist: Bool = true) throws(DriverError) -> World {
    try live.withLock { (worlds) throws(DriverError) -> World in
      if let entry = worlds[namespace] {
        worlds[namespace] = (entry.world, entry.users + 1)
        return entry.world
      }
      let world = persist
        ? try load(namespace: namespace, host: host)
        : World(namespace: namespace, host: host, persistent: false, snapshot: Snapshot())
      worlds[namespace] = (world, 1)
      return world
    }
  }

  /// Drops one user; the last one forgets the world (it stays in the host's state).
  func detach() {
    World.live.withLock { worlds in
      guard let entry = worlds[namespace], entry.world === self else { return }
      worlds[namespace] = entry.users > 1 ? (self, entry.users - 1) : nil
    }
  }

  private static func load(namespace: String, host: Host) throws(DriverError) -> World {
    let world = World(namespace: namespace, host: host, persistent: true, snapshot: Snapshot())
    let next: Data?
    do {
      next = try host.stateGet(world.nextSequenceKey)
    } catch where error.status == .unimplemented {
      return World(namespace: namespace, host: host, persistent: false, snapshot: Snapshot())
    }
    var snapshot = Snapshot()
    if let next, let nextSequence = Int(String(decoding: next, as: UTF8.self)), nextSequence > 0 {
      snapshot.nextSequence = nextSequence
      for sequence in 1..<nextSequence {
        let key = world.instanceKey(id: id(sequence: sequence))
        guard let stored = try host.stateGet(key), !stored.isEmpty else { continue }
        do {
          let record = try WireJSON.decode(Record.self, from: stored)
          snapshot.instances[record.name] = record
        } catch {
          throw .failedPrecondition("the stored state '\(key)' is not a memory-backend instance: \(WireJSON.describe(error))")
        }
      }
    } else if let legacy = try host.stateGet(world.legacyKey), !legacy.isEmpty {
      do {
        snapshot = try WireJSON.decode(Snapshot.self, from: legacy)
      } catch {
        throw .failedPrecondition(
          "the stored state '\(world.legacyKey)' is not a memory-backend snapshot: \(WireJSON.describe(error))")
      }
      for record in snapshot.instances.values { try world.persist(record, id: record.id) }
      try host.statePut(world.nextSequenceKey, Data(String(snapshot.nextSequence).utf8))
      try host.statePut(world.legacyKey, Data())
    }
    world.snapshot.withLock { $0 = snapshot }
    return world
  }

  /// Writes one instance's record (`nil`: the instance is gone) under its id's key.
  private func persist(_ record: Record?, id: String) throws(DriverError) {
    let data = try record.map { (record) throws(DriverError) in try DriverCodec.encodeResponse(record, method: "state_put") }
    try host.statePut(instanceKey(id: id), data ?? Data())
  }

  /// Reads the world.
  func read<R: Sendable>(_ body: (Snapshot) throws(DriverError) -> R) throws(DriverError) -> R {
    try snapshot.withLock { (current) throws(DriverError) -> R in try body(current) }
  }

  /// Changes the instance `name` (absent: `nil`; set it to `nil` to delete it) and possibly the
  /// next sequence number. A change is persisted first (only the changed instance's key) and
  /// committed only if that succeeds, then the events `body` queued are emitted.
  func mutate<R: Sendable>(
    _ name: String,
    _ body: (inout Record?, inout Int, inout [PendingEvent]) throws(DriverError) -> R
  ) throws(DriverError) -> R {
    var events: [PendingEvent] = []
    let result = try snapshot.withLock { (world) throws(DriverError) -> R in
      let old = world.instances[name]
      var record = old
      var nextSequence = world.nextSequence
      let result = try body(&record, &nextSequence, &events)
      guard record != old || nextSequence != world.nextSequence else { return result }
      if persistent {
        if nextSequence != world.nextSequence {
          try host.statePut(nextSequenceKey, Data(String(nextSequence).utf8))
        }
        if let id = record?.id ?? old?.id { try persist(record, id: id) }
      }
      world.instances[name] = record
      world.nextSequence = nextSequence
      return result
    }
    for event in events {
      host.emitEvent(subject: event.subject, reason: event.reason, message: event.message)
    }
    return result
  }
}

// MARK: - Backend

struct MemoryBackend: WorkerBackend {
  let world: World
  let delayMilliseconds: Int
  let host: Host

  func close() { world.detach() }

  /// The configured per-operation delay (cancellable).
  private func pause() async throws(DriverError) {
    try await DriverTask.sleep(milliseconds: delayMilliseconds)
  }

  private func notFound(_ name: String) -> DriverError {
    .notFound("instance '\(name)' does not exist", details: ["name": .string(name)])
  }

  private func requireName(_ name: String) throws(DriverError) {
    if name.isEmpty { throw .invalidArgument("field 'name' must not be empty") }
  }

  func ping() async throws(DriverError) -> PingResponse {
    try await pause()
    let count = try world.read { $0.instances.count }
    return PingResponse(
      driver: MemoryDriver.name, version: MemoryDriver.version,
      backend: [
        "kind": "memory", "namespace": .string(world.namespace),
        "persistent": .bool(world.persistent), "instances": .number(Double(count)),
      ])
  }

  func create(_ request: V1.CreateRequest) async throws(DriverError) -> V1.InstanceStatus {
    try await pause()
    try requireName(request.name)
    if request.image.isEmpty { throw .invalidArgument("field 'image' must not be empty") }
    for (index, port) in (request.ports ?? []).enumerated()
    where !(1...65535).contains(port.container) {
      throw .invalidArgument(
        "field 'ports[\(index)].container' must be 1-65535, got \(port.container)")
    }
    return try world.mutate(request.name) { (existing, nextSequence, events) throws(DriverError) -> V1.InstanceStatus in
      if let existing {
        throw .alreadyExists("instance '\(request.name)' already exists", id: existing.id)
      }
      let id = World.id(sequence: nextSequence)
      nextSequence += 1
      let start = request.start ?? false
      var record = Record(
        name: request.name, id: id, state: start ? .running : .created, labels: request.labels ?? [:],
        image: request.image, command: request.command, env: request.env, ports: request.ports,
        log: [])
      record.append("created \(id) from image \(request.image)\(start ? " and started it" : "")")
      existing = record
      events.append(
        PendingEvent(
          subject: request.name, reason: "Created",
          message: "created instance \(id) from image \(request.image)\(start ? " and started it" : "")"))
      return record.status
    }
  }

  func start(_ request: V1.StartRequest) async throws(DriverError) -> V1.InstanceStatus {
    try await pause()
    try requireName(request.name)
    return try world.mutate(request.name) { (stored, _, events) throws(DriverError) -> V1.InstanceStatus in
      guard var record = stored else { throw notFound(request.name) }
      if record.state != .running {
        record.state = .running
        record.exitCode = nil
        record.append("started")
        stored = record
        events.append(
          PendingEvent(
            subject: request.name, reason: "Started", message: "started instance \(record.id)"))
      }
      return record.status
    }
  }

  func stop(_ request: V1.StopRequest) async throws(DriverError) -> V1.InstanceStatus {
    try await pause()
    try requireName(request.name)
    if let timeout = request.timeoutSeconds, timeout < 0 {
      throw .invalidArgument("field 'timeout_s' must be >= 0, got \(timeout)")
    }
    return try world.mutate(request.name) { (stored, _, events) throws(DriverError) -> V1.InstanceStatus in
      guard var record = stored else { throw notFound(request.name) }
      if record.state == .running {
        record.state = .stopped
        record.append("stopped")
        stored = record
        events.append(
          PendingEvent(
            subject: request.name, reason: "Stopped", message: "stopped instance \(record.id)"))
      }
      return record.status
    }
  }

  func delete(_ request: V1.DeleteRequest) async throws(DriverError) -> V1.DeleteResponse {
    try await pause()
    try requireName(request.name)
    return try world.mutate(request.name) { (stored, _, events) throws(DriverError) -> V1.DeleteResponse in
      guard let record = stored else { throw notFound(request.name) }
      stored = nil
      events.append(
        PendingEvent(
          subject: request.name, reason: "Deleted", message: "deleted instance \(record.id)"))
      return V1.DeleteResponse(name: request.name, deleted: true)
    }
  }

  func inspect(_ request: V1.InspectRequest) async throws(DriverError) -> V1.InstanceStatus {
    try await pause()
    try requireName(request.name)
    return try world.read { (world) throws(DriverError) -> V1.InstanceStatus in
      guard let record = world.instances[request.name] else { throw notFound(request.name) }
      return record.status
    }
  }

  func list(_ request: V1.ListRequest) async throws(DriverError) -> V1.InstanceList {
    try await pause()
    return try world.read { world in
      V1.InstanceList(
        items: world.instances.values
          .filter { request.matches($0.labels) }
          .sorted { $0.name < $1.name }
          .map(\.status))
    }
  }

  func logs(_ request: V1.LogsRequest) async throws(DriverError) -> V1.LogsResponse {
    try await pause()
    try requireName(request.name)
    if let tail = request.tail, tail < 0 {
      throw .invalidArgument("field 'tail' must be >= 0, got \(tail)")
    }
    return try world.read { (world) throws(DriverError) -> V1.LogsResponse in
      guard let record = world.instances[request.name] else { throw notFound(request.name) }
      var lines = record.log
      if let since = request.sinceUnix { lines = lines.filter { $0.unix >= since } }
      if let tail = request.tail { lines = Array(lines.suffix(tail)) }
      return V1.LogsResponse(name: request.name, text: lines.map { $0.text + "\n" }.joined())
    }
  }

  func recover(_ request: V1.RecoverRequest) async throws(DriverError) -> V1.InstanceList {
    try await pause()
    return try world.read { world in
      var seen = Set<String>()
      var items: [V1.InstanceStatus] = []
      for known in request.known where seen.insert(known.name).inserted {
        if let record = world.instances[known.name] { items.append(record.status) }
      }
      return V1.InstanceList(items: items)
    }
  }
}

@c public func hc_driver_magic_v1() -> UnsafePointer<hc_driver_magic> {
  DriverExport.magic(MemoryDriver.self)
}

@c public func hc_driver_init_v1(
  _ args: UnsafePointer<hc_init_args>?,
  _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
  _ err: UnsafeMutablePointer<hc_buf>?
) -> hc_status {
  DriverExport.initialize(MemoryDriver.self, args, api, err)
}
