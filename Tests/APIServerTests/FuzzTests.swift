import Foundation
import Hummingbird
import Model
import Store
import Testing

@testable import APIServer

/// SplitMix64: a small seeded generator, so a failing case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Mutations that always make a document invalid (so the only right answer is a 4xx): a
/// proper prefix (not JSON), random bytes, a value replaced by one of another JSON type, an
/// unknown field in a struct-typed object, a repeated key.
enum Mutation: CaseIterable {
  case truncate, garbage, retype, unknownField, duplicateKey

  func apply(to text: String, structObjects: [[String]], using rng: inout SeededGenerator) -> [UInt8] {
    let bytes = Array(text.utf8)
    switch self {
    case .truncate:
      return Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
    case .garbage:
      return (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    case .retype:
      guard let root = try? JSONNode.parse(Data(bytes)) else { return [] }
      let paths = Self.paths(in: root)
      let path = paths[Int.random(in: 0..<paths.count, using: &rng)]
      return CanonicalJSON.encode(Self.replace(root, at: path[...]) { value in
        switch value {
        case .string: .int(7)
        case .int, .double: .string("7")
        case .bool: .string("true")
        case .object: .array([.int(1)])
        case .array: .object(["x": .int(1)])
        case .null: .array([.int(1)])
        }
      })
    case .unknownField:
      guard let root = try? JSONNode.parse(Data(bytes)) else { return [] }
      let path = structObjects[Int.random(in: 0..<structObjects.count, using: &rng)]
      let key = "fuzz\(Int.random(in: 0...999, using: &rng))"
      return CanonicalJSON.encode(Self.replace(root, at: path.map(PathStep.key)[...]) { value in
        guard case .object(var members) = value else { return value }
        members[key] = .string("x")
        return .object(members)
      })
    case .duplicateKey:
      // `{"apiVersion":…` → `{"apiVersion":"x","apiVersion":…` (or the first key of any object body).
      guard let brace = bytes.firstIndex(of: UInt8(ascii: "{")),
        let root = try? JSONNode.parse(Data(bytes)), let first = root.objectValue?.keys.sorted().first
      else { return bytes + Array("}".utf8) }
      return Array(bytes[...brace]) + Array("\"\(first)\":\"dup\",".utf8) + Array(bytes[(brace + 1)...])
    }
  }

  enum PathStep { case key(String), index(Int) }

  /// Every value's path below the root.
  static func paths(in node: JSONNode, prefix: [PathStep] = []) -> [[PathStep]] {
    switch node {
    case .object(let members):
      return members.keys.sorted().flatMap { key in
        [prefix + [.key(key)]] + paths(in: members[key]!, prefix: prefix + [.key(key)])
      }
    case .array(let items):
      return items.indices.flatMap { index in [prefix + [.index(index)]] + paths(in: items[index], prefix: prefix + [.index(index)]) }
    default:
      return []
    }
  }

  static func replace(_ node: JSONNode, at path: ArraySlice<PathStep>, with change: (JSONNode) -> JSONNode) -> JSONNode {
    guard let step = path.first else { return change(node) }
    switch (step, node) {
    case (.key(let key), .object(var members)):
      members[key] = replace(members[key] ?? .null, at: path.dropFirst(), with: change)
      return .object(members)
    case (.index(let index), .array(var items)) where items.indices.contains(index):
      items[index] = replace(items[index], at: path.dropFirst(), with: change)
      return .array(items)
    default:
      return node
    }
  }
}

@Suite("Fuzz", .timeLimit(.minutes(2)))
struct FuzzTests {
  @Test("malformed and mutated bodies on every write endpoint: always 4xx, nothing written", arguments: [1, 2, 3] as [UInt64])
  func mutatedBodies(seed: UInt64) async throws {
    try await withAPI { api in
      // Existing objects, so PUT takes the replace path.
      for kind in Kind.allCases { #expect(try await api.post("/api/v1/\(kind.plural)", Doc.of(kind, "fz")).code == 201) }
      let revision = api.store.currentRevision
      let tokenCount = try await api.store.tokens().count
      var rng = SeededGenerator(state: seed)

      // (method, path, a valid body, the struct-typed objects an unknown field can go into)
      var targets: [(HTTPRequest.Method, String, String, [[String]])] = []
      for kind in Kind.allCases {
        let structs: [[String]] = kind == .team ? [[], ["metadata"], ["spec"], ["spec", "leader"]] : [[], ["metadata"], ["spec"]]
        targets.append((.post, "/api/v1/\(kind.plural)", Doc.of(kind, "fresh"), structs))
        targets.append((.put, "/api/v1/\(kind.plural)/fz", Self.changed(kind), structs))
        targets.append((.put, "/api/v1/\(kind.plural)/absent", Doc.of(kind, "absent"), structs))
      }
      targets.append((.post, "/api/v1/tokens", #"{"role":"worker","subject":"alice"}"#, [[]]))

      for round in 0..<40 {
        for (method, path, valid, structs) in targets {
          let mutation = Mutation.allCases[Int.random(in: 0..<Mutation.allCases.count, using: &rng)]
          let body = mutation.apply(to: valid, structObjects: structs, using: &rng)
          let response = try await api.client.execute(uri: path, method: method,
            headers: [.authorization: "Bearer \(api.admin)"], body: ByteBuffer(bytes: body))
          let text = String(buffer: response.body)
          #expect((400..<500).contains(response.status.code),
            "seed \(seed) round \(round) \(mutation) \(method) \(path): \(response.status.code) \(text) for \(String(decoding: body, as: UTF8.self))")
          #expect((try? JSONNode.parse(Data(text.utf8)))?["reason"] != nil, "\(path): error body \(text)")
        }
        // Lifecycle endpoints with garbage bodies on names that do not exist.
        for verb in ["wake", "sleep", "ensure-ready", "ready"] {
          let garbage = Mutation.garbage.apply(to: "{}", structObjects: [], using: &rng)
          let response = try await api.client.execute(uri: "/api/v1/workers/nobody-\(round)/\(verb)", method: .post,
            headers: [.authorization: "Bearer \(api.admin)"], body: ByteBuffer(bytes: garbage))
          #expect(response.status == .notFound)
        }
      }
      #expect(api.store.currentRevision == revision)
      #expect(try await api.store.tokens().count == tokenCount)
      // The valid bodies still work, so the mutations (not the bodies) were what failed.
      #expect(try await api.put("/api/v1/workers/fz", Self.changed(.worker)).code == 200)
    }
  }

  /// A valid replacement of `fz` that changes its spec.
  static func changed(_ kind: Kind) -> String {
    switch kind {
    case .worker: Doc.worker("fz", model: "changed")
    case .team: Doc.team("fz", leader: "fz-lead", workers: ["fz-w1", "fz-w2"])
    case .human: Doc.human("fz").replacingOccurrences(of: "Dana", with: "Changed")
    case .manager: Doc.manager("fz").replacingOccurrences(of: "qwen3.6-plus", with: "changed")
    }
  }
}
