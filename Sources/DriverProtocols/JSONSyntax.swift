#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Locates the first syntax error in JSON text, for error messages. `JSONDecoder` only says
/// "The given data was not valid JSON."; this says where and why.
public enum JSONSyntax {
  /// Where and why a text is not JSON.
  public struct Problem: Sendable, Equatable {
    public var offset: Int
    public var line: Int
    public var column: Int
    public var reason: String

    public var description: String { "\(reason) at line \(line), column \(column) (byte \(offset))" }
  }

  /// The first syntax error in `data`, or nil if it is well-formed JSON.
  public static func firstProblem(in data: Data) -> Problem? {
    let bytes = [UInt8](data)
    var scanner = Scanner(bytes: bytes)
    do {
      scanner.skipSpace()
      try scanner.value(depth: 0)
      scanner.skipSpace()
      if scanner.index < bytes.count {
        throw scanner.fail("unexpected content after the JSON value")
      }
      return nil
    } catch let failure as Failure {
      var line = 1
      var column = 1
      for byte in bytes[..<min(failure.offset, bytes.count)] {
        if byte == 0x0A {
          line += 1
          column = 1
        } else if byte & 0xC0 != 0x80 {
          column += 1
        }
      }
      return Problem(offset: failure.offset, line: line, column: column, reason: failure.reason)
    } catch {
      return nil
    }
  }

  struct Failure: Error {
    var offset: Int
    var reason: String
  }

  struct Scanner {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    func describeCurrent() -> String {
      guard let byte = current else { return "end of input" }
      if byte >= 0x20 && byte < 0x7F { return "character '\(Character(UnicodeScalar(byte)))'" }
      return "byte 0x\(String(byte, radix: 16))"
    }

    mutating func skipSpace() {
      while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
        index += 1
      }
    }

    mutating func expect(_ literal: String) throws(Failure) {
      for byte in literal.utf8 {
        guard current == byte else {
          throw fail("unexpected \(describeCurrent()) in literal '\(literal)'")
        }
        index += 1
      }
    }

    mutating func value(depth: Int) throws(Failure) {
      guard depth < 512 else { throw fail("nesting deeper than 512 levels") }
      guard let byte = current else { throw fail("unexpected end of input, expected a value") }
      switch byte {
      case UInt8(ascii: "{"): try object(depth: depth)
      case UInt8(ascii: "["): try array(depth: depth)
      case UInt8(ascii: "\""): try string()
      case UInt8(ascii: "t"): try expect("true")
      case UInt8(ascii: "f"): try expect("false")
      case UInt8(ascii: "n"): try expect("null")
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
      default: throw fail("unexpected \(describeCurrent()), expected a value")
      }
    }

    mutating func object(depth: Int) throws(Failure) {
      index += 1
      skipSpace()
      if current == UInt8(ascii: "}") {
        index += 1
        return
      }
      while true {
        guard current == UInt8(ascii: "\"") else {
          throw fail("unexpected \(describeCurrent()), expected a member name in double quotes")
        }
        try string()
        skipSpace()
        guard current == UInt8(ascii: ":") else {
          throw fail("unexpected \(describeCurrent()), expected ':'")
        }
        index += 1
        skipSpace()
        try value(depth: depth + 1)
        skipSpace()
        if current == UInt8(ascii: ",") {
          index += 1
          skipSpace()
          continue
        }
        guard current == UInt8(ascii: "}") else {
          throw fail("unexpected \(describeCurrent()), expected ',' or '}'")
        }
        index += 1
        return
      }
    }

    mutating func array(depth: Int) throws(Failure) {
      index += 1
      skipSpace()
      if current == UInt8(ascii: "]") {
        index += 1
        return
      }
      while true {
        try value(depth: depth + 1)
        skipSpace()
        if current == UInt8(ascii: ",") {
          index += 1
          skipSpace()
          continue
        }
        guard current == UInt8(ascii: "]") else {
          throw fail("unexpected \(describeCurrent()), expected ',' or ']'")
        }
        index += 1
        return
      }
    }

    mutating func string() throws(Failure) {
      index += 1
      while let byte = current {
        switch byte {
        case UInt8(ascii: "\""):
          index += 1
          return
        case UInt8(ascii: "\\"):
          index += 1
          guard let escape = current else { break }
          if escape == UInt8(ascii: "u") {
            for _ in 0..<4 {
              index += 1
              guard let hex = current,
                (hex >= 0x30 && hex <= 0x39) || (hex | 0x20 >= 0x61 && hex | 0x20 <= 0x66)
              else { throw fail("invalid \\u escape") }
            }
          } else if !"\"\\/bfnrt".utf8.contains(escape) {
            throw fail("invalid escape '\\\(Character(UnicodeScalar(escape)))'")
          }
          index += 1
        case 0..<0x20:
          throw fail("unescaped control character in a string")
        default:
          index += 1
        }
      }
      throw fail("unterminated string")
    }

    mutating func number() throws(Failure) {
      func digits(_ scanner: inout Scanner) -> Int {
        var count = 0
        while let byte = scanner.current, byte >= 0x30 && byte <= 0x39 {
          scanner.index += 1
          count += 1
        }
        return count
      }
      if current == UInt8(ascii: "-") { index += 1 }
      if current == UInt8(ascii: "0") {
        index += 1
      } else if digits(&self) == 0 {
        throw fail("unexpected \(describeCurrent()) in a number")
      }
      if current == UInt8(ascii: ".") {
        index += 1
        if digits(&self) == 0 { throw fail("expected digits after '.'") }
      }
      if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
        index += 1
        if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
        if digits(&self) == 0 { throw fail("expected digits in the exponent") }
      }
    }
  }
}
