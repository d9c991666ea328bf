import Foundation
import Hummingbird
import Model
import ResourceStore
import Store

/// A decoded, defaulted and validated request body.
struct DecodedBody: Sendable {
  var resource: AnyResource
  /// `metadata.resourceVersion` when the body set it: the precondition of a PUT.
  var expectedResourceVersion: Int64?
}

extension APIServer {
  /// How many times a write that lost a race (a conflict the client did not ask for) is retried
  /// against a fresh read before the API gives up with 409.
  static let writeAttempts = 5

  // MARK: Reads

  func get(_ call: Call, kind: Kind, name: String) async throws -> Response {
    try authorize(call, .get(kind, name: name))
    let object = try await store.get(ObjectKey(kind, name))
    return try JSONResponse.object(status: .ok, object)
  }

  /// Events outlive their object (they explain what happened to it), so this answers 200 with
  /// whatever is recorded, also for a name that no longer exists.
  func events(_ call: Call, kind: Kind, name: String) async throws -> Response {
    try authorize(call, .readEvents(kind, name: name))
    let events = try await store.events(for: ObjectKey(kind, name))
    return JSONResponse.make(status: .ok, Items(items: events.map(EventItem.init)))
  }

  func listOrWatch(_ call: Call, kind: Kind) async throws -> Response {
    try authorize(call, .list(kind))
    if try Self.flag(call, "watch") {
      return try await watch(call, kind: kind)
    }
    var selector: LabelSelector?
    if let text = call.query("labelSelector") {
      do {
        selector = try LabelSelector(parsing: text)
      } catch {
        throw APIError.badRequest("bad labelSelector: \(error.description)", field: "labelSelector")
      }
    }
    let list = try await store.list(kind: kind.rawValue, namespace: ObjectMeta.defaultNamespace, labelSelector: selector)
    return try JSONResponse.list(kind: kind, list)
  }

  // MARK: Writes

  func create(_ call: Call, kind: Kind) async throws -> Response {
    try authorize(call, .create(kind))
    let dryRun = try Self.dryRun(call)
    let body = try await decodeBody(call, kind: kind, pathName: nil)
    let object = try Self.newObject(body.resource)
    if dryRun {
      if try await store.find(object.key) != nil {
        throw APIError(store: StoreError(.alreadyExists, key: object.key, "\(object.key) already exists",
          fix: "update it instead, or delete it first"))
      }
      return JSONResponse.make(status: .created, try Self.preview(created: object))
    }
    let created = try await store.create(object)
    return try JSONResponse.object(status: .created, created)
  }

  /// PUT: replaces spec, labels and annotations (finalizers and status stay the store's), or
  /// creates the object if it does not exist (201).
  ///
  /// With `metadata.resourceVersion` in the body, the write happens only if the stored object is
  /// at that version (409 `Conflict` with both versions otherwise; also when the object does not
  /// exist, since the client expected one). Without it, the last writer wins: a write that loses
  /// a race with another writer is retried against a fresh read.
  /// A Worker's runtime name (`spec.workerName`, else its name) names its container, token,
  /// Matrix account and storage prefix; changing it in place would orphan all of them (the old
  /// container would keep running with a valid token). Immutable, like the object's name.
  static func checkImmutableFields(current: StoredObject, desired: AnyResource) throws {
    guard case .worker(let new) = desired, let old = try? current.resource(as: Worker.self),
      old.runtimeName != new.runtimeName
    else { return }
    throw APIError.invalidField("spec.workerName",
      "is immutable (it is \"\(old.runtimeName)\", you sent \"\(new.runtimeName)\"); delete the Worker and create it again to rename its agent")
  }

