import Foundation

/// A JSON value, with object keys kept in the order they were written.
///
/// Equality and hashing ignore the order of object keys (two objects are equal when they have the
/// same keys with equal values); `.int(1)` and `.double(1)` are different values.
public enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object(JSONObject)

  /// The value of an object's key, or nil (also when this is not an object).
  public subscript(key: String) -> JSONValue? {
    if case .object(let object) = self { return object[key] }
    return nil
  }

  /// The array's item, or nil when out of range or not an array.
  public subscript(index: Int) -> JSONValue? {
    guard case .array(let items) = self, items.indices.contains(index) else { return nil }
    return items[index]
  }

  public var isNull: Bool { self == .null }
  public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }
  public var intValue: Int? { if case .int(let value) = self { value } else { nil } }
  /// A double, or an int as a double.
  public var doubleValue: Double? {
    switch self {
    case .double(let value): value
    case .int(let value): Double(value)
    default: nil
    }
  }
  public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
  public var arrayValue: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
  public var objectValue: JSONObject? { if case .object(let value) = self { value } else { nil } }
}

/// A JSON object: unique keys in insertion order, with dictionary lookup.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
  public typealias Element = (key: String, value: JSONValue)

  /// The keys in insertion order.
  public private(set) var keys: [String] = []
  private var values: [String: JSONValue] = [:]

  public init() {}

  /// From entries in order; a repeated key keeps its first position and its last value.
  public init(_ entries: some Sequence<(String, JSONValue)>) {
    for (key, value) in entries { self[key] = value }
  }

  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self.init(elements)
  }

  public var count: Int { keys.count }
  public var isEmpty: Bool { keys.isEmpty }

  /// Setting a new key appends it; setting an existing key keeps its position; nil removes it.
  public subscript(key: String) -> JSONValue? {
    get { values[key] }
    set {
      if let newValue {
        if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
      } else if values.removeValue(forKey: key) != nil {
        keys.removeAll { $0 == key }
      }
    }
  }

  public func makeIterator() -> AnyIterator<Element> {
    var position = keys.makeIterator()
    let values = values
    return AnyIterator { position.next().map { (key: $0, value: values[$0]!) } }
  }

  public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool { lhs.values == rhs.values }
  public func hash(into hasher: inout Hasher) { hasher.combine(values) }
}

// MARK: Literals (handy in tests and defaults)

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

// MARK: Serialisation

/// The order object keys are written in.
public enum JSONKeyOrder: Sendable, Hashable {
  /// As in the source document (insertion order).
  case document
  /// By the keys' UTF-8 bytes, for stable output.
  case sorted
}

extension JSONValue: CustomStringConvertible {
  /// Compact JSON text in document order.
  public var description: String { jsonText() }

  /// The value as UTF-8 JSON text. Non-finite doubles (which the YAML reader never produces) are
  /// written as `null`, as JavaScript's `JSON.stringify` does.
  public func jsonData(keyOrder: JSONKeyOrder = .document, prettyPrinted: Bool = false) -> Data {
    Data(jsonBytes(keyOrder: keyOrder, prettyPrinted: prettyPrinted))
  }

  /// The value as JSON text; see ``jsonData(keyOrder:prettyPrinted:)``.
  public func jsonText(keyOrder: JSONKeyOrder = .document, prettyPrinted: Bool = false) -> String {
    String(decoding: jsonBytes(keyOrder: keyOrder, prettyPrinted: prettyPrinted), as: UTF8.self)
  }

  func jsonBytes(keyOrder: JSONKeyOrder, prettyPrinted: Bool) -> [UInt8] {
    var writer = JSONWriter(keyOrder: keyOrder, pretty: prettyPrinted)
    writer.write(self, depth: 0)
    return writer.bytes
  }

  /// A finite double as JSON number text (`1000.0`, `0.5`, `1e+16`); `null` otherwise.
  static func format(_ number: Double) -> String {
    number.isFinite ? number.description : "null"
  }
}

private struct JSONWriter {
  let keyOrder: JSONKeyOrder
  let pretty: Bool
  var bytes: [UInt8] = []

  init(keyOrder: JSONKeyOrder, pretty: Bool) {
    self.keyOrder = keyOrder
    self.pretty = pretty
  }

  mutating func write(_ value: JSONValue, depth: Int) {
    switch value {
    case .null: append("null")
    case .bool(let flag): append(flag ? "true" : "false")
    case .int(let number): append(String(number))
    case .double(let number): append(JSONValue.format(number))
    case .string(let text): writeString(text)
    case .array(let items):
      guard !items.isEmpty else { return append("[]") }
      bytes.append(UInt8(ascii: "["))
      for (offset, item) in items.enumerated() {
        if offset > 0 { bytes.append(UInt8(ascii: ",")) }
        newline(depth + 1)
        write(item, depth: depth + 1)
      }
      newline(depth)
      bytes.append(UInt8(ascii: "]"))
    case .object(let object):
      guard !object.isEmpty else { return append("{}") }
      let keys =
        keyOrder == .sorted ? object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } : object.keys
      bytes.append(UInt8(ascii: "{"))
      for (offset, key) in keys.enumerated() {
        if offset > 0 { bytes.append(UInt8(ascii: ",")) }
        newline(depth + 1)
        writeString(key)
        append(pretty ? ": " : ":")
        write(object[key]!, depth: depth + 1)
      }
      newline(depth)
      bytes.append(UInt8(ascii: "}"))
    }
  }

  mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

  mutating func newline(_ depth: Int) {
    guard pretty else { return }
    bytes.append(UInt8(ascii: "\n"))
    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
  }

  mutating func writeString(_ text: String) {
    let hex = Array("0123456789abcdef".utf8)
    bytes.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): append("\\\"")
      case UInt8(ascii: "\\"): append("\\\\")
      case UInt8(ascii: "\n"): append("\\n")
      case UInt8(ascii: "\r"): append("\\r")
      case UInt8(ascii: "\t"): append("\\t")
      case 0x08: append("\\b")
      case 0x0C: append("\\f")
      case 0..<0x20: bytes.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }
}
