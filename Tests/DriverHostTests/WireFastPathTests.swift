// The hand-written JSON of the hot worker-backend messages and driver events (DriverProtocols/WireFastPath.swift)
// against Foundation's Codable coders: same values both ways, the Codable path (and its error
// messages) for everything the fast path does not fully understand.
@testable import DriverProtocols
import DriverHost
import Foundation
import Testing

@Suite("Wire JSON fast path")
struct WireFastPathTests {
  typealias V1 = WorkerBackendV1

  /// What Foundation makes of `data` (the reference).
  static func codable<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
    try JSONDecoder().decode(type, from: data)
  }

  static func foundationBytes<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
  }

  /// Encoded by the fast path, read back by Foundation; encoded by Foundation, read by the fast
  /// path; both give the value itself.
  static func roundTrips<T: Codable & Equatable & WireFastEncodable & WireFastDecodable>(_ value: T) throws {
    let fast = try WireJSON.encode(value)
    #expect(try codable(T.self, fast) == value, "\(String(decoding: fast, as: UTF8.self))")
    let reference = try foundationBytes(value)
    let parsed = reference.withUnsafeBytes { WireValue.parse($0).flatMap { T(wire: $0) } }
    #expect(parsed == value, "the fast decoder refused or misread \(String(decoding: reference, as: UTF8.self))")
    #expect(try WireJSON.decode(T.self, from: fast) == value)
    #expect(try WireJSON.encode(value) == fast, "deterministic")
  }

  @Test("random messages survive every direction", arguments: 1...60)
  func randomMessages(seed: UInt64) throws {
    let random = Xorshift(seed: seed)
    let create = V1.CreateRequest(
      name: random.text(), image: random.text(),
      command: random.maybe { (0..<random.below(4)).map { _ in random.text() } },
      env: random.maybe { random.map() }, labels: random.maybe { random.map() },
      network: random.maybe { random.text() }, start: random.maybe { random.below(2) == 0 })
    try Self.roundTrips(create)
    let status = V1.InstanceStatus(
      name: random.text(), id: random.text(),
      state: V1.InstanceState.allCases[random.below(V1.InstanceState.allCases.count)],
      exitCode: random.maybe { random.below(512) - 256 }, labels: random.map(), image: random.maybe { random.text() },
      endpoints: random.maybe { (0..<random.below(3)).map { _ in V1.Endpoint(name: random.maybe { random.text() }, url: random.text()) } },
      message: random.maybe { random.text() })
    try Self.roundTrips(status)
    try Self.roundTrips(V1.NameRequest(name: random.text()))
    try Self.roundTrips(V1.StopRequest(name: random.text(), timeoutSeconds: random.maybe { random.below(100) }))
    try Self.roundTrips(HostEvent(type: random.below(2) == 0 ? .normal : .warning, reason: random.text(), message: random.text()))
  }

  /// `inspect` and create-if-absent read `InstanceStatus?`: that type takes the fast path too
  /// (it used to fall through to Foundation, a fifth of the reconcile's JSON time), with `null`
  /// as nil, as Codable's `Optional` reads it.
  @Test func anOptionalAnswerTakesTheFastPath() throws {
    let status = V1.InstanceStatus(name: "a", id: "1", state: .running, labels: ["k": "v"])
    let bytes = try WireJSON.encode(status)
    let parsed = bytes.withUnsafeBytes { WireValue.parse($0).flatMap { V1.InstanceStatus?(wire: $0) } }
    #expect(parsed == .some(.some(status)))
    let null = Data("null".utf8).withUnsafeBytes { WireValue.parse($0).flatMap { V1.InstanceStatus?(wire: $0) } }
    #expect(null == .some(.none))
    #expect(try WireJSON.decode(V1.InstanceStatus?.self, from: bytes) == status)
    #expect(try WireJSON.decode(V1.InstanceStatus?.self, from: Data("null".utf8)) == nil)
    #expect(try Self.codable(V1.InstanceStatus?.self, Data("null".utf8)) == nil)
    // Not understood by the fast path: Codable's error, as before.
    #expect(throws: DecodingError.self) { try WireJSON.decode(V1.InstanceStatus?.self, from: Data(#"{"id":"1"}"#.utf8)) }
  }

  @Test func keysAreSortedAndDictionariesDoNotDependOnInsertionOrder() throws {
    let one = V1.CreateRequest(name: "n", image: "i", env: ["b": "2", "a": "1", "B": "3"], labels: [:])
    var reordered: [String: String] = [:]
    for key in ["B", "a", "b"] { reordered[key] = one.env![key] }
    let two = V1.CreateRequest(name: "n", image: "i", env: reordered, labels: [:])
    let text = String(decoding: try WireJSON.encode(one), as: UTF8.self)
    #expect(text == #"{"env":{"B":"3","a":"1","b":"2"},"image":"i","labels":{},"name":"n"}"#)
    #expect(try WireJSON.encode(two) == WireJSON.encode(one))
    let escaped = String(decoding: try WireJSON.encode(V1.NameRequest(name: "a/b\"c\\d\n\u{1}é")), as: UTF8.self)
    #expect(escaped == #"{"name":"a/b\"c\\d\n\u0001é"}"#)
  }

  /// Documents the fast decoder leaves to Codable still decode the same way.
  @Test func whatTheFastPathDoesNotModelTakesTheCodablePath() throws {
    let documents: [String] = [
      #"{"name":"a","id":"1","state":"running","exit_code":3.0,"labels":{}}"#,  // 3.0 as an Int
      #"{"name":"a","id":"1","state":"sleeping","labels":{"k":"v"},"extra":[1,{"x":null}]}"#,  // unknown state, unknown field
      #"{"name":"a","id":"1","state":"running"}"#,  // no labels: empty
    ]
    for document in documents {
      let data = Data(document.utf8)
      #expect(try WireJSON.decode(V1.InstanceStatus.self, from: data) == Self.codable(V1.InstanceStatus.self, data), "\(document)")
    }
    let withPorts = V1.CreateRequest(name: "a", image: "i", ports: [V1.Port(name: "http", container: 80)],
      config: ["x": .number(1)])
    #expect(try WireJSON.decode(V1.CreateRequest.self, from: WireJSON.encode(withPorts)) == withPorts)
    #expect(try WireJSON.encode(withPorts) == Self.foundationBytes(withPorts))
  }

  /// An event type the fast path does not know is Codable's to refuse.
  @Test func anUnknownEventTypeTakesTheCodablePath() {
    let document = Data(#"{"type":"Loud","reason":"r","message":"m"}"#.utf8)
    #expect(document.withUnsafeBytes { WireValue.parse($0).flatMap { HostEvent(wire: $0) } } == nil)
    #expect(throws: (any Error).self) { try WireJSON.decode(HostEvent.self, from: document) }
  }

  /// Bad input gets the errors it always got (they come from the Codable path).
  @Test func badInputGetsTheCodableErrors() {
    let cases: [(String, String)] = [
      (#"{"name":1}"#, "field 'name': expected string"),
      (#"{}"#, "missing required field 'name'"),
      (#"{"name":"a",}"#, "malformed JSON"),
      (#"{"name":"a","name":"b"}"#, ""),
      (#"{"name":"\ud800"}"#, ""),
    ]
    for (document, expected) in cases {
      let fast = Data(document.utf8).withUnsafeBytes { WireValue.parse($0).flatMap { V1.NameRequest(wire: $0) } }
      if document.contains(#""name":"a","name""#) || document.contains("ud800") {
        #expect(fast == nil, "the fast path must not decide \(document)")
        continue
      }
      #expect(fast == nil)
      #expect(throws: (any Error).self) { try WireJSON.decode(V1.NameRequest.self, from: Data(document.utf8)) }
      do {
        _ = try WireJSON.decode(V1.NameRequest.self, from: Data(document.utf8))
      } catch {
        #expect(WireJSON.describe(error).contains(expected), "\(document): \(WireJSON.describe(error))")
      }
    }
  }

  @Test func theParserIsStrict() {
    let malformed = ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "1e", "\"\u{1}\"", "\"\\x\"", "tru", "nul", "{} {}",
      "\"\\udc00\"", String(repeating: "[", count: 600) + String(repeating: "]", count: 600)]
    for text in malformed {
      #expect(Data(text.utf8).withUnsafeBytes { WireValue.parse($0) } == nil, "\(text.prefix(20))")
    }
    let wellFormed = ["{}", "[]", "0", "-0", "1.5e10", "true", "null", #""\ud83d\ude00 \u00e9 \/""#, " [1, {\"a\": [null]}] "]
    for text in wellFormed {
      #expect(Data(text.utf8).withUnsafeBytes { WireValue.parse($0) } != nil, "\(text)")
    }
    guard case .string(let emoji)? = Data(#""\ud83d\ude00\/""#.utf8).withUnsafeBytes({ WireValue.parse($0) }) else {
      Issue.record("no string")
      return
    }
    #expect(emoji == "😀/")
  }
}

/// Error bodies: the driver writes them by hand, the host reads them without Foundation, and
/// both agree with the Codable and JSONSerialization paths they bypass.
@Suite("Wire JSON fast path: error bodies")
struct ErrorBodyFastPathTests {
  @Test("random error bodies: the same bytes as JSONEncoder, the same error in the host", arguments: 1...40)
  func randomBodies(seed: UInt64) throws {
    let random = Xorshift(seed: seed)
    let details = random.map().mapValues { JSONValue.string($0) }
    let body = DriverErrorBody(status: .notFound, message: random.text(), retryable: random.below(2) == 0, details: details)
    let fast = try WireJSON.encode(body)
    #expect(fast == (try WireFastPathTests.foundationBytes(body)), "\(String(decoding: fast, as: UTF8.self))")
    let text = String(decoding: fast, as: UTF8.self)
    #expect(DriverErrorBody.quickParts(of: text) != nil, "the quick reader refused \(text)")
    let error = DriverCallError(status: DriverStatus.notFound.rawValue, json: text, operation: "inspect")
    #expect(error.message == (body.message.isEmpty ? "inspect: NOT_FOUND" : body.message))
    #expect(error.retryable == body.retryable)
    // The details as JSON the host can hand on: the same strings, read back by Foundation.
    let read = try JSONSerialization.jsonObject(with: Data((error.detailsJSON ?? "").utf8)) as? [String: String]
    #expect(read == details.mapValues { value -> String in
      if case .string(let text) = value { return text }
      return ""
    })
  }

  @Test func whatTheQuickReaderDoesNotModelIsReadTheLenientWay() throws {
    // A number in details: the Codable encoder, and JSONSerialization in the host.
    let numeric = DriverErrorBody(status: .alreadyExists, message: "taken", details: ["count": .number(2)])
    #expect(try WireJSON.encode(numeric) == (try WireFastPathTests.foundationBytes(numeric)))
    let error = DriverCallError(status: DriverStatus.alreadyExists.rawValue, json: #"{"code":"ALREADY_EXISTS","details":{"count":2},"message":"taken","retryable":false}"#, operation: "create")
    #expect(error.message == "taken")
    #expect(error.detailsJSON == #"{"count":2}"#)
    #expect(DriverErrorBody.quickParts(of: #"{"details":{"count":2}}"#) == nil)
    // A message that is not a string is ignored, as before; so is text that is not JSON.
    #expect(DriverCallError(status: DriverStatus.internal.rawValue, json: #"{"message":5}"#, operation: "start").message == "start: INTERNAL")
    #expect(DriverCallError(status: DriverStatus.internal.rawValue, json: "not json", operation: "start").message == "start: INTERNAL")
    #expect(DriverCallError(status: DriverStatus.unavailable.rawValue, json: "", operation: "stop").retryable == DriverStatus.unavailable.retryable)
    // The retryable flag given wins over the status's rule.
    #expect(DriverCallError(status: DriverStatus.unavailable.rawValue, json: #"{"message":"m","retryable":false}"#, operation: "stop").retryable == false)
  }
}

/// A small seeded generator, so that a failing seed can be rerun. A class, so that the value
/// builders above can draw from it inside closures.
final class Xorshift: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
  func next() -> UInt64 {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return state
  }

  func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

  func maybe<T>(_ make: () -> T) -> T? { below(3) == 0 ? nil : make() }

  /// Text with the characters JSON treats specially: quotes, backslashes, slashes, controls,
  /// non-ASCII, astral-plane scalars.
  func text() -> String {
    let pieces = ["a", "Z", "0", "9", "-", "/", "\"", "\\", "\n", "\t", "\u{1}", "\u{1f}", "é", "日", "😀", " ", "_", "."]
    return (0..<below(12)).map { _ in pieces[below(pieces.count)] }.joined()
  }

  func map() -> [String: String] {
    var map: [String: String] = [:]
    for _ in 0..<below(5) { map[text()] = text() }
    return map
  }
}
