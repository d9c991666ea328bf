import Foundation

/// A JSON value as the Model sees it: the input of ``ResourceDecoder`` (the YAML module produces
/// these too), the free-form `accessEntries[].scope`, and the basis of ``CanonicalJSON``.
///
/// Integers and fractional numbers are kept apart (`.int` / `.double`), so `8080` stays exact and
/// a port written as `80.5` can be reported as "expected integer". Object keys are unordered;
/// everything that prints or hashes a node sorts them.
public enum JSONNode: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONNode])
  case object([String: JSONNode])

  /// A short name of the value's JSON type for error messages: `string`, `integer`, `number`,
  /// `boolean`, `array`, `object`, `null`.
  public var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "boolean"
    case .int: "integer"
    case .double: "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
  }

  /// The value's type plus, for scalars, the value itself: `string "8080"`, `integer 5`.
  var typeAndValue: String {
    switch self {
    case .null: return "null"
    case .bool(let value): return "boolean \(value)"
    case .int(let value): return "integer \(value)"
    case .double(let value): return "number \(CanonicalJSON.format(value))"
    case .string(let value):
      let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
      return "string \(CanonicalJSON.quote(shown))"
    case .array: return "array"
    case .object: return "object"
    }
  }

  /// The members of an object, else `nil`.
  public var objectValue: [String: JSONNode]? {
    if case .object(let members) = self { return members }
    return nil
  }

  /// The text of a string, else `nil`.
  public var stringValue: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  /// The member `key` of an object (`nil` for other values or a missing key).
  public subscript(key: String) -> JSONNode? {
    objectValue?[key]
  }
}

// MARK: - Codable

extension JSONNode: Codable {
  public init(from decoder: any Decoder) throws {
    if let strict = decoder as? StrictDecoder {
      self = strict.node ?? .null
      return
    }
    if let tree = decoder as? NodeDecoderState {
      self = tree.node
      return
    }
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int64.self) {
      self = .int(value)
    } else if let value = try? container.decode(Double.self) {
      self = .double(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONNode].self) {
      self = .array(value)
    } else if let value = try? container.decode([String: JSONNode].self) {
      self = .object(value)
    } else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a JSON value")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .int(let value): try container.encode(value)
    case .double(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}

// MARK: - Literals

extension JSONNode: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
  ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int64) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONNode...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONNode)...) {
    self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
  }
}