  func replace(_ call: Call, kind: Kind, name: String) async throws -> Response {
    try authorize(call, .replace(kind, name: name))
    let dryRun = try Self.dryRun(call)
    let body = try await decodeBody(call, kind: kind, pathName: name)
    let desired = try Self.newObject(body.resource)
    let key = desired.key
    for attempt in 1...Self.writeAttempts {
      guard let current = try await store.find(key) else {
        if let expected = body.expectedResourceVersion {
          var details = APIError.Details(kind: kind.rawValue, name: name)
          details.expectedResourceVersion = String(expected)
          throw APIError(.conflict, "\(key) does not exist (you sent resourceVersion \(expected))", details: details)
        }
        if dryRun { return Self.outcome(.created, JSONResponse.make(status: .created, try Self.preview(created: desired))) }
        let created: StoredObject?
        do {
          created = try await store.create(desired)
        } catch {
          // Created by someone else meanwhile: replace it instead.
          guard error.code == .alreadyExists, attempt < Self.writeAttempts else { throw error }
          created = nil
        }
        guard let created else { continue }
        return Self.outcome(.created, try JSONResponse.object(status: .created, created))
      }
      try Self.checkImmutableFields(current: current, desired: body.resource)
      if let expected = body.expectedResourceVersion, expected != current.resourceVersion {
        throw APIError(store: StoreError(.conflict, key: key,
          "\(key) was modified (resourceVersion \(current.resourceVersion), you sent \(expected))",
          fix: "get it again and retry", currentResourceVersion: current.resourceVersion,
          expectedResourceVersion: expected))
      }
      var updated = current
      updated.spec = desired.spec
      updated.labels = desired.labels
      updated.annotations = desired.annotations
      let changed = updated.spec != current.spec || updated.labels != current.labels
        || updated.annotations != current.annotations
      if dryRun {
        if updated.spec != current.spec { updated.generation += 1 }
        return Self.outcome(changed ? .configured : .unchanged, try JSONResponse.object(status: .ok, updated))
      }
      // Nothing to write (a re-apply of unchanged files): answer from the read, as the store
      // would after taking the writer for nothing.
      if !changed { return Self.outcome(.unchanged, try JSONResponse.object(status: .ok, current)) }
      let stored: StoredObject?
      do {
        // The precondition is always the version just read, so finalizers and status read with
        // it are never written back stale.
        stored = try await store.update(updated)
      } catch {
        // Lost a race: without a client precondition the last writer wins, so read again.
        let lostRace = error.code == .conflict || error.code == .notFound
        guard lostRace, body.expectedResourceVersion == nil, attempt < Self.writeAttempts else { throw error }
        stored = nil
      }
      guard let stored else { continue }
      return Self.outcome(changed ? .configured : .unchanged, try JSONResponse.object(status: .ok, stored))
    }
    throw APIError(.conflict, "\(key) kept changing while it was being replaced; retry",
      details: APIError.Details(kind: kind.rawValue, name: name))
  }

  /// What a PUT did, in the `Hiclaw-Outcome` response header (the words `hiclaw apply` prints),
  /// so that a client learns it from the PUT alone instead of reading the object first.
  enum ReplaceOutcome: String {
    case created, configured, unchanged
  }

  static let outcomeHeader = HTTPFields.Element.Name("Hiclaw-Outcome")!

  static func outcome(_ outcome: ReplaceOutcome, _ response: Response) -> Response {
    var response = response
    response.headers[outcomeHeader] = outcome.rawValue
    return response
  }

  /// DELETE: removes the object, or (while finalizers remain) marks it with `deletionTimestamp`;
  /// answers the object either way.
  func delete(_ call: Call, kind: Kind, name: String) async throws -> Response {
    try authorize(call, .delete(kind, name: name))
    let dryRun = try Self.dryRun(call)
    let key = ObjectKey(kind, name)
    if dryRun {
      var preview = try await store.get(key)
      if !preview.finalizers.isEmpty && preview.deletionTimestamp == nil { preview.deletionTimestamp = Date() }
      return try JSONResponse.object(status: .ok, preview)
    }
    let outcome = try await store.delete(key)
    return try JSONResponse.object(status: .ok, outcome.object)
  }

  // MARK: Bodies

  /// Reads the body, at most ``APIServerConfiguration/maximumBodyBytes`` (413 beyond, checked
  /// against `Content-Length` first so a large upload is refused before it is read).
  func readBody(_ call: Call) async throws -> Data {
    let limit = configuration.maximumBodyBytes
    let tooLarge = APIError(.tooLarge, "the request body is larger than \(limit) bytes")
    if let length = call.request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
    var data = Data()
    for try await buffer in call.request.body {
      guard data.count + buffer.readableBytes <= limit else { throw tooLarge }
      data.append(contentsOf: buffer.readableBytesView)
    }
    return data
  }

