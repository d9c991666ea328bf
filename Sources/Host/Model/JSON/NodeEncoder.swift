import Foundation

/// Encodes any `Encodable` value straight into a ``JSONNode``: no JSON text is written and none
/// is parsed back.
///
/// Why: canonical JSON (spec hashes, spec comparison) and the store's spec and status documents
/// are built for every write and every reconcile. Going through `JSONEncoder` meant building
/// Foundation's own tree, writing it out as text and parsing that text again — about a tenth of
/// a reconcile's CPU in the apply benchmark (BM1, `Benchmarks/RESULTS.md`).
///
/// The result is the node `JSONEncoder` (default strategies) followed by ``JSONNode/parse(_:)``
/// gives, up to how a number is tagged (`2.0` stays `.double`; the parser would read `2`), which
/// no canonical form can tell apart. Foundation's special cases are kept: `Data` as base64,
/// `URL` as its absolute string, `Decimal` and non-`Int64` integers as numbers. Non-finite
/// floating-point values throw `EncodingError.invalidValue`, as `JSONEncoder` does.
/// `Tests/ModelTests/NodeEncoderTests.swift` compares both on random resources of every kind.
///
/// Threading: a value type with no shared state; use from any thread.
public enum NodeEncoder {
  /// The value as a JSON tree.
  /// - Throws: `EncodingError.invalidValue` for NaN or infinite numbers.
  public static func encode<T: Encodable>(_ value: T) throws -> JSONNode {
    try box(value, at: [])
  }

  /// The value as compact JSON text with object keys sorted by their UTF-8 bytes, `null` members
  /// and empty containers kept (unlike ``CanonicalJSON``, which drops them), strings with the
  /// minimal escapes and integral numbers that fit in `Int64` as integers: the store's canonical
  /// form (Store's `CanonicalJSON`), byte for byte, so the store can take it without parsing it
  /// again (`Tests/ModelTests/NodeEncoderTests.swift` and the store's debug check hold it to that).
  /// - Throws: `EncodingError.invalidValue` for NaN or infinite numbers.
  public static func jsonBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
    var output: [UInt8] = []
    CanonicalJSON.write(try encode(value), to: &output, integralDoubles: .withinInt64)
    return output
  }

  /// One value as a node: scalars directly, anything else through its `encode(to:)`.
  static func box<T: Encodable>(_ value: T, at path: [any CodingKey]) throws -> JSONNode {
    // Metatype comparisons, not `as?` casts: a failed dynamic cast per candidate type cost more
    // than the encoding itself for the Model's structs.
    if T.self == String.self { return .string(value as! String) }
    if T.self == Bool.self { return .bool(value as! Bool) }
    if T.self == Int.self { return .int(Int64(value as! Int)) }
    if T.self == Int64.self { return .int(value as! Int64) }
    if T.self == Double.self { return try node(value as! Double, at: path) }
    if T.self == JSONNode.self { return value as! JSONNode }
    if T.self == Data.self { return .string((value as! Data).base64EncodedString()) }
    if T.self == URL.self { return .string((value as! URL).absoluteString) }
    if T.self == Decimal.self { return try node(Double((value as! Decimal).description) ?? .nan, at: path) }
    let encoder = NodeEncoderState(codingPath: path)
    try value.encode(to: encoder)
    return encoder.finish()
  }

  static func node(_ value: Double, at path: [any CodingKey]) throws -> JSONNode {
    guard value.isFinite else {
      throw EncodingError.invalidValue(value, EncodingError.Context(
        codingPath: path, debugDescription: "\(value) is not representable in JSON"))
    }
    return .double(value)
  }

  static func node<N: BinaryInteger>(integer value: N) -> JSONNode {
    if let exact = Int64(exactly: value) { return .int(exact) }
    return .double(Double(value))
  }
}

