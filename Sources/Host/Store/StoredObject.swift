import Foundation

/// Identifies an object: (kind, namespace, name).
///
/// The store treats all three as opaque strings. Use the REST plural as the kind (`workers`,
/// `teams`, …) so that messages read like API paths (`workers/alice was modified …`). An empty
/// namespace means a cluster-scoped object.
public struct ObjectKey: Hashable, Sendable, Codable, CustomStringConvertible {
  public var kind: String
  public var namespace: String
  public var name: String

  public init(kind: String, namespace: String = "default", name: String) {
    self.kind = kind
    self.namespace = namespace
    self.name = name
  }

  /// `workers/alice`, or `workers/alice in namespace team-a` outside `default`.
  public var description: String {
    namespace.isEmpty || namespace == "default" ? "\(kind)/\(name)" : "\(kind)/\(name) in namespace \(namespace)"
  }

  /// Rejects keys that cannot be stored sensibly.
  func validate() throws(StoreError) {
    for (field, value) in [("kind", kind), ("name", name)] where value.isEmpty {
      throw StoreError(.invalid, key: self, "the object's \(field) is empty", fix: "give every object a kind and a name")
    }
    for (field, value) in [("kind", kind), ("namespace", namespace), ("name", name)] {
      guard value.utf8.count <= 253 else {
        throw StoreError(.invalid, key: self, "the object's \(field) is \(value.utf8.count) bytes long",
          fix: "use at most 253 bytes")
      }
      guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
        throw StoreError(.invalid, key: self, "the object's \(field) contains a control character",
          fix: "use printable characters only")
      }
    }
  }
}

/// One stored object, as `get`, `list` and watch events return it.
///
/// The store owns `uid`, `resourceVersion`, `generation`, `creationTimestamp` and
/// `deletionTimestamp`: values sent in these fields are ignored on writes, except
/// `resourceVersion`, which is the optimistic-concurrency precondition of ``Store/update(_:)``
/// and ``Store/updateStatus(_:)``.
public struct StoredObject: Sendable, Hashable {
  public var key: ObjectKey
  /// Assigned at create; a re-created object (same key) gets a new one.
  public var uid: UUID
  /// The store revision of the last write to this object. For a `DELETED` watch event, the
  /// revision of the deletion.
  public var resourceVersion: Int64
  /// Starts at 1; increases by one each time the canonical `spec` changes. Status, metadata and
  /// deletion do not change it.
  public var generation: Int64
  public var creationTimestamp: Date
  /// Set by ``Store/delete(_:expectedResourceVersion:)`` on an object that still has
  /// finalizers; the object goes away when the last finalizer is removed.
  public var deletionTimestamp: Date?
  public var labels: [String: String]
  public var annotations: [String: String]
  public var finalizers: [String]
  /// A JSON object.
  public var spec: CanonicalJSON
  /// A JSON object; `{}` until the first ``Store/updateStatus(_:)``.
  public var status: CanonicalJSON

  public var kind: String { key.kind }
  public var namespace: String { key.namespace }
  public var name: String { key.name }
  public var isBeingDeleted: Bool { deletionTimestamp != nil }

  public init(
    key: ObjectKey, uid: UUID = .randomV4(), resourceVersion: Int64 = 0, generation: Int64 = 0,
    creationTimestamp: Date = Date(timeIntervalSince1970: 0), deletionTimestamp: Date? = nil,
    labels: [String: String] = [:], annotations: [String: String] = [:], finalizers: [String] = [],
    spec: CanonicalJSON = .emptyObject, status: CanonicalJSON = .emptyObject
  ) {
    self.key = key
    self.uid = uid
    self.resourceVersion = resourceVersion
    self.generation = generation
    self.creationTimestamp = creationTimestamp
    self.deletionTimestamp = deletionTimestamp
    self.labels = labels
    self.annotations = annotations
    self.finalizers = finalizers
    self.spec = spec
    self.status = status
  }
}

/// The result of ``Store/list(kind:namespace:labelSelector:)``: the items (sorted by namespace,
/// then name) and the store revision they were read at. Watching from ``resourceVersion``
/// continues exactly where the list left off.
public struct ObjectList: Sendable, Hashable {
  public var items: [StoredObject]
  public var resourceVersion: Int64

  public init(items: [StoredObject], resourceVersion: Int64) {
    self.items = items
    self.resourceVersion = resourceVersion
  }
}

/// What a delete (or the removal of a finalizer) did.
public enum DeletionOutcome: Sendable, Hashable {
  /// The object is gone. Its last state, with `resourceVersion` set to the deletion's revision.
  case deleted(StoredObject)
  /// The object is still there: marked for deletion and waiting for its finalizers, or (for
  /// ``Store/removeFinalizer(_:_:)`` on an object not being deleted) simply updated.
  case remains(StoredObject)

  /// The object in either case.
  public var object: StoredObject {
    switch self {
    case .deleted(let object), .remains(let object): object
    }
  }

  public var isDeleted: Bool {
    if case .deleted = self { return true }
    return false
  }
}
