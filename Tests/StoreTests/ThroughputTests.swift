import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import Store

/// An informal throughput check (the formal one is BM4 in `Benchmarks/`). Off by default; run
/// with `HICLAW_STORE_PERF=1`, preferably in release:
///
///     HICLAW_STORE_PERF=1 swift test -c release -Xswiftc -enable-testing --filter ThroughputTests
///
/// Prints creates/s and updates/s for the raw SQLite floor (same schema and pragmas, prepared
/// statements, one create per `BEGIN IMMEDIATE … COMMIT`), the store with one writer, and the
/// store with 16 concurrent writers.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["HICLAW_STORE_PERF"] == "1"))
struct ThroughputTests {
  static let count = Int(ProcessInfo.processInfo.environment["HICLAW_STORE_PERF_N"] ?? "") ?? 4000
  static let spec = #"{"model":"qwen3-coder","runtime":"openclaw","skills":["github","matrix"],"image":"hiclaw/worker:1.0"}"#

  @Test func throughput() async throws {
    let count = Self.count
    // Profiling aid: HICLAW_STORE_PERF_ONLY=N runs only the store with N writers (0: only raw SQLite).
    if let only = ProcessInfo.processInfo.environment["HICLAW_STORE_PERF_ONLY"].flatMap(Int.init) {
      if only == 0 {
        print("raw: \(Int(try rawSQLiteCreatesPerSecond(count: count))) creates/s, \(Int(try rawSQLiteUpdatesPerSecond(count: count))) updates/s")
        return
      }
      let rate = try await storeRate(writers: only, count: count)
      print("store, \(only) writer(s): \(Int(rate.creates)) creates/s, \(Int(rate.updates)) updates/s")
      return
    }
    let raw = try rawSQLiteCreatesPerSecond(count: count)
    let rawUpdates = try rawSQLiteUpdatesPerSecond(count: count)
    let single = try await storeRate(writers: 1, count: count)
    let sixteen = try await storeRate(writers: 16, count: count)
    func format(_ value: Double) -> String { String(format: "%8.0f", value) }
    print("""
      store throughput, \(count) writes each (creates/s, updates/s):
        raw SQLite, 1 commit per write  \(format(raw))  \(format(rawUpdates))
        store, 1 writer                 \(format(single.creates))  \(format(single.updates))   \
      (\(String(format: "%.2f", single.creates / raw))× / \(String(format: "%.2f", single.updates / rawUpdates))× raw)
        store, 16 writers               \(format(sixteen.creates))  \(format(sixteen.updates))   \
      (\(String(format: "%.2f", sixteen.creates / raw))× / \(String(format: "%.2f", sixteen.updates / rawUpdates))× raw), \
      \(String(format: "%.1f", sixteen.batch)) writes per transaction
      """)
  }

