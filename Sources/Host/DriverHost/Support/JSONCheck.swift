import Foundation

/// Why some bytes are not the JSON they should be, with the byte offset of the problem.
public struct JSONCheckError: Error, Sendable, Equatable {
  public var message: String
}

/// Strict JSON syntax checks with byte offsets in the errors (Foundation's parser only says
/// "not in the correct format"), and decoding with field paths.
public enum JSONCheck {
  /// Throws if `text` is not exactly one JSON value (RFC 8259), naming the offset of the problem.
  public static func validate(_ text: String) throws(JSONCheckError) {
    var copy = text
    let failure: JSONCheckError? = copy.withUTF8 { bytes in
      var parser = Parser(bytes: bytes)
      do throws(JSONCheckError) {
        try parser.document()
        return nil
      } catch {
        return error
      }
    }
    if let failure { throw failure }
  }

  /// Decodes `T`, turning decoding errors into `path: problem`.
  public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws(JSONCheckError) -> T {
    do {
      return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    } catch {
      throw JSONCheckError(message: describeDecodingError(error))
    }
  }

  private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func fail(_ what: String) -> JSONCheckError {
      if index >= bytes.count { return JSONCheckError(message: "\(what) at offset \(index) (unexpected end of input)") }
      let scalar = UnicodeScalar(bytes[index])
      let shown = bytes[index] >= 0x20 && bytes[index] < 0x7F ? "'\(Character(scalar))'" : "byte 0x\(String(bytes[index], radix: 16))"
      return JSONCheckError(message: "\(what) at offset \(index), found \(shown)")
    }

    mutating func skipSpace() {
      while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func document() throws(JSONCheckError) {
      skipSpace()
      try value()
      skipSpace()
      if index != bytes.count { throw fail("unexpected data after the JSON value") }
    }

    mutating func expect(_ literal: StaticString) throws(JSONCheckError) {
      let count = literal.utf8CodeUnitCount
      guard index + count <= bytes.count,
        memcmp(bytes.baseAddress! + index, literal.utf8Start, count) == 0
      else { throw fail("expected \(literal)") }
      index += count
    }

    mutating func value() throws(JSONCheckError) {
      guard index < bytes.count else { throw fail("expected a value") }
      switch bytes[index] {
      case UInt8(ascii: "{"): try object()
      case UInt8(ascii: "["): try array()
      case UInt8(ascii: "\""): try string()
      case UInt8(ascii: "t"): try expect("true")
      case UInt8(ascii: "f"): try expect("false")
      case UInt8(ascii: "n"): try expect("null")
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
      default: throw fail("expected a value")
      }
    }

    mutating func nest() throws(JSONCheckError) {
      depth += 1
      if depth > 512 { throw fail("nesting deeper than 512") }
    }

    mutating func object() throws(JSONCheckError) {
      try nest()
      index += 1
      skipSpace()
      if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
        index += 1
        depth -= 1
        return
      }
      while true {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        try string()
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
        index += 1
        skipSpace()
        try value()
        skipSpace()
        guard index < bytes.count else { throw fail("expected ',' or '}'") }
        if bytes[index] == UInt8(ascii: ",") {
          index += 1
          continue
        }
        if bytes[index] == UInt8(ascii: "}") {
          index += 1
          depth -= 1
          return
        }
        throw fail("expected ',' or '}'")
      }
    }

    mutating func array() throws(JSONCheckError) {
      try nest()
      index += 1
      skipSpace()
      if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
        index += 1
        depth -= 1
        return
      }
      while true {
        skipSpace()
        try value()
        skipSpace()
        guard index < bytes.count else { throw fail("expected ',' or ']'") }
        if bytes[index] == UInt8(ascii: ",") {
          index += 1
          continue
        }
        if bytes[index] == UInt8(ascii: "]") {
          index += 1
          depth -= 1
          return
        }
        throw fail("expected ',' or ']'")
      }
    }

    mutating func string() throws(JSONCheckError) {
      index += 1
      while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "\"") {
          index += 1
          return
        }
        if byte < 0x20 { throw fail("control character in string") }
        if byte == UInt8(ascii: "\\") {
          index += 1
          guard index < bytes.count else { break }
          switch bytes[index] {
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
          case UInt8(ascii: "u"):
            index += 1
            for _ in 0..<4 {
              guard index < bytes.count, UnicodeScalar(bytes[index]).properties.isASCIIHexDigit else {
                throw fail("bad \\u escape")
              }
              index += 1
            }
          default: throw fail("bad escape")
          }
          continue
        }
        index += 1
      }
      throw fail("unterminated string")
    }

    mutating func digits() -> Int {
      let start = index
      while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
      return index - start
    }

    mutating func number() throws(JSONCheckError) {
      if bytes[index] == UInt8(ascii: "-") { index += 1 }
      guard index < bytes.count else { throw fail("expected a digit") }
      if bytes[index] == UInt8(ascii: "0") {
        index += 1
      } else if digits() == 0 {
        throw fail("expected a digit")
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        if digits() == 0 { throw fail("expected a digit after '.'") }
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
        index += 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        if digits() == 0 { throw fail("expected a digit in the exponent") }
      }
    }
  }
}
