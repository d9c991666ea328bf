import Foundation

/// The canonical JSON form used for spec hashes and spec comparison: object keys sorted by their
/// UTF-8 bytes, no insignificant whitespace, `null` members and empty arrays/objects left out
/// (so `env: {}` and no `env` are the same spec, as in Kubernetes' semantic equality), integral
/// numbers written as integers, strings escaped minimally (`"`, `\`, control characters).
///
/// The bytes depend only on the value, never on the Foundation version or the platform, so a
/// hash stored today still matches after an upgrade.
public enum CanonicalJSON {
  /// The canonical bytes of any `Encodable` value.
  public static func encode(_ value: some Encodable) -> [UInt8] {
    // The Model's types encode only strings, integers, booleans and containers; failure here
    // would be a programming error in a Codable conformance.
    guard let bytes = try? NodeEncoder.canonicalBytes(value) else {
      preconditionFailure("CanonicalJSON: \(type(of: value)) did not encode to JSON")
    }
    return bytes
  }

  /// The canonical bytes of a ``JSONNode``.
  public static func encode(_ node: JSONNode) -> [UInt8] {
    var output: [UInt8] = []
    write(node.pruned ?? .object([:]), to: &output)
    return output
  }

  /// The value as a ``JSONNode`` (``NodeEncoder``: the tree `JSONEncoder` would write, without
  /// the text in between).
  public static func node(of value: some Encodable) -> JSONNode {
    // The Model's types encode only strings, integers, booleans and containers; failure here
    // would be a programming error in a Codable conformance.
    guard let node = try? NodeEncoder.encode(value) else {
      preconditionFailure("CanonicalJSON: \(type(of: value)) did not encode to JSON")
    }
    return node
  }

  /// How integral floating-point numbers are written: spec hashes write those within ±2^53 as
  /// integers (fixed forever: hashes are stored), the store those that fit in `Int64`.
  enum IntegralDoubles {
    case withinDoublePrecision
    case withinInt64
  }

  static func write(_ node: JSONNode, to output: inout [UInt8], integralDoubles: IntegralDoubles = .withinDoublePrecision) {
    switch node {
    case .null: output.append(contentsOf: "null".utf8)
    case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
    case .int(let value): output.append(contentsOf: String(value).utf8)
    case .double(let value): output.append(contentsOf: format(value, integralDoubles).utf8)
    case .string(let value): appendQuoted(value, to: &output)
    case .array(let elements):
      output.append(UInt8(ascii: "["))
      for (offset, element) in elements.enumerated() {
        if offset > 0 { output.append(UInt8(ascii: ",")) }
        write(element, to: &output, integralDoubles: integralDoubles)
      }
      output.append(UInt8(ascii: "]"))
    case .object(let members):
      output.append(UInt8(ascii: "{"))
      let keys = members.keys.sorted { compareUTF8($0, $1) < 0 }
      for (offset, key) in keys.enumerated() {
        if offset > 0 { output.append(UInt8(ascii: ",")) }
        appendQuoted(key, to: &output)
        output.append(UInt8(ascii: ":"))
        write(members[key]!, to: &output, integralDoubles: integralDoubles)
      }
      output.append(UInt8(ascii: "}"))
    }
  }

  /// The order of two strings' UTF-8 bytes (negative, zero, positive, like `memcmp`): the
  /// order of canonical JSON's keys. Not `<`, which compares Unicode canonical equivalents alike.
  static func compareUTF8(_ left: String, _ right: String) -> Int {
    var left = left
    var right = right
    return left.withUTF8 { left in
      right.withUTF8 { right in
        let common = min(left.count, right.count)
        if common > 0 {
          let order = memcmp(left.baseAddress!, right.baseAddress!, common)
          if order != 0 { return Int(order) }
        }
        return left.count - right.count
      }
    }
  }

  /// `8080` for integral values within ±2^53, else Swift's shortest round-tripping form.
  static func format(_ value: Double) -> String { format(value, .withinDoublePrecision) }

  static func format(_ value: Double, _ integral: IntegralDoubles) -> String {
    switch integral {
    case .withinDoublePrecision:
      if value.rounded() == value, abs(value) <= 9_007_199_254_740_992 { return String(Int64(value)) }
    case .withinInt64:
      if value == value.rounded(), abs(value) < 9.2e18 { return String(Int64(value)) }
    }
    return "\(value)"
  }

  static func quote(_ text: String) -> String {
    var output: [UInt8] = []
    appendQuoted(text, to: &output)
    return String(decoding: output, as: UTF8.self)
  }

  static func appendQuoted(_ text: String, to output: inout [UInt8]) {
    output.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
      case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
      case 0x0A: output.append(contentsOf: #"\n"#.utf8)
      case 0x0D: output.append(contentsOf: #"\r"#.utf8)
      case 0x09: output.append(contentsOf: #"\t"#.utf8)
      case 0x08: output.append(contentsOf: #"\b"#.utf8)
      case 0x0C: output.append(contentsOf: #"\f"#.utf8)
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        output.append(contentsOf: #"\u00"#.utf8)
        output.append(hex[Int(byte >> 4)])
        output.append(hex[Int(byte & 0xF)])
      default: output.append(byte)
      }
    }
    output.append(UInt8(ascii: "\""))
  }
}

extension JSONNode {
  /// The node without `null` members and empty arrays/objects (recursively); `nil` if nothing is
  /// left. Array elements are kept in place (an element that prunes to nothing becomes `null`,
  /// so positions never shift).
  var pruned: JSONNode? {
    switch self {
    case .null: return nil
    case .array(let elements):
      if elements.isEmpty { return nil }
      return .array(elements.map { $0.pruned ?? .null })
    case .object(let members):
      var kept: [String: JSONNode] = [:]
      for (key, value) in members {
        if let value = value.pruned { kept[key] = value }
      }
      return kept.isEmpty ? nil : .object(kept)
    default: return self
    }
  }
}
