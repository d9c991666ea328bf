import Foundation

/// Decodes any `Decodable` value from a ``JSONNode``, throwing on the first problem as
/// `JSONDecoder` does (``ResourceDecoder`` is the one that collects every problem, for user input).
///
/// Why: the store's documents are read back on every reconcile and every replace; `JSONDecoder`
/// parsed their text into its own tree first and cost about 4 % of a reconcile's CPU in the apply
/// benchmark (BM1, `Benchmarks/RESULTS.md`). Reading the text with ``JSONNode/parse(_:)`` and
/// decoding that tree gives the same values (`Tests/ModelTests/NodeDecoderTests.swift` checks
/// every kind against `JSONDecoder`).
///
/// Rules, as `JSONDecoder`'s defaults: a missing key is `keyNotFound`, `null` for a non-optional
/// is `valueNotFound`, a value of the wrong JSON type is `typeMismatch`; integers must be exact
/// and in range (an integral `2.0` counts as `2`); `Data` is base64, `URL` a string. Unknown keys
/// are ignored.
///
/// Threading: no shared state; use from any thread.
public enum NodeDecoder {
  /// `type` decoded from `node`.
  /// - Throws: `DecodingError` with the coding path of the offending value.
  public static func decode<T: Decodable>(_ type: T.Type, from node: JSONNode) throws -> T {
    try NodeDecoderState(node: node, codingPath: []).value(T.self)
  }

  /// `type` decoded from JSON text (parsed with ``JSONNode/parse(_:)``).
  /// - Throws: ``JSONSyntaxError`` for text that is not JSON, else as ``decode(_:from:)-(_,JSONNode)``.
  public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    try decode(type, from: JSONNode.parse(data))
  }
}

/// The `Decoder` handed to a value's `init(from:)`: one node and where it is.
struct NodeDecoderState: Decoder {
  let node: JSONNode
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func value<T: Decodable>(_ type: T.Type) throws -> T {
    // Metatype comparisons for the scalars (cheaper than dynamic casts), then `init(from:)`.
    if T.self == String.self { return try string() as! T }
    if T.self == Bool.self { return try bool() as! T }
    if T.self == Int.self { return try integer(Int.self) as! T }
    if T.self == Int64.self { return try integer(Int64.self) as! T }
    if T.self == Double.self { return try double() as! T }
    if T.self == JSONNode.self { return node as! T }
    if T.self == Data.self {
      guard let data = Data(base64Encoded: try string()) else {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "not valid base64"))
      }
      return data as! T
    }
    if T.self == URL.self {
      guard let url = URL(string: try string()) else {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "not a valid URL"))
      }
      return url as! T
    }
    return try T(from: self)
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .object(let members) = node else { throw mismatch([String: JSONNode].self, "an object") }
    return KeyedDecodingContainer(NodeKeyedDecodingContainer<Key>(members: members, codingPath: codingPath))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .array(let elements) = node else { throw mismatch([JSONNode].self, "an array") }
    return NodeUnkeyedDecodingContainer(elements: elements, codingPath: codingPath)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer { NodeSingleValueDecodingContainer(decoder: self) }

  // MARK: Scalars

  func string() throws -> String {
    guard case .string(let text) = node else { throw mismatch(String.self, "a string") }
    return text
  }

  func bool() throws -> Bool {
    guard case .bool(let flag) = node else { throw mismatch(Bool.self, "a boolean") }
    return flag
  }

  func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
    switch node {
    case .int(let value):
      if let exact = I(exactly: value) { return exact }
    case .double(let value):
      if value.rounded() == value, let exact = I(exactly: value) { return exact }
    default:
      throw mismatch(I.self, "an integer")
    }
    throw DecodingError.dataCorrupted(.init(codingPath: codingPath,
      debugDescription: "the number \(node.typeAndValue) does not fit in \(I.self)"))
  }

  func double() throws -> Double {
    switch node {
    case .int(let value): return Double(value)
    case .double(let value): return value
    default: throw mismatch(Double.self, "a number")
    }
  }

  func mismatch(_ type: Any.Type, _ expected: String) -> DecodingError {
    if node == .null {
      return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found null"))
    }
    return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(node.typeName)"))
  }
}