  /// Decodes a resource body for `kind`: JSON syntax (400), `kind` matching the path (400),
  /// `metadata.name` matching the path on PUT (400), the `default` namespace (400), then the
  /// Model's strict decoding and validation (every error with its path), defaults, and
  /// validation of the defaulted object (a bad host default must not reach the store).
  ///
  /// `status` in the body is ignored (written by the host only), as are the store-owned
  /// metadata fields; `metadata.resourceVersion`, if set, must be a positive decimal.
  func decodeBody(_ call: Call, kind: Kind, pathName: String?) async throws -> DecodedBody {
    let data = try await readBody(call)
    let node: JSONNode
    let duplicates: [FieldPath]
    do {
      (node, duplicates) = try JSONNode.parseReportingDuplicates(data)
    } catch {
      throw APIError(fields: FieldErrors([FieldError(FieldPath(), "the body is not valid JSON: \(error)", reason: .invalidJSON)]))
    }
    guard case .object(let members) = node else {
      throw APIError.invalidField("", "expected a JSON object with apiVersion, kind, metadata and spec, got \(node.typeName)",
        reason: .wrongType)
    }
    if case .string(let bodyKind)? = members["kind"], bodyKind != kind.rawValue {
      throw APIError.badRequest("kind: the body is a \(bodyKind.debugDescription) but /api/v1/\(kind.plural) takes \(kind.rawValue)",
        field: "kind")
    }
    let metadata = members["metadata"]?.objectValue
    if let pathName, case .string(let bodyName)? = metadata?["name"], bodyName != pathName {
      throw APIError.badRequest("metadata.name: the body names \(bodyName.debugDescription) but the path names \(pathName.debugDescription)",
        field: "metadata.name")
    }
    if case .string(let namespace)? = metadata?["namespace"], !namespace.isEmpty, namespace != ObjectMeta.defaultNamespace {
      throw APIError.badRequest(
        "metadata.namespace: this API serves the \(ObjectMeta.defaultNamespace) namespace only, got \(namespace.debugDescription)",
        field: "metadata.namespace")
    }
    var resource = try ResourceDecoder(mode: .strict).decodeAndValidate(node, duplicates: duplicates).value
    configuration.defaults.apply(to: &resource)
    let afterDefaults = Validation.validate(resource)
    if !afterDefaults.isEmpty { throw APIError(fields: afterDefaults) }

    var expected: Int64?
    if let text = resource.metadata.resourceVersion, !text.isEmpty {
      guard let value = Int64(text), value > 0, text.allSatisfy(\.isASCII) else {
        throw APIError.invalidField("metadata.resourceVersion",
          "must be a resourceVersion the host returned (a positive decimal), got \(text.debugDescription)")
      }
      expected = value
    }
    if pathName == nil, resource.name.isEmpty {
      // Validation reports a missing name already; this is a guard for the store key.
      throw APIError.invalidField("metadata.name", "required", reason: .required)
    }
    return DecodedBody(resource: resource, expectedResourceVersion: expected)
  }

  /// The object to create from a decoded resource: no status (host-owned), the cleanup
  /// finalizer (host-owned; see docs/api.md), no precondition.
  static func newObject(_ resource: AnyResource) throws -> StoredObject {
    var object = try StoredObject(resource: resource, status: .emptyObject)
    object.resourceVersion = 0
    object.finalizers = [ObjectMeta.cleanupFinalizer]
    return object
  }

  /// What a create would store, for `?dryRun=All`: no uid or resourceVersion yet.
  static func preview(created object: StoredObject) throws(APIError) -> AnyResource {
    var preview = object
    preview.generation = 1
    preview.creationTimestamp = Date()
    var resource = try preview.apiResource()
    resource.metadata.uid = nil
    resource.metadata.resourceVersion = nil
    return resource
  }

  // MARK: Query parameters

  /// `?dryRun=All` (the only value Kubernetes defines); any other value is 400.
  static func dryRun(_ call: Call) throws(APIError) -> Bool {
    guard let value = call.query("dryRun") else { return false }
    guard value == "All" else {
      throw APIError.badRequest("dryRun: the only supported value is All, got \(value.debugDescription)", field: "dryRun")
    }
    return true
  }

  /// A boolean query flag: `1`/`true` or `0`/`false`; absent is false.
  static func flag(_ call: Call, _ name: String) throws(APIError) -> Bool {
    switch call.query(name) {
    case nil, "0", "false": return false
    case "1", "true", "": return true
    case let other?:
      throw APIError.badRequest("\(name): expected 1, true, 0 or false, got \(other.debugDescription)", field: name)
    }
  }
}
