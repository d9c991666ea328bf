// NodeDecoder (Model/JSON/NodeDecoder.swift) against JSONDecoder, which it replaced for reading
// the store's documents: same values, and errors where JSONDecoder has them. (Every fixture and
// the random resources are checked in both directions by NodeEncoderTests.)
import Foundation
import Model
import Testing

@Suite("NodeDecoder matches JSONDecoder")
struct NodeDecoderTests {
  static func expectSame<T: Codable & Equatable>(_ value: T, _ comment: Comment? = nil) throws {
    let data = try JSONEncoder().encode(value)
    let reference = try JSONDecoder().decode(T.self, from: data)
    #expect(try NodeDecoder.decode(T.self, from: data) == reference, comment)
    #expect(try NodeDecoder.decode(T.self, from: data) == value, comment)
  }

  @Test("wrong types, missing keys and nulls are errors, as with JSONDecoder")
  func errors() {
    let documents = [
      #"{"model": 5}"#,  // a number for a string
      #"{}"#,  // the required model is missing
      #"{"model": null}"#,  // null for a required string
      #"{"model": "m", "expose": [{"port": "80"}]}"#,  // a string for an integer
      #"{"model": "m", "expose": [{"port": 1e30}]}"#,  // out of range
      #"{"model": "m", "expose": {"port": 80}}"#,  // an object for an array
      #"[]"#,
    ]
    for text in documents {
      let data = Data(text.utf8)
      #expect(throws: (any Error).self, "JSONDecoder: \(text)") { try JSONDecoder().decode(WorkerSpec.self, from: data) }
      #expect(throws: DecodingError.self, "NodeDecoder: \(text)") { try NodeDecoder.decode(WorkerSpec.self, from: data) }
    }
    #expect(throws: (any Error).self) { try NodeDecoder.decode(WorkerSpec.self, from: Data("{".utf8)) }
  }

  @Test("an error names the path of the bad value")
  func errorPath() {
    do {
      _ = try NodeDecoder.decode(WorkerSpec.self, from: Data(#"{"model": "m", "expose": [{"port": 1}, {"port": "x"}]}"#.utf8))
      Issue.record("decoded a string port")
    } catch let DecodingError.typeMismatch(_, context) {
      #expect(context.codingPath.map(\.stringValue) == ["expose", "Index 1", "port"])
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  @Test("unknown keys are ignored; null and absent optionals are nil")
  func lenientWhereJSONDecoderIs() throws {
    let spec = try NodeDecoder.decode(WorkerSpec.self, from: Data(#"{"model": "m", "future": 1, "image": null}"#.utf8))
    #expect(spec.model == "m")
    #expect(spec.image == nil)
    #expect(spec.env == nil)
  }
}