private struct NodeKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let members: [String: JSONNode]
  let codingPath: [any CodingKey]

  var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

  func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

  private func child(_ key: Key) throws -> NodeDecoderState {
    guard let node = members[key.stringValue] else {
      throw DecodingError.keyNotFound(key, .init(codingPath: codingPath,
        debugDescription: "no value for the key \(key.stringValue)"))
    }
    return NodeDecoderState(node: node, codingPath: codingPath + [key])
  }

  func decodeNil(forKey key: Key) throws -> Bool { try child(key).node == .null }

  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).bool() }
  func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).string() }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).double() }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try child(key).double()) }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).integer(type) }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).integer(type) }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).integer(type) }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).integer(type) }
  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).integer(type) }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).integer(type) }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).integer(type) }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).integer(type) }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).integer(type) }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).integer(type) }
  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).value(type) }

  // The optional forms, without the default's `contains` + `decodeNil` + `decode` lookups.
  func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
    guard let node = members[key.stringValue], node != .null else { return nil }
    if case .string(let text) = node { return text }
    return try NodeDecoderState(node: node, codingPath: codingPath + [key]).string()
  }
  func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
    guard let node = members[key.stringValue], node != .null else { return nil }
    return try NodeDecoderState(node: node, codingPath: codingPath + [key]).bool()
  }
  func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
    guard let node = members[key.stringValue], node != .null else { return nil }
    return try NodeDecoderState(node: node, codingPath: codingPath + [key]).integer(type)
  }
  func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
    guard let node = members[key.stringValue], node != .null else { return nil }
    return try NodeDecoderState(node: node, codingPath: codingPath + [key]).integer(type)
  }
  func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
    guard let node = members[key.stringValue], node != .null else { return nil }
    return try NodeDecoderState(node: node, codingPath: codingPath + [key]).value(type)
  }

  func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try child(key).container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try child(key).unkeyedContainer()
  }

  func superDecoder() throws -> any Decoder {
    NodeDecoderState(node: members["super"] ?? .null, codingPath: codingPath)
  }

  func superDecoder(forKey key: Key) throws -> any Decoder {
    NodeDecoderState(node: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
  }
}

private struct NodeUnkeyedDecodingContainer: UnkeyedDecodingContainer {
  let elements: [JSONNode]
  let codingPath: [any CodingKey]
  var currentIndex = 0

  init(elements: [JSONNode], codingPath: [any CodingKey]) {
    self.elements = elements
    self.codingPath = codingPath
  }

  var count: Int? { elements.count }
  var isAtEnd: Bool { currentIndex >= elements.count }

  private mutating func next(_ type: Any.Type) throws -> NodeDecoderState {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "the array has no more elements"))
    }
    defer { currentIndex += 1 }
    return NodeDecoderState(node: elements[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)])
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd, elements[currentIndex] == .null else { return false }
    currentIndex += 1
    return true
  }

  mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).bool() }
  mutating func decode(_ type: String.Type) throws -> String { try next(type).string() }
  mutating func decode(_ type: Double.Type) throws -> Double { try next(type).double() }
  mutating func decode(_ type: Float.Type) throws -> Float { Float(try next(type).double()) }
  mutating func decode(_ type: Int.Type) throws -> Int { try next(type).integer(type) }
  mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type).integer(type) }
  mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type).integer(type) }
  mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type).integer(type) }
  mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).integer(type) }
  mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).integer(type) }
  mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).integer(type) }
  mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).integer(type) }
  mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).integer(type) }
  mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).integer(type) }
  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).value(type) }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
    try next(type).container(keyedBy: type)
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    try next([JSONNode].self).unkeyedContainer()
  }

  mutating func superDecoder() throws -> any Decoder { try next(JSONNode.self) }
}

private struct NodeSingleValueDecodingContainer: SingleValueDecodingContainer {
  let decoder: NodeDecoderState
  var codingPath: [any CodingKey] { decoder.codingPath }

  func decodeNil() -> Bool { decoder.node == .null }
  func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool() }
  func decode(_ type: String.Type) throws -> String { try decoder.string() }
  func decode(_ type: Double.Type) throws -> Double { try decoder.double() }
  func decode(_ type: Float.Type) throws -> Float { Float(try decoder.double()) }
  func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type) }
  func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type) }
  func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type) }
  func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type) }
  func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type) }
  func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type) }
  func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.value(type) }
}

/// An array position in a coding path.
private struct IndexKey: CodingKey {
  let intValue: Int?
  var stringValue: String { "Index \(intValue ?? 0)" }

  init(_ index: Int) { intValue = index }
  init?(stringValue: String) { return nil }
  init?(intValue: Int) { self.intValue = intValue }
}
