#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// Any JSON value, for the free-form parts of the wire protocols (`capabilities`, `config`,
/// a runtime's `spec`, `supports`, error `details`, …).
///
/// Numbers are stored as `Double`, so integers are exact up to 2^53. Whole numbers in that range
/// are encoded without a fractional part (`8080`, not `8080.0`). Object keys are unordered;
/// ``WireJSON`` encodes them sorted, so output is deterministic.
public enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])
}

extension JSONValue: Codable {
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else if let value = try? container.decode([String: JSONValue].self) {
      self = .object(value)
    } else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "expected a JSON value")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .number(let value):
      if let exact = Int64(exactly: value), abs(exact) <= (1 << 53) {
        try container.encode(exact)
      } else {
        try container.encode(value)
      }
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .number(Double(value)) }
  public init(floatLiteral value: Double) { self = .number(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
  }
}

// MARK: - Accessors

extension JSONValue {
  /// The member `key` of an object, or nil if this is not an object or has no such member.
  public subscript(key: String) -> JSONValue? {
    if case .object(let members) = self { return members[key] }
    return nil
  }

  /// The element at `index` of an array, or nil if out of range or not an array.
  public subscript(index: Int) -> JSONValue? {
    if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
    return nil
  }

  /// True for `null`.
  public var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// The string, if this is a string.
  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// The boolean, if this is a boolean.
  public var boolValue: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  /// The number, if this is a number.
  public var doubleValue: Double? {
    if case .number(let value) = self { return value }
    return nil
  }

  /// The number as an `Int`, if this is a number with no fractional part that fits.
  public var intValue: Int? {
    if case .number(let value) = self { return Int(exactly: value) }
    return nil
  }

  /// The elements, if this is an array.
  public var arrayValue: [JSONValue]? {
    if case .array(let value) = self { return value }
    return nil
  }

  /// The members, if this is an object.
  public var objectValue: [String: JSONValue]? {
    if case .object(let value) = self { return value }
    return nil
  }

  /// The JSON type name of this value (`"null"`, `"boolean"`, `"number"`, `"string"`,
  /// `"array"`, `"object"`), for error messages.
  public var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "boolean"
    case .number: "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
  }
}

// MARK: - Conversions

extension JSONValue {
  /// Parses JSON text. An empty buffer is an error here (unlike ``WireJSON/decode(_:from:)``,
  /// which reads it as `{}`).
  /// - Throws: `DecodingError` for malformed JSON (with the line and column);
  ///   ``WireJSON/describe(_:)`` renders it.
  public init(jsonData: Data) throws {
    guard !jsonData.isEmpty else {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(codingPath: [], debugDescription: "empty input"))
    }
    self = try WireJSON.decode(JSONValue.self, from: jsonData)
  }

  /// Converts any `Encodable` value into a `JSONValue` (by encoding and re-parsing it).
  public init<T: Encodable>(encoding value: T) throws {
    self = try JSONValue(jsonData: WireJSON.encode(value))
  }

  /// Decodes a typed value from this JSON value (by encoding and re-parsing it).
  /// - Throws: `DecodingError`; ``WireJSON/describe(_:)`` renders it with the field path.
  public func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try WireJSON.decode(type, from: WireJSON.encode(self))
  }

  /// The JSON text of this value, with sorted object keys.
  public func jsonData() throws -> Data {
    try WireJSON.encode(self)
  }

  /// The JSON text of this value as a `String`, with sorted object keys.
  public var jsonString: String {
    guard let data = try? WireJSON.encode(self) else { return "null" }
    return String(decoding: data, as: UTF8.self)
  }
}

extension JSONValue: CustomStringConvertible {
  public var description: String { jsonString }
}
