import Foundation

/// Malformed JSON: what is wrong and where (1-based line and column, 0-based byte offset).
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
  public var message: String
  public var line: Int
  public var column: Int
  public var offset: Int

  public var description: String { "invalid JSON at line \(line), column \(column): \(message)" }
}

extension JSONNode {
  /// Parses one JSON text (RFC 8259; a UTF-8 byte-order mark is skipped). A key repeated within one
  /// object keeps its last value; ``ResourceDecoder`` reports such repeats as errors.
  public static func parse(_ data: Data) throws(JSONSyntaxError) -> JSONNode {
    try parseReportingDuplicates(data).node
  }

  /// Parses one JSON text and returns, as well, the path of every repeated object key (for
  /// ``ResourceDecoder/decodeAndValidate(_:duplicates:)``, which reports them).
  public static func parseReportingDuplicates(_ data: Data) throws(JSONSyntaxError) -> (
    node: JSONNode, duplicates: [FieldPath]
  ) {
    var parser = JSONParser(bytes: [UInt8](data))
    let node = try parser.parseDocument()
    return (node, parser.duplicates)
  }
}

/// A recursive-descent JSON parser over UTF-8 bytes with a nesting limit (so hostile input cannot
/// exhaust the stack) and precise positions in its errors.
struct JSONParser {
  static let maximumDepth = 512

  let bytes: [UInt8]
  var index = 0
  var depth = 0
  var path = FieldPath()
  var duplicates: [FieldPath] = []

  init(bytes: [UInt8]) {
    self.bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
  }

  mutating func parseDocument() throws(JSONSyntaxError) -> JSONNode {
    skipWhitespace()
    if index >= bytes.count { throw error("the document is empty; expected a JSON object") }
    let node = try parseValue()
    skipWhitespace()
    if index < bytes.count { throw error("unexpected \(describe(bytes[index])) after the end of the JSON value") }
    return node
  }

  // MARK: Values