  private func storeRate(writers: Int, count: Int) async throws -> (creates: Double, updates: Double, batch: Double) {
    try await withStore { store, _ in
      let perWriter = count / writers
      let spec = try json(Self.spec)
      let before = store.writeStatistics
      let start = ContinuousClock.now
      let objects = try await withThrowingTaskGroup(of: StoredObject.self) { group in
        for writer in 0..<writers {
          group.addTask {
            var last: StoredObject?
            for index in 0..<perWriter {
              last = try await store.create(StoredObject(key: key("w\(writer)-\(index)"), spec: spec))
            }
            return last!
          }
        }
        var objects: [StoredObject] = []
        for try await object in group { objects.append(object) }
        return objects
      }
      let createSeconds = (ContinuousClock.now - start).seconds
      let updateStart = ContinuousClock.now
      try await withThrowingTaskGroup(of: Void.self) { group in
        for var object in objects {
          group.addTask {
            for index in 0..<perWriter {
              object.spec = try json(#"{"model":"qwen3-coder","replicas":\#(index)}"#)
              object = try await store.update(object)
            }
          }
        }
        try await group.waitForAll()
      }
      let updateSeconds = (ContinuousClock.now - updateStart).seconds
      let after = store.writeStatistics
      let batch = Double(after.writes - before.writes) / Double(max(1, after.transactions - before.transactions))
      let total = Double(perWriter * writers)
      return (total / createSeconds, total / updateSeconds, batch)
    }
  }

  /// The floor: what the same schema costs through the C API, one transaction per create.
  private func rawSQLiteCreatesPerSecond(count: Int) throws -> Double {
    try withRawDatabase { db, statements in
      let start = ContinuousClock.now
      for index in 0..<count {
        let revision = Int64(index + 1)
        try statements.step("BEGIN IMMEDIATE")
        try statements.insertObject(name: "w\(index)", revision: revision, spec: Self.spec)
        try statements.step("COMMIT")
      }
      return Double(count) / (ContinuousClock.now - start).seconds
    }
  }

  private func rawSQLiteUpdatesPerSecond(count: Int) throws -> Double {
    try withRawDatabase { db, statements in
      try statements.step("BEGIN IMMEDIATE")
      try statements.insertObject(name: "target", revision: 1, spec: Self.spec)
      try statements.step("COMMIT")
      let start = ContinuousClock.now
      for index in 0..<count {
        let revision = Int64(index + 2)
        try statements.step("BEGIN IMMEDIATE")
        try statements.updateObject(revision: revision, spec: #"{"model":"qwen3-coder","replicas":\#(index)}"#)
        try statements.step("COMMIT")
      }
      return Double(count) / (ContinuousClock.now - start).seconds
    }
  }

  private func withRawDatabase<T>(_ body: (OpaquePointer, RawStatements) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-raw-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("raw.sqlite").path
    // The same schema, created by the store's own migrator.
    do {
      let queue = try DatabaseQueue(path: path)
      try Schema.migrator.migrate(queue)
      try queue.close()
    }
    var handle: OpaquePointer?
    guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db = handle else {
      throw StoreError(.database, "cannot open \(path)", fix: "")
    }
    defer { sqlite3_close_v2(db) }
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", nil, nil, nil)
    let statements = try RawStatements(db)
    defer { statements.finalize() }
    return try body(db, statements)
  }
}

/// Prepared statements for the raw floor: a create is an object row and a log row, exactly what
/// the store writes for an unlabelled object (an update: the row and a log row).
final class RawStatements {
  let db: OpaquePointer
  private var cache: [String: OpaquePointer] = [:]
  private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  init(_ db: OpaquePointer) throws { self.db = db }

  func finalize() { for statement in cache.values { sqlite3_finalize(statement) } }

  private func prepared(_ sql: String) throws -> OpaquePointer {
    if let statement = cache[sql] { return statement }
    var statement: OpaquePointer?
    guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
      let statement
    else { throw StoreError(.database, String(cString: sqlite3_errmsg(db)), fix: "") }
    cache[sql] = statement
    return statement
  }

  func step(_ sql: String, _ values: [Any?] = []) throws {
    let statement = try prepared(sql)
    for (offset, value) in values.enumerated() {
      let index = Int32(offset + 1)
      switch value {
      case let text as String: sqlite3_bind_text(statement, index, text, -1, Self.transient)
      case let number as Int64: sqlite3_bind_int64(statement, index, number)
      default: sqlite3_bind_null(statement, index)
      }
    }
    let result = sqlite3_step(statement)
    sqlite3_reset(statement)
    sqlite3_clear_bindings(statement)
    guard result == SQLITE_DONE || result == SQLITE_ROW else {
      throw StoreError(.database, String(cString: sqlite3_errmsg(db)), fix: "")
    }
  }

  func insertObject(name: String, revision: Int64, spec: String) throws {
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    let uid = UUID().uuidString
    try step("""
      INSERT INTO objects (kind, namespace, name, uid, resource_version, generation, creation_timestamp,
        deletion_timestamp, labels, annotations, finalizers, spec, status)
      VALUES (?, ?, ?, ?, ?, 1, ?, NULL, '{}', '{}', '[]', ?, '{}')
      """, ["workers", "default", name, uid, revision, now, spec])
    try step("""
      INSERT INTO object_log (revision, type, kind, namespace, name, uid, generation, creation_timestamp,
        deletion_timestamp, labels, annotations, finalizers, spec, status)
      VALUES (?, 'ADDED', ?, ?, ?, ?, 1, ?, NULL, '{}', '{}', '[]', ?, '{}')
      """, [revision, "workers", "default", name, uid, now, spec])
      }

  func updateObject(revision: Int64, spec: String) throws {
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    try step("""
      UPDATE objects SET resource_version = ?, generation = generation + 1, spec = ?
      WHERE kind = 'workers' AND namespace = 'default' AND name = 'target'
      """, [revision, spec])
    try step("""
      INSERT INTO object_log (revision, type, kind, namespace, name, uid, generation, creation_timestamp,
        deletion_timestamp, labels, annotations, finalizers, spec, status)
      VALUES (?, 'MODIFIED', 'workers', 'default', 'target', 'uid', 2, ?, NULL, '{}', '{}', '[]', ?, '{}')
      """, [revision, now, spec])
      }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
