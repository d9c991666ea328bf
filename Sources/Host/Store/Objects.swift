import Foundation
import GRDB

extension Store {
  // MARK: Reads

  /// The object with this key.
  /// - Throws: ``StoreError/Code-swift.struct/notFound``.
  public func get(_ key: ObjectKey) async throws(StoreError) -> StoredObject {
    guard let object = try await find(key) else { throw StoreError.notFound(key) }
    return object
  }

  /// The object with this key, or `nil`. Served from memory (``ObjectCache``): sees every write
  /// that has returned.
  public func find(_ key: ObjectKey) async throws(StoreError) -> StoredObject? {
    try checkOpen()
    return objects.object(key)
  }

  /// Objects of one kind, optionally in one namespace and matching a label selector, sorted by
  /// namespace then name, with the revision they reflect (a consistent snapshot: watching from
  /// that revision continues exactly after it).
  public func list(kind: String, namespace: String? = nil, labelSelector: LabelSelector? = nil)
    async throws(StoreError) -> ObjectList
  {
    try checkOpen()
    return objects.list(kind: kind, namespace: namespace, selector: labelSelector)
  }

  // MARK: Writes

  /// Creates an object. The store sets `uid`, `resourceVersion`, `generation` (1) and
  /// `creationTimestamp`; `deletionTimestamp` must be nil.
  ///
  /// - Parameter object: key, labels, annotations, finalizers, spec and status; other fields
  ///   are ignored.
  /// - Returns: the stored object.
  /// - Throws: ``StoreError/Code-swift.struct/alreadyExists``, ``StoreError/Code-swift.struct/invalid``.
  @discardableResult
  public func create(_ object: StoredObject) async throws(StoreError) -> StoredObject {
    try Self.validate(object)
    let key = object.key
    let uid = UUID.randomV4()
    return try await write("creating \(key)") { context in
      var created = object
      created.uid = uid
      created.generation = 1
      created.creationTimestamp = context.now
      created.deletionTimestamp = nil
      created.resourceVersion = context.revision + 1
      let metadata = EncodedMetadata(created)
      guard try ObjectSQL.insert(context.db, created, metadata) != nil else { throw StoreError.alreadyExists(key) }
      _ = context.nextRevision()
      try ObjectSQL.appendLog(context.db, .added, created, metadata)
      context.publish(WatchEvent(type: .added, object: created))
      return created
    }
  }

  /// Replaces an object's spec, labels, annotations and finalizers (not its status: see
  /// ``updateStatus(_:)``).
  ///
  /// Optimistic concurrency: `object.resourceVersion` must be the stored one, else the update
  /// fails with ``StoreError/Code-swift.struct/conflict`` carrying both versions. A
  /// `resourceVersion` of 0 updates unconditionally (use it only for "last writer wins" paths).
  ///
  /// `generation` goes up by one when the canonical spec changes. An update that changes
  /// nothing writes nothing and returns the stored object (same `resourceVersion`, no event).
  /// While the object is being deleted, finalizers may only be removed; an update that removes
  /// the last one deletes the object and returns its final state (`DELETED` event).
  ///
  /// - Throws: ``StoreError/Code-swift.struct/notFound``, ``StoreError/Code-swift.struct/conflict``,
  ///   ``StoreError/Code-swift.struct/invalid``.
  @discardableResult
  public func update(_ object: StoredObject) async throws(StoreError) -> StoredObject {
    try Self.validate(object)
    let key = object.key
    return try await write("updating \(key)") { context in
      guard let (id, current) = try ObjectSQL.fetch(context.db, key) else { throw StoreError.notFound(key) }
      try Self.checkVersion(key, current: current, expected: object.resourceVersion)
      if current.isBeingDeleted, let added = object.finalizers.first(where: { !current.finalizers.contains($0) }) {
        throw StoreError(.invalid, key: key,
          "cannot add the finalizer \(added) to \(key): it is being deleted",
          fix: "only remove finalizers from an object marked for deletion")
      }
      let specChanged = object.spec != current.spec
      guard specChanged || object.labels != current.labels || object.annotations != current.annotations
        || object.finalizers != current.finalizers
      else { return current }
      var updated = current
      updated.spec = object.spec
      updated.labels = object.labels
      updated.annotations = object.annotations
      updated.finalizers = object.finalizers
      if specChanged { updated.generation += 1 }
      if updated.isBeingDeleted && updated.finalizers.isEmpty {
        return try Self.remove(context, id: id, updated)
      }
      try Self.modify(context, id: id, &updated)
      return updated
    }
  }

