import Foundation
import GRDB

#if canImport(GRDBSQLite)
  import GRDBSQLite
#else
  import SQLite3
#endif

/// One of GRDB's cached statements, bound and stepped through the SQLite C API.
///
/// Why: on the hot paths (every object write and read) GRDB's `StatementArguments` box each
/// value in an existential and convert it to a `DatabaseValue`, and `Row` copies each column;
/// that cost as much CPU as SQLite itself and, since all writes are serialised, capped the
/// store's throughput. Binding `String`/`Int64` directly and reading columns straight from the
/// statement removes it. GRDB still owns the statement (prepared once per connection, finalised
/// with the connection); only statements that run without GRDB transaction observers are used
/// this way (the store registers none).
///
/// Ownership and threading: valid only inside the database access that created it. Every use
/// ends with ``reset()`` (``run()`` and the `defer` in readers do it), so the statement holds no
/// lock and no stale bindings once the access ends.
struct RawStatement {
  private let handle: OpaquePointer
  private let connection: OpaquePointer?
  private let sql: String

  init(_ db: Database, _ sql: String) throws {
    handle = try db.cachedStatement(sql: sql).sqliteStatement
    connection = db.sqliteConnection
    self.sql = sql
  }

  /// `SQLITE_TRANSIENT`: SQLite copies the bytes before `bind` returns.
  private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  func bind(_ index: Int32, _ value: String) {
    var value = value
    value.withUTF8 { bytes in
      // A non-nil pointer even for "" (a nil pointer would bind NULL).
      let pointer = bytes.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(("" as StaticString).utf8Start)
      _ = sqlite3_bind_text(handle, index, pointer.assumingMemoryBound(to: CChar.self), Int32(bytes.count),
        Self.transient)
    }
  }

  func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

  func bind(_ index: Int32, _ value: Int64?) {
    if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
  }

  func bind(_ index: Int32, _ value: Data) {
    value.withUnsafeBytes { bytes in
      _ = sqlite3_bind_blob(handle, index, bytes.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start),
        Int32(bytes.count), Self.transient)
    }
  }

  /// Steps to the end (a statement without result rows) and resets.
  func run() throws {
    defer { reset() }
    while true {
      switch sqlite3_step(handle) {
      case SQLITE_DONE: return
      case SQLITE_ROW: continue
      default: throw currentError()
    }
    }
  }

  /// The next row: `true` if there is one. Call ``reset()`` when done.
  func step() throws -> Bool {
    switch sqlite3_step(handle) {
    case SQLITE_ROW: return true
    case SQLITE_DONE: return false
    default: throw currentError()
    }
  }

  func reset() {
    sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
  }

  func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

  func optionalInt64(_ column: Int32) -> Int64? {
    sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
  }

  func text(_ column: Int32) -> String {
    guard let pointer = sqlite3_column_text(handle, column) else { return "" }
    let count = Int(sqlite3_column_bytes(handle, column))
    return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
  }

  /// Whether the text in `column` is exactly `literal` (without building a `String`).
  func textEquals(_ column: Int32, _ literal: StaticString) -> Bool {
    guard let pointer = sqlite3_column_text(handle, column) else { return false }
    let count = Int(sqlite3_column_bytes(handle, column))
    guard count == literal.utf8CodeUnitCount else { return false }
    return memcmp(pointer, literal.utf8Start, count) == 0
  }

  private func currentError() -> DatabaseError {
    let code = connection.map { sqlite3_extended_errcode($0) } ?? SQLITE_ERROR
    let message = connection.map { String(cString: sqlite3_errmsg($0)) }
    sqlite3_reset(handle)
    return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
  }
}

// MARK: - UUID text without printf/scanf

extension UUID {
  /// A random (version 4) UUID from the system CSPRNG (`getrandom`). `UUID()` on Linux opens,
  /// reads and closes `/dev/urandom` on every call, which showed up in write profiles (also the
  /// default `uid` of a ``StoredObject`` built by a caller: the store assigns its own on create).
  @usableFromInline static func randomV4() -> UUID {
    var generator = SystemRandomNumberGenerator()
    var words = (generator.next() as UInt64, generator.next() as UInt64)
    return withUnsafeMutableBytes(of: &words) { raw in
      raw[6] = raw[6] & 0x0F | 0x40
      raw[8] = raw[8] & 0x3F | 0x80
      return UUID(uuid: raw.load(as: uuid_t.self))
    }
  }

  /// Upper-case canonical text, as `uuidString` (which formats through `snprintf` on Linux).
  var canonicalText: String {
    let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
    return withUnsafeBytes(of: uuid) { bytes in
      String(unsafeUninitializedCapacity: 36) { buffer in
        var out = 0
        for (index, byte) in bytes.enumerated() {
          if index == 4 || index == 6 || index == 8 || index == 10 {
            buffer[out] = UInt8(ascii: "-")
            out += 1
          }
          buffer[out] = hex[Int(byte >> 4)]
          buffer[out + 1] = hex[Int(byte & 0x0F)]
          out += 2
        }
        return out
      }
    }
  }

  /// Parses canonical text (either case), as `UUID(uuidString:)` (which uses `sscanf` on Linux).
  init?(canonicalText text: String) {
    var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0),
      UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))
    var text = text
    let parsed: Bool = text.withUTF8 { utf8 in
      guard utf8.count == 36 else { return false }
      return withUnsafeMutableBytes(of: &bytes) { out in
        var position = 0
        for index in 0..<16 {
          if index == 4 || index == 6 || index == 8 || index == 10 {
            guard utf8[position] == UInt8(ascii: "-") else { return false }
            position += 1
          }
          guard let high = Self.nibble(utf8[position]), let low = Self.nibble(utf8[position + 1]) else { return false }
          out[index] = high << 4 | low
          position += 2
        }
        return true
      }
    }
    guard parsed else { return nil }
    self.init(uuid: bytes)
  }

  private static func nibble(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
