// NodeEncoder (Model/JSON/NodeEncoder.swift) against what it replaced: JSONEncoder's text parsed
// back into a JSONNode. The trees must be equal, so spec hashes (which containers carry as labels,
// across upgrades) and the store's documents do not change.
import Foundation
import Model
import Testing

@Suite("NodeEncoder matches JSONEncoder")
struct NodeEncoderTests {
  /// The reference: JSONEncoder, then the Model's parser.
  static func reference(_ value: some Encodable) throws -> JSONNode {
    try JSONNode.parse(JSONEncoder().encode(value))
  }

  static func expectSame(_ value: some Encodable, _ comment: Comment? = nil) throws {
    let reference = try reference(value)
    #expect(try NodeEncoder.encode(value) == reference, comment)
    #expect(CanonicalJSON.encode(value) == CanonicalJSON.encode(reference), comment)
    #expect(try NodeEncoder.jsonBytes(value) == Array(JSONEncoder.sorted(value).utf8), comment)
  }

  /// Both directions on every fixture's resource, spec and status: NodeEncoder against
  /// JSONEncoder here, NodeDecoder against JSONDecoder (NodeDecoderTests.expectSame).
  @Test("every fixture: resource, spec, status, encoded and decoded", arguments: Fixtures.all)
  func fixtures(resource: AnyResource) throws {
    func both<T: Codable & Equatable>(_ value: T) throws {
      try Self.expectSame(value)
      try NodeDecoderTests.expectSame(value)
    }
    try both(resource)
    switch resource {
    case .worker(let worker):
      try both(worker)
      try both(worker.spec)
      try both(worker.status)
    case .team(let team):
      try both(team)
      try both(team.spec)
      try both(team.status)
      #expect(SpecHash.members(of: team.spec).count == (team.spec.workers?.count ?? 0) + 1)
    case .human(let human):
      try both(human.spec)
      try both(human.status)
    case .manager(let manager):
      try both(manager.spec)
      try both(manager.status)
    }
  }

  @Test("random Workers and Teams: same tree, same spec hash, decoded back alike", arguments: 1...40)
  func randomResources(seed: UInt64) throws {
    let random = SeededRandom(seed: seed)
    var worker = Fixtures.fullWorker
    worker.spec.model = random.text()
    worker.spec.identity = random.maybe { random.text() }
    worker.spec.skills = random.maybe { (0..<random.below(4)).map { _ in random.text() } }
    worker.spec.env = random.maybe { random.map() }
    worker.spec.labels = random.maybe { random.map() }
    worker.spec.expose = random.maybe { [ExposePort(port: random.below(65_536))] }
    worker.spec.containerManaged = random.maybe { random.below(2) == 0 }
    worker.spec.channelPolicy = random.maybe { ChannelPolicy(dmAllowExtra: [random.text()]) }
    worker.status.message = random.maybe { random.text() }
    worker.metadata.annotations = random.map()
    worker.status.observedGeneration = random.maybe { Int64(random.below(1 << 30)) - (1 << 29) }
    worker.metadata.labels = random.map()
    try Self.expectSame(worker, "seed \(seed)")
    try Self.expectSame(worker.spec, "seed \(seed)")
    try Self.expectSame(worker.status, "seed \(seed)")
    // And back: NodeDecoder reads what Foundation wrote as JSONDecoder does.
    try NodeDecoderTests.expectSame(worker, "seed \(seed)")

    var team = Fixtures.fullTeam
    team.spec.description = random.maybe { random.text() }
    team.spec.peerMentions = random.maybe { random.below(2) == 0 }
    team.spec.workers = random.maybe {
      (0..<random.below(4)).map { index in
        var member = TeamWorkerSpec(name: "w\(index)")
        member.model = random.maybe { random.text() }
        member.env = random.maybe { random.map() }
        return member
      }
    }
    try Self.expectSame(team, "seed \(seed)")
    for member in team.spec.workers ?? [] {
      var copy = member
      copy.state = nil
      let input = ["member": try Self.reference(copy)]
      // The hash of a member is taken over NodeEncoder's tree; recompute it the old way.
      var withPolicy = input
      if let policy = team.spec.channelPolicy { withPolicy["teamChannelPolicy"] = try Self.reference(policy) }
      withPolicy["peerMentions"] = .bool(team.spec.peerMentions ?? true)
      let digits = String(SpecHash.fnv1a64(CanonicalJSON.encode(JSONNode.object(withPolicy))), radix: 16)
      let old = String(repeating: "0", count: 16 - digits.count) + digits
      #expect(SpecHash.worker(member, of: team.spec) == old, "seed \(seed), member \(member.name)")
    }
  }

  @Test("non-finite numbers and Foundation's special types")
  func specialValues() throws {
    #expect(throws: EncodingError.self) { try NodeEncoder.encode(["x": Double.nan]) }
    #expect(throws: EncodingError.self) { try NodeEncoder.encode([Double.infinity]) }
    try Self.expectSame(["data": Data([0, 1, 2, 250])])
    try Self.expectSame(["url": URL(string: "https://example.org/a?b=c")!])
    try Self.expectSame(["big": UInt64.max, "small": UInt64(3)])
    try Self.expectSame([["a": [1, 2]], ["b": []]])
    try Self.expectSame(Nested(inner: .init(values: [nil, 1, nil]), name: nil))
  }

  struct Nested: Encodable {
    struct Inner: Encodable { var values: [Int?] }
    var inner: Inner
    var name: String?
  }

  @Test("hand-written encode(to:): nested and super encoders, single values, empty containers")
  func handWrittenContainers() throws {
    try Self.expectSame(HandWritten(depth: 2))
    try Self.expectSame([HandWritten(depth: 0), HandWritten(depth: 1)])
    try Self.expectSame(Wrapper(inner: Nested(inner: .init(values: []), name: "n")))
    try Self.expectSame(Wrapper(inner: Nested(inner: .init(values: [nil]), name: nil)))
  }

