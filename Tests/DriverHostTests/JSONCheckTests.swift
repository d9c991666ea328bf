// JSONCheck: strict RFC 8259 syntax with the position (byte offset, line, column) of the first
// problem, and decoding errors that name the field path.
import DriverHost
import Testing

@Suite("JSONCheck")
struct JSONCheckTests {
  static let valid: [String] = [
    "{}", "[]", "0", "-0", "1.5e10", "-2.25E-3", "true", "false", "null", #""""#,
    #" {"a":[1,-2.5e+3,true,false,null,"x\u00e9\n\"\\\/"],"b":{"c":{}}} "#,
    "\t\r\n[ 1 , 2 ]\n",
    #""ünïcödé 🙂""#,
    String(repeating: "[", count: 512) + String(repeating: "]", count: 512),
  ]

  @Test("valid documents pass", arguments: valid)
  func validDocuments(_ text: String) throws {
    #expect(throws: Never.self) { try JSONCheck.validate(text) }
  }

  struct Invalid: Sendable, CustomTestStringConvertible {
    var text: String
    /// Byte offset, line and column (1-based) of the problem, and a fragment of its reason.
    var offset: Int
    var line: Int
    var column: Int
    var reason: String
    var testDescription: String { text.count > 30 ? String(text.prefix(30)) + "…" : text.debugDescription }
  }

  static let invalid: [Invalid] = [
    Invalid(text: "", offset: 0, line: 1, column: 1, reason: "unexpected end of input"),
    Invalid(text: "   ", offset: 3, line: 1, column: 4, reason: "unexpected end of input"),
    Invalid(text: #"{"a":1,}"#, offset: 7, line: 1, column: 8, reason: "'}', expected a member name"),
    Invalid(text: "[1,2", offset: 4, line: 1, column: 5, reason: "expected ',' or ']'"),
    Invalid(text: #""abc"#, offset: 4, line: 1, column: 5, reason: "unterminated string"),
    Invalid(text: "01", offset: 1, line: 1, column: 2, reason: "after the JSON value"),
    Invalid(text: #"{"a":tru}"#, offset: 8, line: 1, column: 9, reason: "'true'"),
    Invalid(text: "{'a':1}", offset: 1, line: 1, column: 2, reason: "expected a member name"),
    Invalid(text: "[1.]", offset: 3, line: 1, column: 4, reason: "after '.'"),
    Invalid(text: "[1e]", offset: 3, line: 1, column: 4, reason: "exponent"),
    Invalid(text: #"["a\x"]"#, offset: 4, line: 1, column: 5, reason: "escape"),
    Invalid(text: #"["\u12G4"]"#, offset: 6, line: 1, column: 7, reason: "escape"),
    Invalid(text: "[\"a\u{01}\"]", offset: 3, line: 1, column: 4, reason: "control character"),
    Invalid(text: "{} {}", offset: 3, line: 1, column: 4, reason: "after the JSON value"),
    Invalid(text: #"{"a" 1}"#, offset: 5, line: 1, column: 6, reason: "expected ':'"),
    Invalid(text: "[+1]", offset: 1, line: 1, column: 2, reason: "expected a value"),
    Invalid(text: "{\n  \"a\": x\n}", offset: 9, line: 2, column: 8, reason: "expected a value"),
    Invalid(text: "[\"é\", x]", offset: 7, line: 1, column: 7, reason: "expected a value"),
  ]

  @Test("invalid documents fail naming the byte offset (and line and column) of the problem", arguments: invalid)
  func invalidDocuments(_ c: Invalid) {
    do throws(JSONCheckError) {
      try JSONCheck.validate(c.text)
      Issue.record("accepted invalid JSON \(c.text.debugDescription)")
    } catch {
      #expect(error.message.hasSuffix("at line \(c.line), column \(c.column) (byte \(c.offset))"), "\(error.message)")
      #expect(error.message.contains(c.reason), "\(error.message)")
    }
  }

  @Test("nesting deeper than 512 is refused with its offset")
  func tooDeep() {
    let text = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
    do throws(JSONCheckError) {
      try JSONCheck.validate(text)
      Issue.record("513 levels of nesting were accepted")
    } catch {
      #expect(error.message.contains("nesting deeper than 512"), "\(error.message)")
      #expect(error.message.hasSuffix("(byte 512)"), "\(error.message)")
    }
  }

  @Test("decode names the field path of a type error")
  func decodeFieldPath() {
    struct Doc: Decodable {
      struct Inner: Decodable { var n: Int }
      var inner: [Inner]
    }
    #expect(throws: JSONCheckError.self) { try JSONCheck.decode(Doc.self, from: #"{"inner":[{"n":1},{"n":"x"}]}"#) }
    do {
      _ = try JSONCheck.decode(Doc.self, from: #"{"inner":[{"n":1},{"n":"x"}]}"#)
    } catch {
      #expect(error.message.contains("inner[1].n"), "\(error.message)")
    }
  }
}
