import Foundation
import GRDB

/// A Kubernetes-style Event about one object: "what happened to it", for `hiclaw describe`.
///
/// Recording the same (object, type, reason, message) again increments ``count`` and moves
/// ``lastTimestamp`` instead of adding a row, as the Kubernetes event recorder does. Events do
/// not take revisions and are not in the object log or watches; they outlive their object
/// until retention removes them.
public struct RecordedEvent: Sendable, Hashable {
  public enum EventType: String, Sendable, Hashable, Codable {
    case normal = "Normal"
    case warning = "Warning"
  }

  public var key: ObjectKey
  public var type: EventType
  /// A short UpperCamelCase reason (`Created`, `BackendFailed`).
  public var reason: String
  public var message: String
  public var count: Int
  public var firstTimestamp: Date
  public var lastTimestamp: Date
}

/// How many Events the store keeps. Oldest (by last occurrence) go first.
public struct EventRetention: Sendable, Hashable {
  /// Per object.
  public var maximumPerObject = 100
  /// In the whole store.
  public var maximumTotal = 10_000
  /// Events not seen for this long are dropped.
  public var maximumAge: Duration = .seconds(24 * 3600)

  public init() {}
}

extension Store {
  /// The longest message kept; longer ones are cut at a character boundary and end with `…`.
  public static let maximumEventMessageBytes = 4096

  /// Records an Event about `key` (the object need not exist any more).
  /// - Returns: the event as stored, with its count.
  /// - Throws: ``StoreError/Code-swift.struct/invalid`` for an empty reason.
  @discardableResult
  public func recordEvent(for key: ObjectKey, type: RecordedEvent.EventType, reason: String, message: String)
    async throws(StoreError) -> RecordedEvent
  {
    let body = try eventWrite(for: key, type: type, reason: reason, message: message)
    return try await write("recording an Event about \(key)", body)
  }

  /// Records an Event about `key` without waiting for the commit (reconcilers report progress
  /// this way: an Event is informational, and waiting for it cost each reconcile a suspension
  /// and a resumption). It commits in order with the caller's later writes. `onFailure` gets
  /// the error, if any (on the thread that ran the batch).
  public func recordEventWithoutWaiting(for key: ObjectKey, type: RecordedEvent.EventType, reason: String,
    message: String, onFailure: @escaping @Sendable (StoreError) -> Void)
  {
    let body: @Sendable (WriteContext) throws -> RecordedEvent
    do {
      try checkOpen()
      body = try eventWrite(for: key, type: type, reason: reason, message: message)
    } catch {
      return onFailure(error)
    }
    writer.submitWithoutWaiting("recording an Event about \(key)", body) { result in
      if case .failure(let error) = result { onFailure(error) }
    }
  }

  /// The checked write of one Event.
  private func eventWrite(for key: ObjectKey, type: RecordedEvent.EventType, reason: String, message: String)
    throws(StoreError) -> @Sendable (WriteContext) throws -> RecordedEvent
  {
    try key.validate()
    guard !reason.isEmpty else {
      throw StoreError(.invalid, key: key, "an Event about \(key) has an empty reason", fix: "give it a reason such as Created")
    }
    let message = Self.truncate(message)
    let retention = configuration.eventRetention
    return { context in
      let db = context.db
      let statement = try db.cachedStatement(sql: """
        INSERT INTO events (kind, namespace, name, type, reason, message, count, first_timestamp, last_timestamp)
        VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
        ON CONFLICT (kind, namespace, name, type, reason, message)
        DO UPDATE SET count = count + 1, last_timestamp = max(last_timestamp, excluded.last_timestamp)
        RETURNING id, count, first_timestamp, last_timestamp
        """)
      guard let row = try Row.fetchOne(statement, arguments: [
        key.kind, key.namespace, key.name, type.rawValue, reason, message, context.nowMillis, context.nowMillis,
      ]) else {
        throw StoreError(.internal, key: key, "recording an Event returned no row", fix: "report this as a bug")
      }
      let id: Int64 = row[0]
      let count: Int = row[1]
      if count == 1 { try Self.enforceRetention(db, key: key, newID: id, retention: retention, now: context.nowMillis) }
      return RecordedEvent(key: key, type: type, reason: reason, message: message, count: count,
        firstTimestamp: Date(millis: row[2]), lastTimestamp: Date(millis: row[3]))
    }
  }

  /// The Events about `key`, oldest first (by last occurrence), newest last.
  public func events(for key: ObjectKey) async throws(StoreError) -> [RecordedEvent] {
    try await read("reading the Events of \(key)") { db in
      let rows = try Row.fetchCursor(db.cachedStatement(sql: """
        SELECT type, reason, message, count, first_timestamp, last_timestamp FROM events
        WHERE kind = ? AND namespace = ? AND name = ? ORDER BY last_timestamp, id
        """), arguments: [key.kind, key.namespace, key.name])
      var events: [RecordedEvent] = []
      while let row = try rows.next() {
        events.append(RecordedEvent(key: key, type: RecordedEvent.EventType(rawValue: row[0]) ?? .normal,
          reason: row[1], message: row[2], count: row[3], firstTimestamp: Date(millis: row[4]),
          lastTimestamp: Date(millis: row[5])))
      }
      return events
    }
  }

  /// Applies the age and total limits of ``StoreConfiguration/eventRetention`` now. (Recording
  /// applies the per-object limit every time and the others every 64 new Events.)
  /// - Returns: how many Events were removed.
  @discardableResult
  public func pruneEvents() async throws(StoreError) -> Int {
    let retention = configuration.eventRetention
    return try await write("pruning Events") { context in
      try Self.pruneGlobally(context.db, retention: retention, now: context.nowMillis)
    }
  }

  private static func enforceRetention(_ db: Database, key: ObjectKey, newID: Int64, retention: EventRetention,
    now: Int64) throws
  {
    let count = try Int.fetchOne(db.cachedStatement(
      sql: "SELECT count(*) FROM events WHERE kind = ? AND namespace = ? AND name = ?"),
      arguments: [key.kind, key.namespace, key.name]) ?? 0
    if count > retention.maximumPerObject {
      try db.cachedStatement(sql: """
        DELETE FROM events WHERE id IN (
          SELECT id FROM events WHERE kind = ? AND namespace = ? AND name = ? ORDER BY last_timestamp, id LIMIT ?)
        """).execute(arguments: [key.kind, key.namespace, key.name, count - max(0, retention.maximumPerObject)])
    }
    if newID % 64 == 0 { _ = try pruneGlobally(db, retention: retention, now: now) }
  }

  private static func pruneGlobally(_ db: Database, retention: EventRetention, now: Int64) throws -> Int {
    let age = retention.maximumAge.components
    let ageMillis = age.seconds * 1000 + age.attoseconds / 1_000_000_000_000_000
    try db.execute(sql: "DELETE FROM events WHERE last_timestamp < ?", arguments: [now - ageMillis])
    var removed = db.changesCount
    try db.execute(sql: """
      DELETE FROM events WHERE id IN (
        SELECT id FROM events ORDER BY last_timestamp DESC, id DESC LIMIT -1 OFFSET ?)
      """, arguments: [max(0, retention.maximumTotal)])
    removed += db.changesCount
    return removed
  }

  private static func truncate(_ message: String) -> String {
    guard message.utf8.count > maximumEventMessageBytes else { return message }
    var result = ""
    var bytes = 0
    for character in message {
      let size = character.utf8.count
      if bytes + size > maximumEventMessageBytes - 3 { break }
      result.append(character)
      bytes += size
    }
    return result + "…"
  }
}
