import Foundation
import Model
import ResourceStore
import Store
import Testing

@testable import APIServer

/// The API writes object bodies straight from the stored canonical JSON
/// (`StoredObject.resourceJSON()`) instead of decoding into the typed resource and encoding it
/// again. These tests pin that shortcut to the typed path, byte for byte.
@Suite("Response bodies")
struct ResponseBodyTests {
  /// What the API sent before the shortcut: the typed resource through `JSONEncoder`.
  static func typedBytes(_ object: StoredObject) throws -> [UInt8] {
    Array(try JSONResponse.encoder().encode(try object.resource()))
  }

  @Test("resourceJSON() is byte-identical to the typed encoding, for every kind and metadata shape",
    arguments: Kind.allCases)
  func identicalToTypedEncoding(kind: Kind) async throws {
    try await withAPI { api in
      let base = "/api/v1/\(kind.plural)"
      // Escapes and non-ASCII in what users may write: labels, annotations.
      let metadata = #","labels":{"b":"2","a":"1","app.kubernetes.io/name":"x"},"annotations":{"note":"a \"quoted\"\nline/with\tescapes é ✓ \u0001","z":""}"#
      let body: String = switch kind {
      case .worker:
        Doc.worker("one", extra: #","env":{"PATH_X":"/a/b"},"skills":["s1"],"soul":"Line one\nline \"two\" ✓""#, metadata: metadata)
      case .team: Doc.team("one", leader: "lead", workers: ["w1", "w2"], metadata: metadata)
      case .human: Doc.human("one").replacingOccurrences(of: #""name":"one"}"#, with: #""name":"one"\#(metadata)}"#)
      case .manager: Doc.manager("one").replacingOccurrences(of: #""name":"one"}"#, with: #""name":"one"\#(metadata)}"#)
      }
      let created = try await api.post(base, body)
      #expect(created.code == 201, "\(created)")
      let key = ObjectKey(kind, "one")
      var object = try await api.store.get(key)
      #expect(object.labels.count == 3)
      #expect(try object.resourceJSON() == Self.typedBytes(object))

      // A status with conditions, as the host writes it.
      var resource = try object.resource()
      let condition = Condition(type: "Ready", status: .true, reason: "Up", message: "all \"good\"",
        lastTransitionTime: Timestamp(Date(timeIntervalSince1970: 1_800_000_000.123)), observedGeneration: 1)
      switch resource {
      case .worker(var worker):
        worker.status.phase = .running
        worker.status.setCondition(condition)
        worker.status.containerState = "running"
        resource = .worker(worker)
      case .team(var team):
        team.status.setCondition(condition)
        team.status.message = "ok"
        resource = .team(team)
      case .human(var human):
        human.status.setCondition(condition)
        resource = .human(human)
      case .manager(var manager):
        manager.status.setCondition(condition)
        resource = .manager(manager)
      }
      object = try await api.store.updateStatus(StoredObject(resource: resource))
      #expect(object.status != .emptyObject)
      #expect(try object.resourceJSON() == Self.typedBytes(object))

      // Being deleted: deletionTimestamp and finalizers.
      _ = try await api.delete("\(base)/one")
      object = try await api.store.get(key)
      #expect(object.deletionTimestamp != nil)
      #expect(!object.finalizers.isEmpty)
      #expect(try object.resourceJSON() == Self.typedBytes(object))
    }
  }

  @Test("GET, list and watch bodies are the typed encoding")
  func endpointsUseTheSameBytes() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/workers", Doc.worker("b"))
      _ = try await api.post("/api/v1/workers", Doc.worker("a", metadata: #","labels":{"tier":"x"}"#))
      let a = try await api.store.get(ObjectKey(.worker, "a"))
      let b = try await api.store.get(ObjectKey(.worker, "b"))
      let got = try await api.get("/api/v1/workers/a")
      #expect(Array(got.text.utf8) == (try Self.typedBytes(a)))

      let list = try await api.get("/api/v1/workers")
      let items = try Self.typedBytes(a) + Array(",".utf8) + Self.typedBytes(b)
      let revision = api.store.currentRevision
      let expected = #"{"apiVersion":"hiclaw.io/v1beta1","items":["# + String(decoding: items, as: UTF8.self)
        + #"],"kind":"WorkerList","metadata":{"resourceVersion":"\#(revision)"}}"#
      #expect(list.text == expected)

      let selected = try await api.get("/api/v1/workers?labelSelector=tier%3Dx")
      #expect(selected.json["items"]?.array.count == 1)
      #expect(selected.json["items"]?[0] == got.json)

      let empty = try await api.get("/api/v1/teams")
      #expect(empty.text == #"{"apiVersion":"hiclaw.io/v1beta1","items":[],"kind":"TeamList","metadata":{"resourceVersion":"\#(revision)"}}"#)
    }
  }
}
