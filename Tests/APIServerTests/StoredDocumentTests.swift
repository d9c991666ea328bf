// The Model's encoder writes the store's canonical form itself, and the store takes that text
// without parsing it again (ResourceStore's StoredJSON(model:)): the two must agree byte for byte.
import Foundation
import Model
import ResourceStore
import Store
import Testing

@Suite("Model documents are already in the store's canonical form")
struct StoredDocumentTests {
  /// NodeEncoder's bytes, canonicalised by the store the long way.
  static func expectCanonical(_ value: some Encodable, _ comment: Comment? = nil) throws {
    let bytes = try NodeEncoder.jsonBytes(value)
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(try CanonicalJSON(parsing: text).text == text, comment)
  }

  @Test("specs and statuses of random Workers, with numbers and strings JSON writers differ on", arguments: 1...40)
  func randomWorkers(seed: UInt64) throws {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> UInt64 {
      state ^= state >> 12
      state ^= state << 25
      state ^= state >> 27
      return state &* 0x2545_F491_4F6C_DD1D
    }
    let pieces = ["a", "\"", "\\", "/", "\n", "\u{1}", "\u{7F}", "é", "😀", "\u{2028}", " "]
    func text() -> String { (0..<Int(next() % 8)).map { _ in pieces[Int(next() % UInt64(pieces.count))] }.joined() }
    let numbers: [JSONNode] = [.double(0.5), .double(2.0), .double(-0.0), .double(1e16), .double(9.3e18), .double(1e-7),
      .double(123456.789), .int(Int64.max), .int(-42)]
    var worker = Worker(metadata: ObjectMeta(name: "w\(seed)"), spec: WorkerSpec(model: text()))
    worker.spec.env = [text(): text(), "K": text()]
    worker.spec.identity = text()
    worker.spec.accessEntries = [AccessEntry(service: .objectStorage, permissions: [.read],
      scope: .object(["n": numbers[Int(next() % UInt64(numbers.count))], text(): .string(text()), "list": .array([.null, .bool(true)])]))]
    worker.status.message = text()
    worker.status.conditions = [Condition(type: "Ready", status: .false, reason: "R", message: text())]
    try Self.expectCanonical(worker.spec, "seed \(seed)")
    try Self.expectCanonical(worker.status, "seed \(seed)")
    _ = try StoredObject(resource: .worker(worker))
  }
}
