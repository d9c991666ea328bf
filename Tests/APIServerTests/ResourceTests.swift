import Foundation
import Hummingbird
import Model
import Store
import Testing

@testable import APIServer

@Suite("Resources")
struct ResourceTests {
  @Test("create, get, list, replace, delete — whole objects, for all four kinds", arguments: Kind.allCases)
  func crud(kind: Kind) async throws {
    try await withAPI { api in
      let base = "/api/v1/\(kind.plural)"
      let created = try await api.post(base, Doc.of(kind, "one"))
      #expect(created.code == 201, "\(created)")
      #expect(created.json["apiVersion"]?.stringValue == "hiclaw.io/v1beta1")
      #expect(created.json["kind"]?.stringValue == kind.rawValue)
      #expect(created.json["metadata"]?["name"]?.stringValue == "one")
      #expect(created.json["metadata"]?["namespace"]?.stringValue == "default")
      #expect(created.json["metadata"]?["generation"]?.int == 1)
      #expect(created.json["metadata"]?["uid"]?.stringValue?.isEmpty == false)
      #expect(created.json["metadata"]?["creationTimestamp"]?.stringValue != nil)
      #expect(created.json["metadata"]?["finalizers"]?[0]?.stringValue == "hiclaw.io/cleanup")
      #expect(created.headers[.contentType] == "application/json")
      let version = try #require(created.json.resourceVersion)
      #expect(version == api.store.currentRevision)

      let fetched = try await api.get("\(base)/one")
      #expect(fetched.code == 200)
      #expect(fetched.json == created.json)
      #expect(try await api.get("\(base)/one/status").json == created.json || kind == .worker)

      _ = try await api.post(base, Doc.of(kind, "two"))
      let list = try await api.get(base)
      #expect(list.code == 200)
      #expect(list.json["kind"]?.stringValue == "\(kind.rawValue)List")
      #expect(list.json["items"]?.array.compactMap { $0["metadata"]?["name"]?.stringValue } == ["one", "two"])
      #expect(list.json.resourceVersion == api.store.currentRevision)

      let replaced = try await api.put("\(base)/one", Self.changed(kind, "one"))
      #expect(replaced.code == 200, "\(replaced)")
      #expect(replaced.json["metadata"]?["generation"]?.int == 2)
      #expect(replaced.json["metadata"]?["labels"]?["tier"]?.stringValue == "gold")
      #expect(replaced.json["metadata"]?["finalizers"]?[0]?.stringValue == "hiclaw.io/cleanup")

      // The finalizer keeps the object, marked for deletion.
      let deleted = try await api.delete("\(base)/one")
      #expect(deleted.code == 200, "\(deleted)")
      #expect(deleted.json["metadata"]?["deletionTimestamp"]?.stringValue != nil)
      #expect(try await api.get("\(base)/one").json["metadata"]?["deletionTimestamp"]?.stringValue != nil)
      // Once the finalizer is removed (the reconciler's job), it is gone.
      try await api.store.removeFinalizer(ObjectKey(kind, "one"), ObjectMeta.cleanupFinalizer)
      let gone = try await api.get("\(base)/one")
      #expect(gone.code == 404)
      #expect(gone.reason == "NotFound")
      #expect(gone.json["details"]?["name"]?.stringValue == "one")
    }
  }

  /// The document of `kind` with a label and a spec change.
  static func changed(_ kind: Kind, _ name: String) -> String {
    let metadata = #"{"name":"\#(name)","labels":{"tier":"gold"}}"#
    switch kind {
    case .worker:
      return #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":\#(metadata),"spec":{"model":"other-model"}}"#
    case .team:
      return #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Team","metadata":\#(metadata),"spec":{"leader":{"name":"\#(name)-lead"},"workers":[{"name":"\#(name)-w1"},{"name":"\#(name)-w2"}]}}"#
    case .human:
      return #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Human","metadata":\#(metadata),"spec":{"displayName":"Other","permissionLevel":3}}"#
    case .manager:
      return #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Manager","metadata":\#(metadata),"spec":{"model":"other-model"}}"#
    }
  }

  @Test("defaults are applied before storing")
  func defaults() async throws {
    try await withAPI { api in
      let created = try await api.post("/api/v1/workers", Doc.worker("alice"))
      let spec = try #require(created.json["spec"])
      #expect(spec["runtime"]?.stringValue == "openclaw")
      #expect(spec["state"]?.stringValue == "Running")
      #expect(spec["workerName"]?.stringValue == "alice")
      #expect(spec["containerManaged"]?.bool == true)
    }
  }

