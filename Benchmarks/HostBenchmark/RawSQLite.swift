// The floor of the store: the same rows written through the SQLite C API, one commit per write.
import Foundation
import Store
import Synchronization

#if canImport(GRDBSQLite)
  import GRDBSQLite
#else
  import SQLite3
#endif

/// A SQLite file with the store's schema, created by the store itself: a `Store` is opened in
/// `directory` (which runs its migrations) and closed again, and the raw writers then open its
/// `store.sqlite`. So the floor has the store's exact tables, indexes and `store_meta` row, with
/// no copy of the DDL to drift from it.
func makeRawDatabase(in directory: URL) async throws -> String {
  let store = try Store(configuration: StoreConfiguration(directory: directory))
  await store.close()
  return directory.appendingPathComponent("store.sqlite").path
}

/// One raw connection with the store's pragmas (WAL, `synchronous=NORMAL`, `foreign_keys=ON`,
/// multi-thread mode as GRDB opens it, and the WAL checkpointed at the store's checkpoint size,
/// `StoreConfiguration.checkpointPages`, inline as SQLite does by default — the store does it
/// on a thread of its own) and the store's two statements per write, prepared once.
///
/// A create is what the store writes for an unlabelled object: its `objects` row and its
/// `ADDED` row in `object_log`, in one `BEGIN IMMEDIATE … COMMIT`. An update: the `objects` row
/// and a `MODIFIED` log row. No JSON encoding, no revision bookkeeping beyond an integer, no
/// queue: this is the floor, what any store on this schema must pay per committed write.
///
/// Threading: one thread at a time (each raw writer thread opens its own).
final class RawWriter {
  private let db: OpaquePointer
  private let begin: OpaquePointer
  private let commit: OpaquePointer
  private let insertObject: OpaquePointer
  private let insertLog: OpaquePointer
  private let updateObject: OpaquePointer
  private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  init(path: String) throws {
    var handle: OpaquePointer?
    guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
      let db = handle
    else { throw BenchError("cannot open \(path)") }
    self.db = db
    let checkpoint = benchStoreConfiguration(URL(fileURLWithPath: "/")).checkpointPages
    for pragma in [
      "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=30000",
      "PRAGMA wal_autocheckpoint=\(checkpoint)",
    ] {
      guard sqlite3_exec(db, pragma, nil, nil, nil) == SQLITE_OK else {
        throw BenchError("\(pragma): \(String(cString: sqlite3_errmsg(db)))")
      }
    }
    func prepare(_ sql: String) throws -> OpaquePointer {
      var statement: OpaquePointer?
      guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
        let statement
      else { throw BenchError("prepare \(sql): \(String(cString: sqlite3_errmsg(db)))") }
      return statement
    }
    begin = try prepare("BEGIN IMMEDIATE")
    commit = try prepare("COMMIT")
    // The store's own SQL (Sources/Host/Store/Rows.swift).
    insertObject = try prepare("""
      INSERT INTO objects (kind, namespace, name, uid, resource_version, generation, creation_timestamp,
        deletion_timestamp, labels, annotations, finalizers, spec, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (kind, namespace, name) DO NOTHING
      """)
    insertLog = try prepare("""
      INSERT INTO object_log (revision, type, kind, namespace, name, uid, generation, creation_timestamp,
        deletion_timestamp, labels, annotations, finalizers, spec, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """)
    updateObject = try prepare("""
      UPDATE objects SET resource_version = ?, generation = ?, deletion_timestamp = ?, labels = ?, annotations = ?,
        finalizers = ?, spec = ?, status = ?
      WHERE kind = ? AND namespace = ? AND name = ?
      """)
  }

  deinit {
    for statement in [begin, commit, insertObject, insertLog, updateObject] { sqlite3_finalize(statement) }
    sqlite3_close_v2(db)
  }

  private func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
      _ = sqlite3_bind_text(statement, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
        Int32(bytes.count), Self.transient)
    }
  }

  private func run(_ statement: OpaquePointer) throws {
    defer { sqlite3_reset(statement) }
    let result = sqlite3_step(statement)
    guard result == SQLITE_DONE || result == SQLITE_ROW else {
      throw BenchError("sqlite3_step: \(String(cString: sqlite3_errmsg(db)))")
    }
  }

  private func bindLog(type: String, name: String, uid: String, revision: Int64, generation: Int64, now: Int64, spec: String) {
    sqlite3_bind_int64(insertLog, 1, revision)
    bind(insertLog, 2, type)
    bind(insertLog, 3, "workers")
    bind(insertLog, 4, "default")
    bind(insertLog, 5, name)
    bind(insertLog, 6, uid)
    sqlite3_bind_int64(insertLog, 7, generation)
    sqlite3_bind_int64(insertLog, 8, now)
    sqlite3_bind_null(insertLog, 9)
    bind(insertLog, 10, "{}")
    bind(insertLog, 11, "{}")
    bind(insertLog, 12, "[]")
    bind(insertLog, 13, spec)
    bind(insertLog, 14, "{}")
  }

  /// One create in its own transaction.
  func create(name: String, revision: Int64, spec: String) throws {
    let uid = UUID().uuidString.lowercased()
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    try run(begin)
    bind(insertObject, 1, "workers")
    bind(insertObject, 2, "default")
    bind(insertObject, 3, name)
    bind(insertObject, 4, uid)
    sqlite3_bind_int64(insertObject, 5, revision)
    sqlite3_bind_int64(insertObject, 6, 1)
    sqlite3_bind_int64(insertObject, 7, now)
    sqlite3_bind_null(insertObject, 8)
    bind(insertObject, 9, "{}")
    bind(insertObject, 10, "{}")
    bind(insertObject, 11, "[]")
    bind(insertObject, 12, spec)
    bind(insertObject, 13, "{}")
    try run(insertObject)
    guard sqlite3_changes(db) == 1 else { throw BenchError("raw create of \(name) inserted nothing") }
    bindLog(type: "ADDED", name: name, uid: uid, revision: revision, generation: 1, now: now, spec: spec)
    try run(insertLog)
    try run(commit)
  }

  /// One update of an existing object's spec in its own transaction.
  func update(name: String, revision: Int64, generation: Int64, spec: String) throws {
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    try run(begin)
    sqlite3_bind_int64(updateObject, 1, revision)
    sqlite3_bind_int64(updateObject, 2, generation)
    sqlite3_bind_null(updateObject, 3)
    bind(updateObject, 4, "{}")
    bind(updateObject, 5, "{}")
    bind(updateObject, 6, "[]")
    bind(updateObject, 7, spec)
    bind(updateObject, 8, "{}")
    bind(updateObject, 9, "workers")
    bind(updateObject, 10, "default")
    bind(updateObject, 11, name)
    try run(updateObject)
    guard sqlite3_changes(db) == 1 else { throw BenchError("raw update of \(name) changed nothing") }
    bindLog(type: "MODIFIED", name: name, uid: "00000000-0000-4000-8000-000000000000", revision: revision,
      generation: generation, now: now, spec: spec)
    try run(insertLog)
    try run(commit)
  }
}