/// What one encoder (one value) has been given: nothing yet, a single value, or a container
/// that later writes (nested containers, super encoders) still add to.
private enum Content {
  case empty
  case single(JSONNode)
  case object(ObjectBuilder)
  case array(ArrayBuilder)
}

/// A member or element: finished, or a container still being filled.
private enum Part {
  case node(JSONNode)
  case object(ObjectBuilder)
  case array(ArrayBuilder)
  case encoder(NodeEncoderState)

  var finished: JSONNode {
    switch self {
    case .node(let node): node
    case .object(let object): object.finish()
    case .array(let array): array.finish()
    case .encoder(let encoder): encoder.finish()
    }
  }
}

private final class ObjectBuilder {
  var members: [String: Part] = [:]

  func finish() -> JSONNode {
    var result: [String: JSONNode] = [:]
    result.reserveCapacity(members.count)
    for (key, part) in members { result[key] = part.finished }
    return .object(result)
  }
}

private final class ArrayBuilder {
  var elements: [Part] = []

  func finish() -> JSONNode { .array(elements.map(\.finished)) }
}

/// The `Encoder` handed to a value's `encode(to:)`.
private final class NodeEncoderState: Encoder {
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  var content = Content.empty

  init(codingPath: [any CodingKey]) { self.codingPath = codingPath }

  /// A value that asked for no container encodes as `{}`, as with `JSONEncoder`.
  func finish() -> JSONNode {
    switch content {
    case .empty: .object([:])
    case .single(let node): node
    case .object(let object): object.finish()
    case .array(let array): array.finish()
    }
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    let object: ObjectBuilder
    if case .object(let existing) = content {
      object = existing
    } else {
      object = ObjectBuilder()
      content = .object(object)
    }
    return KeyedEncodingContainer(NodeKeyedContainer<Key>(object: object, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    let array: ArrayBuilder
    if case .array(let existing) = content {
      array = existing
    } else {
      array = ArrayBuilder()
      content = .array(array)
    }
    return NodeUnkeyedContainer(array: array, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer { NodeSingleValueContainer(encoder: self) }
}

private struct NodeKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let object: ObjectBuilder
  let codingPath: [any CodingKey]

  private func set(_ node: JSONNode, _ key: Key) { object.members[key.stringValue] = .node(node) }

  mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
  mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
  mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
  mutating func encode(_ value: Double, forKey key: Key) throws {
    set(try NodeEncoder.node(value, at: codingPath + [key]), key)
  }
  mutating func encode(_ value: Float, forKey key: Key) throws {
    set(try NodeEncoder.node(Double(value), at: codingPath + [key]), key)
  }
  mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
  mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), key) }
  mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), key) }
  mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), key) }
  mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
  mutating func encode(_ value: UInt, forKey key: Key) throws { set(NodeEncoder.node(integer: value), key) }
  mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.int(Int64(value)), key) }
  mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.int(Int64(value)), key) }
  mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.int(Int64(value)), key) }
  mutating func encode(_ value: UInt64, forKey key: Key) throws { set(NodeEncoder.node(integer: value), key) }
  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    set(try NodeEncoder.box(value, at: codingPath + [key]), key)
  }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
    -> KeyedEncodingContainer<NestedKey>
  {
    let nested = ObjectBuilder()
    object.members[key.stringValue] = .object(nested)
    return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(object: nested, codingPath: codingPath + [key]))
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    let nested = ArrayBuilder()
    object.members[key.stringValue] = .array(nested)
    return NodeUnkeyedContainer(array: nested, codingPath: codingPath + [key])
  }

  mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
  mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

  private func superEncoder(named name: String) -> any Encoder {
    let encoder = NodeEncoderState(codingPath: codingPath + [NodeCodingKey(name)])
    object.members[name] = .encoder(encoder)
    return encoder
  }
}

private struct NodeUnkeyedContainer: UnkeyedEncodingContainer {
  let array: ArrayBuilder
  let codingPath: [any CodingKey]
  var count: Int { array.elements.count }

