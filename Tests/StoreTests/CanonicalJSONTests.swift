import Foundation
import Testing

@testable import Store

@Suite struct CanonicalJSONTests {
  @Test(arguments: [
    (#" { "b" : 1 , "a" : [ true , false , null ] } "#, #"{"a":[true,false,null],"b":1}"#),
    (#"{"n":1.0,"m":1e2,"k":-0,"j":0.5,"i":1E-7,"h":12345678901234567890}"#,
     #"{"h":1.2345678901234567e+19,"i":1e-07,"j":0.5,"k":0,"m":100,"n":1}"#),
    (#"{"big":9007199254740993,"neg":-42}"#, #"{"big":9007199254740993,"neg":-42}"#),
    (#"["\u00e9","é","\/","\"\\\n\t\u0001","\ud83d\ude00"]"#, #"["é","é","/","\"\\\n\t\u0001","😀"]"#),
    (#"{"z":{"y":{},"x":[]},"Z":"upper","é":"e","e":"plain"}"#, #"{"Z":"upper","e":"plain","z":{"x":[],"y":{}},"é":"e"}"#),
  ])
  func canonicalForms(input: String, expected: String) throws {
    let canonical = try CanonicalJSON(parsing: input)
    #expect(canonical.text == expected)
    // Idempotent.
    #expect(try CanonicalJSON(parsing: canonical.text) == canonical)
    #expect(try CanonicalJSON(parsing: Data(input.utf8)) == canonical)
  }

  @Test func semanticallyEqualDocumentsAreEqual() throws {
    #expect(try json(#"{"a":1,"b":[1,2]}"#) == json("{\n  \"b\": [1, 2.0],\n  \"a\": 1e0\n}"))
    #expect(try json(#"{"a":1}"#) != json(#"{"a":"1"}"#))
    #expect(try json(#"{"a":[1,2]}"#) != json(#"{"a":[2,1]}"#))
  }

  @Test(arguments: [
    "", "{", "{\"a\":1,}", "[1,]", "{'a':1}", "NaN", "{\"a\":NaN}", "01", "1.", ".5", "1e", "--1",
    "{\"a\":1}{}", "\"\\ud800\"", "\"\\udc00\"", "\"\\x\"", "\"tab\there\"", "{\"a\":1,\"a\":2}", "1e400",
    "tru", "nul", "[1 2]", "{\"a\" 1}", "// c\n{}",
  ])
  func malformedJSONIsRejected(input: String) {
    do {
      _ = try CanonicalJSON(parsing: input)
      Issue.record("accepted \(input)")
    } catch {
      #expect(error.code == .invalid)
    }
  }

  @Test func invalidUTF8AndDeepNestingAreRejected() {
    #expect(throws: StoreError.self) { _ = try CanonicalJSON(parsing: Data([0x22, 0xFF, 0xFE, 0x22])) }
    let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
    #expect(throws: StoreError.self) { _ = try CanonicalJSON(parsing: deep) }
    let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
    #expect(throws: Never.self) { _ = try CanonicalJSON(parsing: fine) }
  }

  @Test func encodableRoundTrip() throws {
    struct Spec: Codable, Equatable {
      var model: String
      var replicas: Int
      var env: [String: String]
    }
    let spec = Spec(model: "qwen", replicas: 2, env: ["B": "2", "A": "1"])
    let canonical = try CanonicalJSON(encoding: spec)
    #expect(canonical.text == #"{"env":{"A":"1","B":"2"},"model":"qwen","replicas":2}"#)
    #expect(try canonical.decode(Spec.self) == spec)
    #expect(throws: StoreError.self) { _ = try CanonicalJSON(encoding: ["x": Double.nan]) }
  }
}