/// Raw SQLite throughput with `writers` threads, each on its own connection (one commit per
/// write; with several, SQLite's busy handler arbitrates the write lock, as it would for
/// independent writers without a queue). Returns creates/s and updates/s over `count` writes.
func rawThroughput(path: String, writers: Int, count: Int, spec: String, updateSpec: @escaping @Sendable (Int) -> String)
  throws -> (creates: Double, updates: Double)
{
  let perWriter = count / writers
  let revision = Atomic<Int64>(0)
  let connections = try (0..<writers).map { _ in try RawWriter(path: path) }
  let box = UncheckedBox(connections)
  let createTimes = runThreads(writers) { writer -> (UInt64, UInt64, (any Error)?) in
    let connection = box.value[writer]
    let start = nowNanoseconds()
    do {
      for index in 0..<perWriter {
        try connection.create(name: "w\(writer)-\(index)", revision: revision.add(1, ordering: .relaxed).newValue, spec: spec)
      }
    } catch { return (start, nowNanoseconds(), error) }
    return (start, nowNanoseconds(), nil)
  }
  if let error = createTimes.compactMap(\.2).first { throw error }
  let updateTimes = runThreads(writers) { writer -> (UInt64, UInt64, (any Error)?) in
    let connection = box.value[writer]
    let start = nowNanoseconds()
    do {
      for index in 0..<perWriter {
        try connection.update(name: "w\(writer)-0", revision: revision.add(1, ordering: .relaxed).newValue,
          generation: Int64(index + 2), spec: updateSpec(index))
      }
    } catch { return (start, nowNanoseconds(), error) }
    return (start, nowNanoseconds(), nil)
  }
  if let error = updateTimes.compactMap(\.2).first { throw error }
  func rate(_ times: [(UInt64, UInt64, (any Error)?)]) -> Double {
    let start = times.map(\.0).min()!
    let end = times.map(\.1).max()!
    return Double(perWriter * writers) / (Double(end - start) / 1e9)
  }
  return (rate(createTimes), rate(updateTimes))
}

/// Hands non-Sendable values to threads that use them one at a time.
final class UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// The floor of a store read: one indexed point read of an `objects` row through the C API
/// (autocommit, so SQLite opens and closes the WAL read transaction around it), every column
/// read into Swift values as the store's decoder would.
final class RawReader {
  private let db: OpaquePointer
  private let select: OpaquePointer
  private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  init(path: String) throws {
    var handle: OpaquePointer?
    guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let db = handle else {
      throw BenchError("cannot open \(path)")
    }
    self.db = db
    var statement: OpaquePointer?
    let sql = "SELECT id, kind, namespace, name, uid, resource_version, generation, creation_timestamp, deletion_timestamp, "
      + "labels, annotations, finalizers, spec, status FROM objects WHERE kind = ? AND namespace = ? AND name = ?"
    guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK, let statement else {
      throw BenchError("prepare: \(String(cString: sqlite3_errmsg(db)))")
    }
    select = statement
  }

  deinit {
    sqlite3_finalize(select)
    sqlite3_close_v2(db)
  }

  /// Reads the row; returns the total length of its text columns (so nothing is optimised away).
  func read(kind: String, namespace: String, name: String) throws -> Int {
    defer { sqlite3_reset(select) }
    sqlite3_bind_text(select, 1, kind, -1, Self.transient)
    sqlite3_bind_text(select, 2, namespace, -1, Self.transient)
    sqlite3_bind_text(select, 3, name, -1, Self.transient)
    guard sqlite3_step(select) == SQLITE_ROW else { throw BenchError("no row for \(name)") }
    var total = 0
    for column in Int32(0)..<14 {
      if let text = sqlite3_column_text(select, column) {
        total += String(cString: text).utf8.count
      } else {
        total += Int(sqlite3_column_int64(select, column) & 1)
      }
    }
    return total
  }
}