  /// Replaces an object's status. Never changes `generation`, spec or metadata.
  ///
  /// Optimistic concurrency as in ``update(_:)`` (`resourceVersion` 0: unconditional). A status
  /// equal to the stored one writes nothing.
  /// - Throws: ``StoreError/Code-swift.struct/notFound``, ``StoreError/Code-swift.struct/conflict``,
  ///   ``StoreError/Code-swift.struct/invalid``.
  @discardableResult
  public func updateStatus(_ object: StoredObject) async throws(StoreError) -> StoredObject {
    try object.key.validate()
    try Self.validateObjectJSON(object.status, field: "status", key: object.key)
    let key = object.key
    return try await write("updating the status of \(key)") { context in
      guard let (id, current) = try ObjectSQL.fetch(context.db, key) else { throw StoreError.notFound(key) }
      try Self.checkVersion(key, current: current, expected: object.resourceVersion)
      guard object.status != current.status else { return current }
      var updated = current
      updated.status = object.status
      try Self.modify(context, id: id, &updated)
      return updated
    }
  }

  /// Deletes an object: removes it if it has no finalizers; otherwise sets `deletionTimestamp`
  /// and keeps it until the last finalizer is removed (``removeFinalizer(_:_:)``). Deleting an
  /// object already marked for deletion changes nothing.
  ///
  /// - Parameter expectedResourceVersion: a precondition, as in ``update(_:)``; `nil` for none.
  /// - Throws: ``StoreError/Code-swift.struct/notFound``, ``StoreError/Code-swift.struct/conflict``.
  @discardableResult
  public func delete(_ key: ObjectKey, expectedResourceVersion: Int64? = nil) async throws(StoreError)
    -> DeletionOutcome
  {
    try await write("deleting \(key)") { context in
      guard let (id, current) = try ObjectSQL.fetch(context.db, key) else { throw StoreError.notFound(key) }
      if let expected = expectedResourceVersion { try Self.checkVersion(key, current: current, expected: expected) }
      if current.finalizers.isEmpty { return .deleted(try Self.remove(context, id: id, current)) }
      if current.isBeingDeleted { return .remains(current) }
      var marked = current
      marked.deletionTimestamp = context.now
      try Self.modify(context, id: id, &marked)
      return .remains(marked)
    }
  }

  /// Adds a finalizer if the object does not have it yet (no write otherwise).
  /// - Throws: ``StoreError/Code-swift.struct/notFound``; ``StoreError/Code-swift.struct/invalid``
  ///   if the object is being deleted.
  @discardableResult
  public func addFinalizer(_ key: ObjectKey, _ finalizer: String) async throws(StoreError) -> StoredObject {
    try Self.validateFinalizers([finalizer], key: key)
    return try await write("adding the finalizer \(finalizer) to \(key)") { context in
      guard let (id, current) = try ObjectSQL.fetch(context.db, key) else { throw StoreError.notFound(key) }
      if current.finalizers.contains(finalizer) { return current }
      guard !current.isBeingDeleted else {
        throw StoreError(.invalid, key: key, "cannot add the finalizer \(finalizer) to \(key): it is being deleted",
          fix: "only remove finalizers from an object marked for deletion")
      }
      var updated = current
      updated.finalizers.append(finalizer)
      try Self.modify(context, id: id, &updated)
      return updated
    }
  }

  /// Removes a finalizer. If the object is marked for deletion and this was its last
  /// finalizer, the object is removed (`.deleted`); otherwise it is updated (`.remains`).
  /// Removing a finalizer the object does not have changes nothing.
  /// - Throws: ``StoreError/Code-swift.struct/notFound``.
  @discardableResult
  public func removeFinalizer(_ key: ObjectKey, _ finalizer: String) async throws(StoreError) -> DeletionOutcome {
    try await write("removing the finalizer \(finalizer) from \(key)") { context in
      guard let (id, current) = try ObjectSQL.fetch(context.db, key) else { throw StoreError.notFound(key) }
      guard current.finalizers.contains(finalizer) else { return .remains(current) }
      var updated = current
      updated.finalizers.removeAll { $0 == finalizer }
      if updated.isBeingDeleted && updated.finalizers.isEmpty {
        return .deleted(try Self.remove(context, id: id, updated))
      }
      try Self.modify(context, id: id, &updated)
      return .remains(updated)
    }
  }

  // MARK: Watch and compaction

  /// Every event after `fromRevision` (for `kind`, or all kinds), replayed from the object log
  /// and then live, in revision order, with no gap and no duplicate. See ``Watch``.
  ///
  /// To follow a kind from "now": `list` it, then watch from the list's `resourceVersion`. A
  /// revision above the current one is allowed; the watch starts after it.
  /// - Throws: ``StoreError/Code-swift.struct/revisionCompacted`` naming the oldest available
  ///   revision if events after `fromRevision` were compacted; ``StoreError/Code-swift.struct/closed``;
  ///   ``StoreError/Code-swift.struct/cancelled`` if the calling task is cancelled meanwhile.
  public func watch(kind: String? = nil, fromRevision: Int64) async throws(StoreError) -> Watch {
    guard fromRevision >= 0 else {
      throw StoreError(.invalid, "cannot watch from revision \(fromRevision)", fix: "use 0 or a revision the store returned")
    }
    guard let (sink, lastPublished) = broadcaster.subscribe(kind: kind, after: fromRevision,
      limit: configuration.watchBufferLimit)
    else { throw StoreError.closed }
    let reader = LogReader(pool: pool, pageSize: max(1, configuration.watchReplayPageSize))
    let firstPage: LogReader.Page
    do {
      if let hook = configuration.afterWatchSubscribe { await hook() }
      firstPage = try await reader.page(kind: kind, after: fromRevision, upTo: lastPublished)
    } catch {
      broadcaster.remove(sink)
      throw error
    }
    return Watch(subscription: WatchSubscription(
      sink: sink, broadcaster: broadcaster, reader: reader, fromRevision: fromRevision, upperBound: lastPublished,
      firstPage: firstPage.events, replayDone: firstPage.isLast))
  }