  private var nextPath: [any CodingKey] { codingPath + [NodeCodingKey(index: array.elements.count)] }
  private func append(_ node: JSONNode) { array.elements.append(.node(node)) }

  mutating func encodeNil() throws { append(.null) }
  mutating func encode(_ value: Bool) throws { append(.bool(value)) }
  mutating func encode(_ value: String) throws { append(.string(value)) }
  mutating func encode(_ value: Double) throws { append(try NodeEncoder.node(value, at: nextPath)) }
  mutating func encode(_ value: Float) throws { append(try NodeEncoder.node(Double(value), at: nextPath)) }
  mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
  mutating func encode(_ value: Int8) throws { append(.int(Int64(value))) }
  mutating func encode(_ value: Int16) throws { append(.int(Int64(value))) }
  mutating func encode(_ value: Int32) throws { append(.int(Int64(value))) }
  mutating func encode(_ value: Int64) throws { append(.int(value)) }
  mutating func encode(_ value: UInt) throws { append(NodeEncoder.node(integer: value)) }
  mutating func encode(_ value: UInt8) throws { append(.int(Int64(value))) }
  mutating func encode(_ value: UInt16) throws { append(.int(Int64(value))) }
  mutating func encode(_ value: UInt32) throws { append(.int(Int64(value))) }
  mutating func encode(_ value: UInt64) throws { append(NodeEncoder.node(integer: value)) }
  mutating func encode<T: Encodable>(_ value: T) throws { append(try NodeEncoder.box(value, at: nextPath)) }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
    let path = nextPath
    let nested = ObjectBuilder()
    array.elements.append(.object(nested))
    return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(object: nested, codingPath: path))
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    let path = nextPath
    let nested = ArrayBuilder()
    array.elements.append(.array(nested))
    return NodeUnkeyedContainer(array: nested, codingPath: path)
  }

  mutating func superEncoder() -> any Encoder {
    let encoder = NodeEncoderState(codingPath: nextPath)
    array.elements.append(.encoder(encoder))
    return encoder
  }
}

private struct NodeSingleValueContainer: SingleValueEncodingContainer {
  let encoder: NodeEncoderState
  var codingPath: [any CodingKey] { encoder.codingPath }

  private func set(_ node: JSONNode) { encoder.content = .single(node) }

  mutating func encodeNil() throws { set(.null) }
  mutating func encode(_ value: Bool) throws { set(.bool(value)) }
  mutating func encode(_ value: String) throws { set(.string(value)) }
  mutating func encode(_ value: Double) throws { set(try NodeEncoder.node(value, at: codingPath)) }
  mutating func encode(_ value: Float) throws { set(try NodeEncoder.node(Double(value), at: codingPath)) }
  mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
  mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
  mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
  mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
  mutating func encode(_ value: Int64) throws { set(.int(value)) }
  mutating func encode(_ value: UInt) throws { set(NodeEncoder.node(integer: value)) }
  mutating func encode(_ value: UInt8) throws { set(.int(Int64(value))) }
  mutating func encode(_ value: UInt16) throws { set(.int(Int64(value))) }
  mutating func encode(_ value: UInt32) throws { set(.int(Int64(value))) }
  mutating func encode(_ value: UInt64) throws { set(NodeEncoder.node(integer: value)) }
  mutating func encode<T: Encodable>(_ value: T) throws { set(try NodeEncoder.box(value, at: codingPath)) }
}

/// A coding key for array positions and super encoders in coding paths.
private struct NodeCodingKey: CodingKey {
  let stringValue: String
  let intValue: Int?

  init(_ name: String) {
    stringValue = name
    intValue = nil
  }

  init(index: Int) {
    stringValue = "Index \(index)"
    intValue = index
  }

  init?(stringValue: String) { self.init(stringValue) }
  init?(intValue: Int) { self.init(index: intValue) }
}