  @Test("status and host-owned metadata in bodies are ignored")
  func hostOwned() async throws {
    try await withAPI { api in
      let body = """
        {"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"alice","uid":"mine","generation":9,"finalizers":["x/y"]},
         "spec":{"model":"m"},"status":{"phase":"Running","message":"forged"}}
        """
      let created = try await api.post("/api/v1/workers", body)
      #expect(created.code == 201, "\(created)")
      #expect(created.json["status"] == nil)
      #expect(created.json["metadata"]?["uid"]?.stringValue != "mine")
      #expect(created.json["metadata"]?["generation"]?.int == 1)
      #expect(created.json["metadata"]?["finalizers"]?.array == [.string("hiclaw.io/cleanup")])
    }
  }

  @Test("PUT creates when absent (201), and a PUT that changes nothing writes nothing")
  func putCreates() async throws {
    try await withAPI { api in
      let created = try await api.put("/api/v1/workers/alice", Doc.worker("alice"))
      #expect(created.code == 201, "\(created)")
      let revision = api.store.currentRevision
      let same = try await api.put("/api/v1/workers/alice", Doc.worker("alice"))
      #expect(same.code == 200)
      #expect(same.json.resourceVersion == created.json.resourceVersion)
      #expect(api.store.currentRevision == revision)
      // What each PUT did, in the header `hiclaw apply` prints from.
      let outcome = HTTPFields.Element.Name("Hiclaw-Outcome")!
      #expect(created.headers[outcome] == "created")
      #expect(same.headers[outcome] == "unchanged")
      let relabelled = try await api.put("/api/v1/workers/alice", Doc.worker("alice", metadata: #","labels":{"a":"b"}"#))
      #expect(relabelled.headers[outcome] == "configured")
      #expect(relabelled.json["metadata"]?["generation"]?.int == 1, "labels are not spec")
      let respecced = try await api.put("/api/v1/workers/alice", Doc.worker("alice", model: "m2", metadata: #","labels":{"a":"b"}"#))
      #expect(respecced.headers[outcome] == "configured")
      #expect(respecced.json["metadata"]?["generation"]?.int == 2)
      let dryRevision = api.store.currentRevision
      let dry = try await api.put("/api/v1/workers/alice?dryRun=All", Doc.worker("alice", model: "m2", metadata: #","labels":{"a":"b"}"#))
      #expect(dry.headers[outcome] == "unchanged")
      let dryChange = try await api.put("/api/v1/workers/alice?dryRun=All", Doc.worker("alice", model: "m3"))
      #expect(dryChange.headers[outcome] == "configured")
      let dryNew = try await api.put("/api/v1/workers/zed?dryRun=All", Doc.worker("zed"))
      #expect(dryNew.headers[outcome] == "created")
      #expect(api.store.currentRevision == dryRevision)
    }
  }

  @Test("a stale resourceVersion is 409 Conflict with both versions; the current one succeeds")
  func conflict() async throws {
    try await withAPI { api in
      let created = try await api.post("/api/v1/workers", Doc.worker("alice"))
      let first = try #require(created.json.resourceVersion)
      let updated = try await api.put("/api/v1/workers/alice",
        Doc.worker("alice", model: "m2", metadata: #","resourceVersion":"\#(first)""#))
      #expect(updated.code == 200, "\(updated)")
      let second = try #require(updated.json.resourceVersion)
      #expect(second > first)

      let revision = api.store.currentRevision
      let stale = try await api.put("/api/v1/workers/alice",
        Doc.worker("alice", model: "m3", metadata: #","resourceVersion":"\#(first)""#))
      #expect(stale.code == 409, "\(stale)")
      #expect(stale.reason == "Conflict")
      #expect(stale.json["details"]?["currentResourceVersion"]?.stringValue == String(second))
      #expect(stale.json["details"]?["expectedResourceVersion"]?.stringValue == String(first))
      #expect(api.store.currentRevision == revision)

      // A precondition on an object that does not exist is a conflict too (never a create).
      let absent = try await api.put("/api/v1/workers/bob", Doc.worker("bob", metadata: #","resourceVersion":"3""#))
      #expect(absent.code == 409)
      #expect(try await api.get("/api/v1/workers/bob").code == 404)
    }
  }

  @Test("an existing name is 409 AlreadyExists")
  func alreadyExists() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/workers", Doc.worker("alice"))
      let again = try await api.post("/api/v1/workers", Doc.worker("alice"))
      #expect(again.code == 409)
      #expect(again.reason == "AlreadyExists")
    }
  }

  @Test("validation errors are 422 with every cause and its path")
  func validation() async throws {
    try await withAPI { api in
      let body = """
        {"apiVersion":"hiclaw.io/v1beta1","kind":"Team","metadata":{"name":"alpha"},
         "spec":{"leader":{"name":"Lead!"},"workers":[{"name":"w1"},{"name":"w1"},{"name":"Bad_Name"}]}}
        """
      let reply = try await api.post("/api/v1/teams", body)
      #expect(reply.code == 422, "\(reply)")
      #expect(reply.reason == "Invalid")
      let causes = reply.json["details"]?["causes"]?.array ?? []
      let fields = causes.compactMap { $0["field"]?.stringValue }
      #expect(fields.contains("spec.leader.name"))
      #expect(fields.contains("spec.workers[2].name"))
      #expect(fields.contains { $0.hasPrefix("spec.workers[1]") })
      #expect(causes.allSatisfy { $0["message"]?.stringValue?.isEmpty == false && $0["reason"]?.stringValue != nil })
      #expect(reply.json["details"]?["field"]?.stringValue == fields.first)
      #expect(reply.json["message"]?.stringValue?.hasPrefix(fields[0]) == true)
      #expect(try await api.get("/api/v1/teams/alpha").code == 404)

      let missingModel = try await api.post("/api/v1/workers",
        #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"a"},"spec":{}}"#)
      #expect(missingModel.code == 422)
      #expect(missingModel.json["details"]?["field"]?.stringValue == "spec.model")
    }
  }

  @Test("malformed requests are 400", arguments: [
    ("not json", "/api/v1/workers", "{", ""),
    ("not an object", "/api/v1/workers", "[1,2]", ""),
    ("wrong kind", "/api/v1/workers", Doc.team("alpha"), "kind"),
    ("unknown field", "/api/v1/workers", Doc.worker("alice", extra: #","modle":"x""#), "spec.modle"),
    ("wrong type", "/api/v1/workers", Doc.worker("alice", extra: #","containerManaged":"yes""#), "spec.containerManaged"),
    ("other namespace", "/api/v1/workers", Doc.worker("alice", metadata: #","namespace":"team-a""#), "metadata.namespace"),
    ("empty body", "/api/v1/workers", "", ""),
  ])
  func badRequests(label: String, path: String, body: String, field: String) async throws {
    try await withAPI { api in
      let revision = api.store.currentRevision
      let reply = try await api.post(path, body)
      #expect(reply.code == 400, "\(label): \(reply)")
      #expect(reply.reason == "BadRequest", "\(label)")
      if !field.isEmpty { #expect(reply.json["details"]?["field"]?.stringValue == field, "\(label): \(reply)") }
      #expect(api.store.currentRevision == revision)
    }
  }

  @Test("PUT with a name other than the path's is 400")
  func nameMismatch() async throws {
    try await withAPI { api in
      let reply = try await api.put("/api/v1/workers/alice", Doc.worker("bob"))
      #expect(reply.code == 400)
      #expect(reply.json["details"]?["field"]?.stringValue == "metadata.name")
      #expect(try await api.get("/api/v1/workers/bob").code == 404)
      #expect(try await api.get("/api/v1/workers/alice").code == 404)
    }
  }

  @Test("dryRun=All decodes, defaults and validates, and writes nothing")
  func dryRun() async throws {
    try await withAPI { api in
      let start = api.store.currentRevision
      let created = try await api.post("/api/v1/workers?dryRun=All", Doc.worker("alice"))
      #expect(created.code == 201, "\(created)")
      #expect(created.json["spec"]?["runtime"]?.stringValue == "openclaw")
      #expect(created.json["metadata"]?["resourceVersion"] == nil)
      #expect(api.store.currentRevision == start)
      #expect(try await api.get("/api/v1/workers/alice").code == 404)
      #expect(try await api.put("/api/v1/workers/alice?dryRun=All", Doc.worker("alice")).code == 201)
      #expect(api.store.currentRevision == start)

      _ = try await api.post("/api/v1/workers", Doc.worker("alice"))
      let revision = api.store.currentRevision
      let replaced = try await api.put("/api/v1/workers/alice?dryRun=All", Doc.worker("alice", model: "m9"))
      #expect(replaced.code == 200)
      #expect(replaced.json["spec"]?["model"]?.stringValue == "m9")
      #expect(replaced.json["metadata"]?["generation"]?.int == 2)
      let deleted = try await api.delete("/api/v1/workers/alice?dryRun=All")
      #expect(deleted.code == 200)
      #expect(deleted.json["metadata"]?["deletionTimestamp"] != nil)
      #expect(try await api.post("/api/v1/workers?dryRun=All", Doc.worker("alice")).code == 409)
      #expect(try await api.post("/api/v1/workers?dryRun=All", Doc.worker("Bad")).code == 422)
      #expect(try await api.post("/api/v1/workers?dryRun=yes", Doc.worker("x")).code == 400)
      #expect(api.store.currentRevision == revision)
      let stored = try await api.get("/api/v1/workers/alice")
      #expect(stored.json["spec"]?["model"]?.stringValue == "qwen3.6-plus")
      #expect(stored.json["metadata"]?["deletionTimestamp"] == nil)
    }
  }

  @Test("list with labelSelector; a bad selector is 400")
  func labelSelector() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/workers", Doc.worker("a", metadata: #","labels":{"tier":"gold"}"#))
      _ = try await api.post("/api/v1/workers", Doc.worker("b", metadata: #","labels":{"tier":"silver"}"#))
      _ = try await api.post("/api/v1/workers", Doc.worker("c"))
      func names(_ selector: String) async throws -> [String] {
        let reply = try await api.get("/api/v1/workers?labelSelector=\(selector)")
        return reply.json["items"]?.array.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
      }
      #expect(try await names("tier=gold") == ["a"])
      #expect(try await names("tier!=gold") == ["b", "c"])
      #expect(try await names("tier") == ["a", "b"])
      #expect(try await names("!tier") == ["c"])
      #expect(try await names("tier%3Dgold,tier") == ["a"])
      let bad = try await api.get("/api/v1/workers?labelSelector=%3Dx")
      #expect(bad.code == 400)
      #expect(bad.json["details"]?["field"]?.stringValue == "labelSelector")
    }
  }

  @Test("events: newest last, 200 also for objects that are gone")
  func events() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/workers", Doc.worker("alice"))
      let key = ObjectKey(.worker, "alice")
      try await api.store.recordEvent(for: key, type: .normal, reason: "Created", message: "container created")
      try await api.store.recordEvent(for: key, type: .warning, reason: "BackendFailed", message: "boom")
      try await api.store.recordEvent(for: key, type: .warning, reason: "BackendFailed", message: "boom")
      let reply = try await api.get("/api/v1/workers/alice/events")
      #expect(reply.code == 200)
      let items = reply.json["items"]?.array ?? []
      #expect(items.count == 2)
      #expect(items.last?["reason"]?.stringValue == "BackendFailed")
      #expect(items.last?["type"]?.stringValue == "Warning")
      #expect(items.last?["count"]?.int == 2)
      #expect(items.last?["firstTimestamp"]?.stringValue?.hasSuffix("Z") == true)
      #expect(try await api.get("/api/v1/workers/nobody/events").json["items"]?.array == [])
    }
  }

  @Test("PUT on /status is 405 with Allow; unknown paths 404; wrong methods 405")
  func methods() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/teams", Doc.team("alpha"))
      for path in ["/api/v1/teams/alpha/status", "/api/v1/workers/alice/status"] {
        let reply = try await api.put(path, "{}")
        #expect(reply.code == 405, "\(path)")
        #expect(reply.reason == "MethodNotAllowed")
        #expect(reply.headers[.allow] == "GET")
      }
      #expect(try await api.call(.patch, "/api/v1/teams/alpha").code == 405)
      #expect(try await api.delete("/api/v1/teams").code == 405)
      let unknown = try await api.get("/api/v1/widgets")
      #expect(unknown.code == 404)
      #expect(unknown.reason == "NotFound")
      #expect(try await api.get("/nothing", token: nil).code == 404)
    }
  }

  @Test("a body over the limit is 413 and nothing is written")
  func tooLarge() async throws {
    try await withAPI(configure: { $0.maximumBodyBytes = 1024 }) { api in
      let revision = api.store.currentRevision
      let big = Doc.worker("alice", extra: #","soul":"\#(String(repeating: "x", count: 2000))""#)
      let reply = try await api.post("/api/v1/workers", big)
      #expect(reply.code == 413)
      #expect(reply.reason == "TooLarge")
      #expect(api.store.currentRevision == revision)
      #expect(try await api.post("/api/v1/workers", Doc.worker("alice")).code == 201)
    }
  }
}