  /// Deletes object-log rows older than `revision`; watches from before `revision - 1` then fail
  /// with ``StoreError/Code-swift.struct/revisionCompacted``. Objects are not affected.
  /// Compacting to a revision at or below an earlier compaction does nothing.
  ///
  /// - Parameter revision: the oldest revision to keep, at most ``currentRevision`` + 1.
  /// - Returns: how many log rows were deleted.
  @discardableResult
  public func compact(before revision: Int64) async throws(StoreError) -> Int {
    try await write("compacting the object log before revision \(revision)") { context in
      guard revision <= context.revision + 1 else {
        throw StoreError(.invalid, "cannot compact before revision \(revision): the current revision is \(context.revision)",
          fix: "compact before a revision at most \(context.revision + 1)")
      }
      let horizon = try Int64.fetchOne(context.db, sql: "SELECT compacted_before FROM store_meta WHERE id = 1") ?? 1
      guard revision > horizon else { return 0 }
      try context.db.execute(sql: "DELETE FROM object_log WHERE revision < ?", arguments: [revision])
      let deleted = context.db.changesCount
      try context.db.execute(sql: "UPDATE store_meta SET compacted_before = ? WHERE id = 1", arguments: [revision])
      return deleted
    }
  }

  /// Compacts so that the log keeps only the last `count` revisions.
  @discardableResult
  public func compact(keepingLast count: Int64) async throws(StoreError) -> Int {
    try await compact(before: max(1, currentRevision - max(0, count) + 1))
  }

  // MARK: Helpers (run on the writer queue)

  /// Gives `object` the next revision, writes it and logs `MODIFIED`.
  private static func modify(_ context: WriteContext, id: Int64, _ object: inout StoredObject) throws {
    object.resourceVersion = context.nextRevision()
    let metadata = EncodedMetadata(object)
    try ObjectSQL.update(context.db, id: id, object, metadata)
    try ObjectSQL.appendLog(context.db, .modified, object, metadata)
    context.publish(WatchEvent(type: .modified, object: object))
  }

  /// Deletes the row and logs `DELETED`; returns the final state at the deletion's revision.
  private static func remove(_ context: WriteContext, id: Int64, _ object: StoredObject) throws -> StoredObject {
    var last = object
    last.resourceVersion = context.nextRevision()
    try ObjectSQL.delete(context.db, id: id)
    try ObjectSQL.appendLog(context.db, .deleted, last, EncodedMetadata(last))
    context.publish(WatchEvent(type: .deleted, object: last))
    return last
  }

  private static func checkVersion(_ key: ObjectKey, current: StoredObject, expected: Int64) throws(StoreError) {
    if expected != 0 && expected != current.resourceVersion {
      throw StoreError.conflict(key, current: current.resourceVersion, expected: expected)
    }
  }

  static func validate(_ object: StoredObject) throws(StoreError) {
    try object.key.validate()
    try validateObjectJSON(object.spec, field: "spec", key: object.key)
    try validateObjectJSON(object.status, field: "status", key: object.key)
    for (field, map) in [("label", object.labels), ("annotation", object.annotations)] where map.keys.contains("") {
      throw StoreError(.invalid, key: object.key, "\(object.key) has a \(field) with an empty key", fix: "give every \(field) a key")
    }
    try validateFinalizers(object.finalizers, key: object.key)
  }

  private static func validateFinalizers(_ finalizers: [String], key: ObjectKey) throws(StoreError) {
    if finalizers.contains("") {
      throw StoreError(.invalid, key: key, "\(key) has an empty finalizer", fix: "name finalizers like hiclaw.io/cleanup")
    }
    if finalizers.count > 1, Set(finalizers).count != finalizers.count {
      throw StoreError(.invalid, key: key, "\(key) lists a finalizer twice", fix: "list each finalizer once")
    }
  }

  private static func validateObjectJSON(_ json: CanonicalJSON, field: String, key: ObjectKey) throws(StoreError) {
    guard json.isObject else {
      throw StoreError(.invalid, key: key, "the \(field) of \(key) is not a JSON object", fix: "send the \(field) as {…}")
    }
  }
}
