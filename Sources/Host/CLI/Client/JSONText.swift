import Foundation
import YAML

/// Parses JSON text into a ``JSONValue`` that keeps object keys in the order the host wrote them,
/// so `-o yaml` and `describe` show `apiVersion, kind, metadata, spec, status` as sent, and
/// booleans stay booleans (Foundation's `JSONSerialization` on Linux hands back `NSNumber`s that
/// cannot tell `true` from `1`).
struct JSONText {
  struct Malformed: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    var description: String { "invalid JSON at byte \(offset): \(reason)" }
  }

  static func parse(_ data: Data) throws(Malformed) -> JSONValue {
    var parser = JSONText(bytes: Array(data))
    parser.skipWhitespace()
    let value = try parser.value(depth: 0)
    parser.skipWhitespace()
    guard parser.position == parser.bytes.count else { throw parser.failure("unexpected text after the value") }
    return value
  }

  private let bytes: [UInt8]
  private var position = 0

  private init(bytes: [UInt8]) { self.bytes = bytes }

  private func failure(_ reason: String) -> Malformed { Malformed(offset: position, reason: reason) }

  private mutating func skipWhitespace() {
    while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
  }

  private mutating func expect(_ literal: String) throws(Malformed) {
    let expected = Array(literal.utf8)
    guard bytes.count - position >= expected.count, Array(bytes[position..<position + expected.count]) == expected
    else { throw failure("expected \(literal)") }
    position += expected.count
  }

  private mutating func value(depth: Int) throws(Malformed) -> JSONValue {
    guard depth < 512 else { throw failure("nested too deeply") }
    guard position < bytes.count else { throw failure("unexpected end of input") }
    switch bytes[position] {
    case UInt8(ascii: "{"):
      position += 1
      var object = JSONObject()
      skipWhitespace()
      if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
        position += 1
        return .object(object)
      }
      while true {
        skipWhitespace()
        let key = try string()
        skipWhitespace()
        try expect(":")
        skipWhitespace()
        object[key] = try value(depth: depth + 1)
        skipWhitespace()
        guard position < bytes.count else { throw failure("unterminated object") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect("}")
        return .object(object)
      }
    case UInt8(ascii: "["):
      position += 1
      var items: [JSONValue] = []
      skipWhitespace()
      if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
        position += 1
        return .array(items)
      }
      while true {
        skipWhitespace()
        items.append(try value(depth: depth + 1))
        skipWhitespace()
        guard position < bytes.count else { throw failure("unterminated array") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect("]")
        return .array(items)
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try expect("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expect("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expect("null")
      return .null
    default: return try number()
    }
  }

  private mutating func number() throws(Malformed) -> JSONValue {
    let start = position
    var isInteger = true
    while position < bytes.count {
      let byte = bytes[position]
      if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") {
        position += 1
      } else if [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+")].contains(byte) {
        isInteger = false
        position += 1
      } else {
        break
      }
    }
    let text = String(decoding: bytes[start..<position], as: UTF8.self)
    if isInteger, let integer = Int(text) { return .int(integer) }
    guard !text.isEmpty, let double = Double(text) else {
      position = start
      throw failure("unexpected character")
    }
    return .double(double)
  }

  private mutating func string() throws(Malformed) -> String {
    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a string") }
    position += 1
    var utf8: [UInt8] = []
    var pendingHighSurrogate: UInt32?
    while position < bytes.count {
      let byte = bytes[position]
      position += 1
      switch byte {
      case UInt8(ascii: "\""):
        return String(decoding: utf8, as: UTF8.self)
      case UInt8(ascii: "\\"):
        guard position < bytes.count else { throw failure("unterminated escape") }
        let escape = bytes[position]
        position += 1
        var scalar: UInt32?
        switch escape {
        case UInt8(ascii: "\""): scalar = 0x22
        case UInt8(ascii: "\\"): scalar = 0x5C
        case UInt8(ascii: "/"): scalar = 0x2F
        case UInt8(ascii: "b"): scalar = 0x08
        case UInt8(ascii: "f"): scalar = 0x0C
        case UInt8(ascii: "n"): scalar = 0x0A
        case UInt8(ascii: "r"): scalar = 0x0D
        case UInt8(ascii: "t"): scalar = 0x09
        case UInt8(ascii: "u"):
          guard bytes.count - position >= 4,
            let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
          else { throw failure("bad \\u escape") }
          position += 4
          if (0xD800...0xDBFF).contains(code) {
            pendingHighSurrogate = code
            continue
          }
          if (0xDC00...0xDFFF).contains(code), let high = pendingHighSurrogate {
            scalar = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
          } else {
            scalar = code
          }
        default: throw failure("bad escape")
        }
        pendingHighSurrogate = nil
        let character = Unicode.Scalar(scalar ?? 0xFFFD) ?? "\u{FFFD}"
        utf8.append(contentsOf: Array(String(character).utf8))
      default:
        utf8.append(byte)
      }
    }
    throw failure("unterminated string")
  }
}

extension JSONValue {
  /// The string at a dotted path of object keys (`metadata.name`), or nil.
  subscript(path path: String) -> JSONValue? {
    var current: JSONValue? = self
    for key in path.split(separator: ".") { current = current?[String(key)] }
    return current
  }

  /// The value at `path` as display text: strings as they are, numbers and booleans spelled,
  /// nil for missing, null or structured values.
  func text(_ path: String) -> String? {
    switch self[path: path] {
    case .string(let text)?: text
    case .int(let number)?: String(number)
    case .double(let number)?: String(number)
    case .bool(let flag)?: flag ? "true" : "false"
    default: nil
    }
  }

  /// The value as compact JSON text followed by nothing (one line).
  var compactJSON: String { jsonText(keyOrder: .document, prettyPrinted: false) }
}
