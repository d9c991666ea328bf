import Foundation
import Model
import Store

/// The bridge between typed resources (Model) and the kind-agnostic store (Store).
///
/// The store owns `uid`, `resourceVersion`, `generation` and the timestamps; a resource carries
/// them in `metadata` as strings/integers the way Kubernetes does on the wire
/// (`resourceVersion` is a decimal string).
extension StoredObject {
  /// The object to write for `resource`: key, labels, annotations, finalizers, spec and status.
  ///
  /// `resourceVersion` is taken from `metadata.resourceVersion` when it parses as a positive
  /// integer (the optimistic-concurrency precondition of an update), else 0 (no precondition).
  public init(resource: AnyResource) throws(StoreError) {
    try self.init(resource: resource, status: resource.encodedStatus())
  }

  /// The object to write for `resource` with `status` instead of the resource's own (a create
  /// stores an empty one: the status is the host's), so the resource's status is never encoded.
  public init(resource: AnyResource, status: StoredJSON) throws(StoreError) {
    let meta = resource.metadata
    self.init(
      key: ObjectKey(kind: resource.kind.rawValue, namespace: meta.namespace, name: meta.name),
      resourceVersion: meta.resourceVersion.flatMap(Int64.init) ?? 0,
      labels: meta.labels, annotations: meta.annotations, finalizers: meta.finalizers,
      spec: try resource.encodedSpec(), status: status)
  }

  /// The typed resource stored here.
  ///
  /// - Throws: ``StoreError/Code-swift.struct/internal`` if the kind is not one of the four or
  ///   the stored JSON does not decode (a store written by an incompatible hiclaw).
  public func resource() throws(StoreError) -> AnyResource {
    guard let kind = Kind(rawValue: key.kind) else {
      throw StoreError(.internal, key: key, "\(key) is not a hiclaw kind", fix: "this object was not written by hiclaw-host")
    }
    let meta = ObjectMeta(
      name: key.name, namespace: key.namespace, uid: uid.uuidString.lowercased(),
      resourceVersion: String(resourceVersion), generation: generation,
      creationTimestamp: Timestamp(creationTimestamp), deletionTimestamp: deletionTimestamp.map(Timestamp.init),
      labels: labels, annotations: annotations, finalizers: finalizers)
    do {
      switch kind {
      case .worker:
        return .worker(Worker(metadata: meta, spec: try spec.decodeModel(), status: try status.decodeModel()))
      case .team:
        return .team(Team(metadata: meta, spec: try spec.decodeModel(), status: try status.decodeModel()))
      case .human:
        return .human(Human(metadata: meta, spec: try spec.decodeModel(), status: try status.decodeModel()))
      case .manager:
        return .manager(Manager(metadata: meta, spec: try spec.decodeModel(), status: try status.decodeModel()))
      }
    } catch {
      throw StoreError(.internal, key: key, "the stored \(key) does not decode: \(error)",
        fix: "this store was written by an incompatible hiclaw version")
    }
  }

  /// The typed resource, when it is of kind `R`.
  public func resource<R: Resource>(as type: R.Type) throws(StoreError) -> R {
    let any = try resource()
    guard let typed = any.base as? R else {
      throw StoreError(.internal, key: key, "\(key) is not a \(R.kind.rawValue)", fix: "ask for the right kind")
    }
    return typed
  }
}

extension StoredJSON {
  /// A Model value as a store document: encoded by ``NodeEncoder``, whose text is already in
  /// the store's canonical form (no `JSONEncoder` text to write, no second parse).
  /// - Throws: ``StoreError/Code-swift.struct/invalid`` for values JSON cannot carry (NaN).
  init<T: Encodable>(model value: T) throws(StoreError) {
    let bytes: [UInt8]
    do { bytes = try NodeEncoder.jsonBytes(value) } catch {
      throw StoreError(.invalid, "cannot encode \(T.self) as JSON: \(error)",
        fix: "make the value encodable (non-finite floating-point numbers, for example, are not JSON)")
    }
    self.init(canonicalText: String(decoding: bytes, as: UTF8.self))
  }
}

extension StoredJSON {
  /// The document as a Model value (``NodeDecoder``; the same values as `JSONDecoder`).
  func decodeModel<T: Decodable>(_ type: T.Type = T.self) throws -> T {
    try NodeDecoder.decode(type, from: Data(text.utf8))
  }
}

extension ObjectKey {
  /// The key of `name` of `kind` in the default namespace.
  public init(_ kind: Kind, _ name: String, namespace: String = ObjectMeta.defaultNamespace) {
    self.init(kind: kind.rawValue, namespace: namespace, name: name)
  }

  /// The kind, when it is one of the four.
  public var resourceKind: Kind? { Kind(rawValue: kind) }
}

extension AnyResource {
  func encodedSpec() throws(StoreError) -> StoredJSON {
    switch self {
    case .worker(let value): try StoredJSON(model: value.spec)
    case .team(let value): try StoredJSON(model: value.spec)
    case .human(let value): try StoredJSON(model: value.spec)
    case .manager(let value): try StoredJSON(model: value.spec)
    }
  }

  func encodedStatus() throws(StoreError) -> StoredJSON {
    switch self {
    case .worker(let value): try StoredJSON(model: value.status)
    case .team(let value): try StoredJSON(model: value.status)
    case .human(let value): try StoredJSON(model: value.status)
    case .manager(let value): try StoredJSON(model: value.status)
    }
  }

  /// The store key of this resource.
  public var key: ObjectKey { ObjectKey(kind: kind.rawValue, namespace: namespace, name: name) }
}

extension Resource {
  /// The store key of this resource.
  public var key: ObjectKey { ObjectKey(kind: Self.kind.rawValue, namespace: namespace, name: name) }
}

extension Store {
  /// The resource `name` of `kind`.
  /// - Throws: ``StoreError/Code-swift.struct/notFound`` if there is none.
  public func resource(_ kind: Kind, _ name: String, namespace: String = ObjectMeta.defaultNamespace)
    async throws(StoreError) -> AnyResource
  {
    try await get(ObjectKey(kind, name, namespace: namespace)).resource()
  }

  /// The resource `name` of kind `R`, or nil.
  public func find<R: Resource>(_ type: R.Type, _ name: String, namespace: String = ObjectMeta.defaultNamespace)
    async throws(StoreError) -> R?
  {
    try await find(ObjectKey(R.kind, name, namespace: namespace))?.resource(as: R.self)
  }

  /// Every resource of kind `R` (sorted by namespace, then name).
  public func list<R: Resource>(_ type: R.Type, labelSelector: LabelSelector? = nil) async throws(StoreError) -> [R] {
    let list = try await list(kind: R.kind.rawValue, labelSelector: labelSelector)
    var result: [R] = []
    result.reserveCapacity(list.items.count)
    for item in list.items { result.append(try item.resource(as: R.self)) }
    return result
  }

  /// Writes `resource.status`, on the condition that the object is still at
  /// `resource.metadata.resourceVersion` (``StoreError/Code-swift.struct/conflict`` otherwise).
  /// Returns the object as stored afterwards (``StoredObject/resource(as:)`` decodes it).
  ///
  /// Only the status is encoded (a status write ignores everything else), and the result is not
  /// decoded: status writes are the reconcilers' most frequent call.
  @discardableResult
  public func writeStatus<R: Resource>(_ resource: R) async throws(StoreError) -> StoredObject {
    let meta = resource.metadata
    let object = StoredObject(
      key: resource.key, resourceVersion: meta.resourceVersion.flatMap(Int64.init) ?? 0,
      status: try StoredJSON(model: resource.status))
    return try await updateStatus(object)
  }
}