  mutating func parseValue() throws(JSONSyntaxError) -> JSONNode {
    guard index < bytes.count else { throw error("unexpected end of input; expected a value") }
    switch bytes[index] {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
    case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
    case UInt8(ascii: "n"): try expectLiteral("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw error("unexpected \(describe(bytes[index])); expected a value")
    }
  }

  mutating func parseObject() throws(JSONSyntaxError) -> JSONNode {
    try enter()
    index += 1  // {
    var members: [String: JSONNode] = [:]
    skipWhitespace()
    if peek(UInt8(ascii: "}")) {
      index += 1
      depth -= 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard peek(UInt8(ascii: "\"")) else { throw error(expecting: "a quoted member name") }
      let key = try parseString()
      skipWhitespace()
      guard peek(UInt8(ascii: ":")) else { throw error(expecting: "':' after the member name") }
      index += 1
      skipWhitespace()
      path.append(.key(key))
      let value = try parseValue()
      if members.updateValue(value, forKey: key) != nil { duplicates.append(path) }
      path.removeLast()
      skipWhitespace()
      if peek(UInt8(ascii: ",")) {
        index += 1
        continue
      }
      if peek(UInt8(ascii: "}")) {
        index += 1
        depth -= 1
        return .object(members)
      }
      throw error(expecting: "',' or '}'")
    }
  }

  mutating func parseArray() throws(JSONSyntaxError) -> JSONNode {
    try enter()
    index += 1  // [
    var elements: [JSONNode] = []
    skipWhitespace()
    if peek(UInt8(ascii: "]")) {
      index += 1
      depth -= 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      path.append(.index(elements.count))
      elements.append(try parseValue())
      path.removeLast()
      skipWhitespace()
      if peek(UInt8(ascii: ",")) {
        index += 1
        continue
      }
      if peek(UInt8(ascii: "]")) {
        index += 1
        depth -= 1
        return .array(elements)
      }
      throw error(expecting: "',' or ']'")
    }
  }

  mutating func parseNumber() throws(JSONSyntaxError) -> JSONNode {
    let start = index
    var isInteger = true
    if peek(UInt8(ascii: "-")) { index += 1 }
    if peek(UInt8(ascii: "0")) {
      index += 1
      if index < bytes.count, isDigit(bytes[index]) { throw error("a number must not have leading zeros") }
    } else {
      guard index < bytes.count, isDigit(bytes[index]) else { throw error(expecting: "a digit") }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if peek(UInt8(ascii: ".")) {
      isInteger = false
      index += 1
      guard index < bytes.count, isDigit(bytes[index]) else { throw error(expecting: "a digit after '.'") }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
      isInteger = false
      index += 1
      if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
      guard index < bytes.count, isDigit(bytes[index]) else { throw error(expecting: "a digit in the exponent") }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    if isInteger, let value = Int64(text) { return .int(value) }
    guard let value = Double(text), value.isFinite else {
      index = start
      throw error("number \(text) is out of range")
    }
    return .double(value)
  }

  mutating func parseString() throws(JSONSyntaxError) -> String {
    index += 1  // opening quote
    var runStart = index
    var utf8Run: [UInt8] = []
    while true {
      guard index < bytes.count else { throw error("unterminated string; expected a closing '\"'") }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        utf8Run.append(contentsOf: bytes[runStart..<index])
        index += 1
        break
      }
      if byte < 0x20 { throw error("control character \(describe(byte)) inside a string; escape it") }
      if byte != UInt8(ascii: "\\") {
        index += 1
        continue
      }
      utf8Run.append(contentsOf: bytes[runStart..<index])
      index += 1
      guard index < bytes.count else { throw error("unterminated escape sequence") }
      let escape = bytes[index]
      index += 1
      switch escape {
      case UInt8(ascii: "\""): utf8Run.append(UInt8(ascii: "\""))
      case UInt8(ascii: "\\"): utf8Run.append(UInt8(ascii: "\\"))
      case UInt8(ascii: "/"): utf8Run.append(UInt8(ascii: "/"))
      case UInt8(ascii: "b"): utf8Run.append(0x08)
      case UInt8(ascii: "f"): utf8Run.append(0x0C)
      case UInt8(ascii: "n"): utf8Run.append(0x0A)
      case UInt8(ascii: "r"): utf8Run.append(0x0D)
      case UInt8(ascii: "t"): utf8Run.append(0x09)
      case UInt8(ascii: "u"):
        var code = try parseHex4()
        if (0xD800...0xDBFF).contains(code) {
          guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
          else { throw error("unpaired UTF-16 high surrogate in \\u escape") }
          index += 2
          let low = try parseHex4()
          guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid UTF-16 low surrogate in \\u escape") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(code) {
          throw error("unpaired UTF-16 low surrogate in \\u escape")
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
        utf8Run.append(contentsOf: Array(String(Character(scalar)).utf8))
      default:
        index -= 1
        throw error("invalid escape '\\\(String(decoding: [escape], as: UTF8.self))'")
      }
      runStart = index
    }
    guard let text = String(validating: utf8Run, as: UTF8.self) else {
      throw error("string is not valid UTF-8")
    }
    return text
  }

  mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
    guard index + 4 <= bytes.count else { throw error("truncated \\u escape; expected 4 hex digits") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[index]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: throw error("invalid hex digit \(describe(byte)) in \\u escape")
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  // MARK: Helpers

  mutating func enter() throws(JSONSyntaxError) {
    depth += 1
    if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth) levels") }
  }

  mutating func expectLiteral(_ literal: String) throws(JSONSyntaxError) {
    let expected = Array(literal.utf8)
    guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
      throw error("unexpected \(describe(bytes[index])); expected a value (strings must be quoted)")
    }
    index += expected.count
  }

  func peek(_ byte: UInt8) -> Bool { index < bytes.count && bytes[index] == byte }

  func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

  mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  func describe(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(String(decoding: [byte], as: UTF8.self))'" }
    return String(format: "byte 0x%02X", byte)
  }

  func error(expecting what: String) -> JSONSyntaxError {
    if index >= bytes.count { return error("unexpected end of input; expected \(what)") }
    return error("unexpected \(describe(bytes[index])); expected \(what)")
  }

  func error(_ message: String) -> JSONSyntaxError {
    let position = min(index, bytes.count)
    var line = 1
    var lineStart = 0
    for offset in 0..<position where bytes[offset] == 0x0A {
      line += 1
      lineStart = offset + 1
    }
    let column = String(decoding: bytes[lineStart..<position], as: UTF8.self).count + 1
    return JSONSyntaxError(message: message, line: line, column: column, offset: position)
  }
}