  @Test("byte forms: keys in UTF-8 byte order, a key encoded twice keeps its last value")
  func byteForms() throws {
    // "Z" 5A < "z" 7A < "é" C3 A9 < "ﬀ" EF AC 80; Swift's `<` on String would agree here, but
    // the order must be the bytes' whatever the characters.
    let text = String(decoding: try NodeEncoder.jsonBytes(["ﬀ": 1, "é": 2, "z": 3, "Z": 4]), as: UTF8.self)
    #expect(text == #"{"Z":4,"z":3,"é":2,"ﬀ":1}"#)
    // Here `<` and the bytes disagree: a decomposed "é" (65 CC 81) sorts before "f" (66) by its
    // bytes, after it by Swift's comparison of the composed character.
    let decomposed = "e\u{301}"
    #expect(decomposed > "f")
    let mixed = try NodeEncoder.jsonBytes([decomposed: 1, "f": 2])
    #expect(mixed == Array("{\"\(decomposed)\":1,\"f\":2}".utf8))
    #expect(CanonicalJSON.encode([decomposed: 1, "f": 2]) == mixed)
    #expect(String(decoding: try NodeEncoder.jsonBytes(Twice()), as: UTF8.self) == #"{"a":[],"k":2,"n":null}"#)
    #expect(try NodeEncoder.encode(Twice()) == .object(["k": .int(2), "a": .array([]), "n": .null]))
    #expect(String(decoding: CanonicalJSON.encode(Twice()), as: UTF8.self) == #"{"k":2}"#)
    // Pruned to nothing: `{}`; an element that prunes to nothing stays as null.
    #expect(String(decoding: CanonicalJSON.encode(["a": [String: Int]()]), as: UTF8.self) == "{}")
    #expect(String(decoding: CanonicalJSON.encode(["a": [[Int]](arrayLiteral: [], [1])]), as: UTF8.self) == #"{"a":[null,[1]]}"#)
  }

  @Test("a non-finite number is reported at its coding path")
  func errorPaths() throws {
    func path(_ value: some Encodable) -> [String] {
      do {
        _ = try NodeEncoder.jsonBytes(value)
        return ["no error"]
      } catch EncodingError.invalidValue(_, let context) {
        return context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      } catch {
        return ["\(error)"]
      }
    }
    #expect(path(["x": Double.nan]) == ["x"])
    #expect(path([["a": [1.0, .infinity]]]) == ["[0]", "a", "[1]"])
    #expect(path(Wrapper(inner: ["b": -Double.infinity])) == ["b"])
  }

  /// Uses every kind of container a hand-written `encode(to:)` can ask for.
  struct HandWritten: Encodable {
    var depth: Int

    enum Keys: String, CodingKey { case name, list, nested, empty, emptyList, parent, none }

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: Keys.self)
      try container.encode("level \(depth)", forKey: .name)
      try container.encodeNil(forKey: .none)
      var list = container.nestedUnkeyedContainer(forKey: .list)
      try list.encode(depth)
      try list.encodeNil()
      var inList = list.nestedContainer(keyedBy: Keys.self)
      try inList.encode(true, forKey: .name)
      if depth > 0 { try list.encode(HandWritten(depth: depth - 1)) }
      var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .nested)
      try nested.encode([UInt64.max], forKey: .list)
      _ = nested.nestedContainer(keyedBy: Keys.self, forKey: .empty)
      _ = container.nestedUnkeyedContainer(forKey: .emptyList)
      try "from super".encode(to: container.superEncoder(forKey: .parent))
      try [1, 2].encode(to: container.superEncoder())
    }
  }

  /// Encodes its value through a single-value container.
  struct Wrapper<Inner: Encodable>: Encodable {
    var inner: Inner
    func encode(to encoder: any Encoder) throws {
      var container = encoder.singleValueContainer()
      try container.encode(inner)
    }
  }

  /// Encodes `k` twice (the last value counts) and members that the canonical form drops.
  struct Twice: Encodable {
    enum Keys: String, CodingKey { case k, a, n }
    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: Keys.self)
      try container.encode(1, forKey: .k)
      try container.encode([Int](), forKey: .a)
      try container.encodeNil(forKey: .n)
      try container.encode(2, forKey: .k)
    }
  }
}

extension JSONEncoder {
  /// JSONEncoder's compact text with sorted keys and unescaped slashes, re-serialised by the
  /// Model's writer (number and escape spelling aside, this is what NodeEncoder.jsonBytes writes).
  static func sorted(_ value: some Encodable) throws -> String {
    let node = try JSONNode.parse(JSONEncoder().encode(value))
    return String(decoding: try NodeEncoder.jsonBytes(node), as: UTF8.self)
  }
}

/// A small seeded generator (xorshift64*), so a failing seed can be replayed. A class, so the
/// closures of `maybe` can draw from it too.
final class SeededRandom {
  private var state: UInt64

  init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

  func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 0x2545_F491_4F6C_DD1D
  }

  func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

  func maybe<T>(_ make: () -> T) -> T? { below(3) == 0 ? nil : make() }

  /// Text with the characters JSON writers treat specially: quotes, backslashes, slashes,
  /// control characters, non-ASCII.
  func text() -> String {
    let pieces = ["a", "Z", "0", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}", "é", "e\u{301}", "😀", " ", "{", "]", ":"]
    return (0..<below(12)).map { _ in pieces[below(pieces.count)] }.joined()
  }

  func map() -> [String: String] {
    var result: [String: String] = [:]
    for _ in 0..<below(4) { result[text()] = text() }
    return result
  }
}
