import Foundation
import GRDB

/// Row layout shared by `objects` and `object_log`: column 0 is the row id (objects) or the
/// event type (log); columns 1–13 are the object, with the revision as column 5.
enum ObjectRow {
  static let columns = """
    id, kind, namespace, name, uid, resource_version, generation, creation_timestamp, deletion_timestamp, \
    labels, annotations, finalizers, spec, status
    """

  /// The object in columns 1–13 of the current row of `statement`.
  static func decodeObject(_ statement: RawStatement) throws -> StoredObject {
    let key = ObjectKey(kind: statement.text(1), namespace: statement.text(2), name: statement.text(3))
    guard let uid = UUID(canonicalText: statement.text(4)) else {
      throw StoreError(.internal, key: key, "the stored uid of \(key) is not a UUID",
        fix: "the database was modified outside hiclaw; restore it from a backup")
    }
    return StoredObject(
      key: key, uid: uid, resourceVersion: statement.int64(5), generation: statement.int64(6),
      creationTimestamp: Date(millis: statement.int64(7)),
      deletionTimestamp: statement.optionalInt64(8).map(Date.init(millis:)),
      labels: statement.textEquals(9, "{}") ? [:] : try stringMap(statement.text(9), field: "labels"),
      annotations: statement.textEquals(10, "{}") ? [:] : try stringMap(statement.text(10), field: "annotations"),
      finalizers: statement.textEquals(11, "[]") ? [] : try stringArray(statement.text(11)),
      spec: CanonicalJSON(trusted: statement.text(12)), status: CanonicalJSON(trusted: statement.text(13)))
  }

  /// Every object the (already bound) statement returns; resets it.
  static func decodeAll(_ statement: RawStatement) throws -> [StoredObject] {
    defer { statement.reset() }
    var objects: [StoredObject] = []
    while try statement.step() { objects.append(try decodeObject(statement)) }
    return objects
  }

  private static func stringMap(_ text: String, field: String) throws(StoreError) -> [String: String] {
    if text == "{}" { return [:] }
    return try CanonicalJSON.parseTree(text).stringMap(field: field)
  }

  private static func stringArray(_ text: String) throws(StoreError) -> [String] {
    if text == "[]" { return [] }
    return try CanonicalJSON.parseTree(text).stringArray(field: "finalizers")
  }
}

enum LogRow {
  static let columns = """
    type, kind, namespace, name, uid, revision, generation, creation_timestamp, deletion_timestamp, \
    labels, annotations, finalizers, spec, status
    """

  static func decode(_ statement: RawStatement) throws -> WatchEvent {
    let type: WatchEvent.EventType
    if statement.textEquals(0, "MODIFIED") {
      type = .modified
    } else if statement.textEquals(0, "ADDED") {
      type = .added
    } else if statement.textEquals(0, "DELETED") {
      type = .deleted
    } else {
      throw StoreError(.internal, "the object log has an event of unknown type \(statement.text(0))",
        fix: "the database was modified outside hiclaw; restore it from a backup")
    }
    return WatchEvent(type: type, object: try ObjectRow.decodeObject(statement))
  }
}

/// Labels, annotations and finalizers encoded once per write, for the object row and its log row.
struct EncodedMetadata {
  var labels: String
  var annotations: String
  var finalizers: String

  init(_ object: StoredObject) {
    labels = JSONNode.encode(object.labels)
    annotations = JSONNode.encode(object.annotations)
    finalizers = JSONNode.encode(object.finalizers)
  }
}

/// The SQL of object reads and writes, through ``RawStatement``. Write functions run inside the
/// write queue's transaction.
enum ObjectSQL {
  static func fetch(_ db: Database, _ key: ObjectKey) throws -> (id: Int64, object: StoredObject)? {
    let statement = try RawStatement(db,
      "SELECT \(ObjectRow.columns) FROM objects WHERE kind = ? AND namespace = ? AND name = ?")
    defer { statement.reset() }
    statement.bind(1, key.kind)
    statement.bind(2, key.namespace)
    statement.bind(3, key.name)
    guard try statement.step() else { return nil }
    return (statement.int64(0), try ObjectRow.decodeObject(statement))
  }

  /// Inserts a new object; `nil` if the key is taken.
  static func insert(_ db: Database, _ object: StoredObject, _ metadata: EncodedMetadata) throws -> Int64? {
    let statement = try RawStatement(db, """
      INSERT INTO objects (kind, namespace, name, uid, resource_version, generation, creation_timestamp,
        deletion_timestamp, labels, annotations, finalizers, spec, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (kind, namespace, name) DO NOTHING
      """)
    statement.bind(1, object.key.kind)
    statement.bind(2, object.key.namespace)
    statement.bind(3, object.key.name)
    statement.bind(4, object.uid.canonicalText)
    statement.bind(5, object.resourceVersion)
    statement.bind(6, object.generation)
    statement.bind(7, object.creationTimestamp.millis)
    statement.bind(8, object.deletionTimestamp?.millis)
    statement.bind(9, metadata.labels)
    statement.bind(10, metadata.annotations)
    statement.bind(11, metadata.finalizers)
    statement.bind(12, object.spec.text)
    statement.bind(13, object.status.text)
    try statement.run()
    guard db.changesCount == 1 else { return nil }
    return db.lastInsertedRowID
  }

  /// Writes every mutable column of an existing row.
  static func update(_ db: Database, id: Int64, _ object: StoredObject, _ metadata: EncodedMetadata) throws {
    let statement = try RawStatement(db, """
      UPDATE objects SET resource_version = ?, generation = ?, deletion_timestamp = ?, labels = ?, annotations = ?,
        finalizers = ?, spec = ?, status = ?
      WHERE id = ?
      """)
    statement.bind(1, object.resourceVersion)
    statement.bind(2, object.generation)
    statement.bind(3, object.deletionTimestamp?.millis)
    statement.bind(4, metadata.labels)
    statement.bind(5, metadata.annotations)
    statement.bind(6, metadata.finalizers)
    statement.bind(7, object.spec.text)
    statement.bind(8, object.status.text)
    statement.bind(9, id)
    try statement.run()
  }

  static func delete(_ db: Database, id: Int64) throws {
    let statement = try RawStatement(db, "DELETE FROM objects WHERE id = ?")
    statement.bind(1, id)
    try statement.run()
  }

  static func appendLog(_ db: Database, _ type: WatchEvent.EventType, _ object: StoredObject,
    _ metadata: EncodedMetadata) throws
  {
    let statement = try RawStatement(db, """
      INSERT INTO object_log (revision, type, kind, namespace, name, uid, generation, creation_timestamp,
        deletion_timestamp, labels, annotations, finalizers, spec, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """)
    statement.bind(1, object.resourceVersion)
    statement.bind(2, type.rawValue)
    statement.bind(3, object.key.kind)
    statement.bind(4, object.key.namespace)
    statement.bind(5, object.key.name)
    statement.bind(6, object.uid.canonicalText)
    statement.bind(7, object.generation)
    statement.bind(8, object.creationTimestamp.millis)
    statement.bind(9, object.deletionTimestamp?.millis)
    statement.bind(10, metadata.labels)
    statement.bind(11, metadata.annotations)
    statement.bind(12, metadata.finalizers)
    statement.bind(13, object.spec.text)
    statement.bind(14, object.status.text)
    try statement.run()
  }
}
