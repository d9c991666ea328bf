import Foundation

/// Encodes any `Encodable` value straight into a ``JSONNode`` or straight into canonical JSON
/// bytes: no JSON text is parsed back, and the bytes are written without building a tree.
///
/// Why: canonical JSON (spec hashes, spec comparison) and the store's spec and status documents
/// are built for every write and every reconcile. Going through `JSONEncoder` meant building
/// Foundation's own tree, writing it out as text and parsing that text again — about a tenth of
/// a reconcile's CPU in the apply benchmark (BM1, `Benchmarks/RESULTS.md`). Building a
/// ``JSONNode`` first and writing it then was still ~7 % of the host's CPU there (a dictionary per
/// object, hashed twice, and a coding path array per member); the byte forms now write the
/// containers' members directly, sorted once, and coding paths are built only when asked for.
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
    try box(value, parent: nil, key: nil).node
  }

  /// The value as compact JSON text with object keys sorted by their UTF-8 bytes, `null` members
  /// and empty containers kept (unlike ``CanonicalJSON``, which drops them), strings with the
  /// minimal escapes and integral numbers that fit in `Int64` as integers: the store's canonical
  /// form (Store's `CanonicalJSON`), byte for byte, so the store can take it without parsing it
  /// again (`Tests/ModelTests/NodeEncoderTests.swift` and the store's debug check hold it to that).
  /// - Throws: `EncodingError.invalidValue` for NaN or infinite numbers.
  public static func jsonBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(512)
    _ = try box(value, parent: nil, key: nil).write(to: &output, form: .stored)
    return output
  }

  /// ``CanonicalJSON``'s bytes of the value (`null` members and empty containers left out;
  /// `{}` when nothing is left), written without building a tree.
  /// - Throws: `EncodingError.invalidValue` for NaN or infinite numbers.
  static func canonicalBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(256)
    if try !box(value, parent: nil, key: nil).write(to: &output, form: .canonical) {
      output.append(contentsOf: "{}".utf8)
    }
    return output
  }

  /// One value: scalars directly, anything else through its `encode(to:)` into an encoder whose
  /// containers are written out later (``Part/node`` or ``Part/write(to:form:)``).
  fileprivate static func box<T: Encodable>(_ value: T, parent: PathLink?, key: (any CodingKey)?) throws -> Part {
    // Metatype comparisons, not `as?` casts: a failed dynamic cast per candidate type cost more
    // than the encoding itself for the Model's structs.
    if T.self == String.self { return .node(.string(value as! String)) }
    if T.self == Bool.self { return .node(.bool(value as! Bool)) }
    if T.self == Int.self { return .node(.int(Int64(value as! Int))) }
    if T.self == Int64.self { return .node(.int(value as! Int64)) }
    if T.self == Double.self { return .node(try node(value as! Double, at: { PathLink.path(parent, key) })) }
    if T.self == JSONNode.self { return .node(value as! JSONNode) }
    if T.self == Data.self { return .node(.string((value as! Data).base64EncodedString())) }
    if T.self == URL.self { return .node(.string((value as! URL).absoluteString)) }
    if T.self == Decimal.self {
      return .node(try node(Double((value as! Decimal).description) ?? .nan, at: { PathLink.path(parent, key) }))
    }
    let encoder = NodeEncoderState(parent: parent, key: key)
    try value.encode(to: encoder)
    return .encoder(encoder)
  }

  /// `path` is called only to report a non-finite value.
  static func node(_ value: Double, at path: () -> [any CodingKey]) throws -> JSONNode {
    guard value.isFinite else {
      throw EncodingError.invalidValue(value, EncodingError.Context(
        codingPath: path(), debugDescription: "\(value) is not representable in JSON"))
    }
    return .double(value)
  }

  static func node<N: BinaryInteger>(integer value: N) -> JSONNode {
    if let exact = Int64(exactly: value) { return .int(exact) }
    return .double(Double(value))
  }
}

/// A coding path as an immutable linked list, built only for values that are themselves
/// containers' parents and read only when someone asks for `codingPath` (an error, or a type's
/// own `encode(to:)` that looks at it).
private final class PathLink {
  let parent: PathLink?
  let key: any CodingKey

  init(parent: PathLink?, key: any CodingKey) {
    self.parent = parent
    self.key = key
  }

  var path: [any CodingKey] {
    var keys: [any CodingKey] = []
    var link: PathLink? = self
    while let current = link {
      keys.append(current.key)
      link = current.parent
    }
    return keys.reversed()
  }

  static func path(_ parent: PathLink?, _ key: (any CodingKey)?) -> [any CodingKey] {
    (parent?.path ?? []) + (key.map { [$0] } ?? [])
  }

  static func extending(_ parent: PathLink?, _ key: (any CodingKey)?) -> PathLink? {
    guard let key else { return parent }
    return PathLink(parent: parent, key: key)
  }
}

/// The two byte forms: the store's (everything kept) and ``CanonicalJSON``'s (pruned).
private enum ByteForm {
  case stored
  case canonical
}

/// What one encoder (one value) has been given: nothing yet, a single value, or a container
/// that later writes (nested containers, super encoders) still add to.
private enum Content {
  case empty
  case single(Part)
  case object(ObjectBuilder)
  case array(ArrayBuilder)
}

/// A member or element: a finished scalar (or a ``JSONNode`` value), or a container still being
/// filled.
private enum Part {
  case node(JSONNode)
  case object(ObjectBuilder)
  case array(ArrayBuilder)
  case encoder(NodeEncoderState)

  var node: JSONNode {
    switch self {
    case .node(let node): node
    case .object(let object): object.node
    case .array(let array): array.node
    case .encoder(let encoder): encoder.content.node
    }
  }

  /// Appends the value in `form`; in the canonical form, false (and nothing appended) when it
  /// prunes to nothing.
  func write(to output: inout [UInt8], form: ByteForm) -> Bool {
    switch self {
    case .node(let node):
      switch form {
      case .stored:
        CanonicalJSON.write(node, to: &output, integralDoubles: .withinInt64)
      case .canonical:
        guard let pruned = node.pruned else { return false }
        CanonicalJSON.write(pruned, to: &output)
      }
      return true
    case .object(let object): return object.write(to: &output, form: form)
    case .array(let array): return array.write(to: &output, form: form)
    case .encoder(let encoder): return encoder.content.write(to: &output, form: form)
    }
  }
}

extension Content {
  /// A value that asked for no container encodes as `{}`, as with `JSONEncoder`.
  var node: JSONNode {
    switch self {
    case .empty: .object([:])
    case .single(let part): part.node
    case .object(let object): object.node
    case .array(let array): array.node
    }
  }

  func write(to output: inout [UInt8], form: ByteForm) -> Bool {
    switch self {
    case .empty:
      if form == .canonical { return false }
      output.append(contentsOf: "{}".utf8)
      return true
    case .single(let part): return part.write(to: &output, form: form)
    case .object(let object): return object.write(to: &output, form: form)
    case .array(let array): return array.write(to: &output, form: form)
    }
  }
}

/// An object's members in the order they were encoded; a key encoded twice keeps its last value
/// (as a dictionary would).
private final class ObjectBuilder {
  var keys: [String] = []
  var parts: [Part] = []

  func set(_ key: String, _ part: Part) {
    keys.append(key)
    parts.append(part)
  }

  var node: JSONNode {
    var result: [String: JSONNode] = [:]
    result.reserveCapacity(keys.count)
    for index in keys.indices { result[keys[index]] = parts[index].node }
    return .object(result)
  }

  func write(to output: inout [UInt8], form: ByteForm) -> Bool {
    let start = output.count
    output.append(UInt8(ascii: "{"))
    var written = 0
    // Sorted by the keys' UTF-8 bytes, equal keys in encoding order (the last one wins).
    var order = Array(keys.indices)
    if order.count > 1 {
      order.sort { left, right in
        let order = CanonicalJSON.compareUTF8(keys[left], keys[right])
        return order != 0 ? order < 0 : left < right
      }
    }
    for (position, index) in order.enumerated() {
      if position + 1 < order.count, CanonicalJSON.compareUTF8(keys[order[position + 1]], keys[index]) == 0 { continue }
      let mark = output.count
      if written > 0 { output.append(UInt8(ascii: ",")) }
      CanonicalJSON.appendQuoted(keys[index], to: &output)
      output.append(UInt8(ascii: ":"))
      if parts[index].write(to: &output, form: form) {
        written += 1
      } else {
        output.removeSubrange(mark...)
      }
    }
    if written == 0 && form == .canonical {
      output.removeSubrange(start...)
      return false
    }
    output.append(UInt8(ascii: "}"))
    return true
  }
}

private final class ArrayBuilder {
  var elements: [Part] = []

  var node: JSONNode { .array(elements.map(\.node)) }

  func write(to output: inout [UInt8], form: ByteForm) -> Bool {
    // Canonical: an empty array is left out; an element that prunes to nothing becomes `null`
    // (positions never shift).
    if elements.isEmpty && form == .canonical { return false }
    output.append(UInt8(ascii: "["))
    for (offset, element) in elements.enumerated() {
      if offset > 0 { output.append(UInt8(ascii: ",")) }
      if !element.write(to: &output, form: form) { output.append(contentsOf: "null".utf8) }
    }
    output.append(UInt8(ascii: "]"))
    return true
  }
}

/// The `Encoder` handed to a value's `encode(to:)`.
private final class NodeEncoderState: Encoder {
  /// This value's coding path is `parent` + `key` (no key: the top level or a single-value
  /// container's value, which shares its encoder's path).
  let parent: PathLink?
  let key: (any CodingKey)?
  private var ownLink: PathLink?
  var userInfo: [CodingUserInfoKey: Any] { [:] }
  var content = Content.empty

  init(parent: PathLink?, key: (any CodingKey)?) {
    self.parent = parent
    self.key = key
  }

  /// This value's path as a link, made once, when a member needs it as its parent.
  var link: PathLink? {
    guard let key else { return parent }
    if let ownLink { return ownLink }
    let made = PathLink(parent: parent, key: key)
    ownLink = made
    return made
  }

  var codingPath: [any CodingKey] { link?.path ?? [] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    let object: ObjectBuilder
    if case .object(let existing) = content {
      object = existing
    } else {
      object = ObjectBuilder()
      content = .object(object)
    }
    return KeyedEncodingContainer(NodeKeyedContainer<Key>(object: object, location: .encoder(self)))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    let array: ArrayBuilder
    if case .array(let existing) = content {
      array = existing
    } else {
      array = ArrayBuilder()
      content = .array(array)
    }
    return NodeUnkeyedContainer(array: array, location: .encoder(self))
  }

  func singleValueContainer() -> any SingleValueEncodingContainer { NodeSingleValueContainer(encoder: self) }
}

/// Where a container sits: directly in an encoder (its path is the encoder's), or nested in
/// another container (its own link).
private enum ContainerLocation {
  case encoder(NodeEncoderState)
  case nested(PathLink?)

  var link: PathLink? {
    switch self {
    case .encoder(let encoder): encoder.link
    case .nested(let link): link
    }
  }
}

private struct NodeKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let object: ObjectBuilder
  let location: ContainerLocation

  var codingPath: [any CodingKey] { location.link?.path ?? [] }

  private func set(_ node: JSONNode, _ key: Key) { object.set(key.stringValue, .node(node)) }

  mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
  mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
  mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
  mutating func encode(_ value: Double, forKey key: Key) throws {
    set(try NodeEncoder.node(value, at: { codingPath + [key] }), key)
  }
  mutating func encode(_ value: Float, forKey key: Key) throws {
    set(try NodeEncoder.node(Double(value), at: { codingPath + [key] }), key)
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
    object.set(key.stringValue, try NodeEncoder.box(value, parent: location.link, key: key))
  }

  // The optional scalars directly: the protocol's defaults reach the same `encode` through one
  // more generic hop each, and every Model type has many optional members.
  mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
    if let value { set(.string(value), key) }
  }
  mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
    if let value { set(.bool(value), key) }
  }
  mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
    if let value { set(.int(Int64(value)), key) }
  }
  mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
    if let value { set(.int(value), key) }
  }
  mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
    if let value { try encode(value, forKey: key) }
  }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
    -> KeyedEncodingContainer<NestedKey>
  {
    let nested = ObjectBuilder()
    object.set(key.stringValue, .object(nested))
    return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(
      object: nested, location: .nested(PathLink.extending(location.link, key))))
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    let nested = ArrayBuilder()
    object.set(key.stringValue, .array(nested))
    return NodeUnkeyedContainer(array: nested, location: .nested(PathLink.extending(location.link, key)))
  }

  mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
  mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

  private func superEncoder(named name: String) -> any Encoder {
    let encoder = NodeEncoderState(parent: location.link, key: NodeCodingKey(name))
    object.set(name, .encoder(encoder))
    return encoder
  }
}

private struct NodeUnkeyedContainer: UnkeyedEncodingContainer {
  let array: ArrayBuilder
  let location: ContainerLocation
  var count: Int { array.elements.count }

  var codingPath: [any CodingKey] { location.link?.path ?? [] }
  private var nextKey: NodeCodingKey { NodeCodingKey(index: array.elements.count) }
  private var nextPath: [any CodingKey] { codingPath + [nextKey] }
  private func append(_ node: JSONNode) { array.elements.append(.node(node)) }

  mutating func encodeNil() throws { append(.null) }
  mutating func encode(_ value: Bool) throws { append(.bool(value)) }
  mutating func encode(_ value: String) throws { append(.string(value)) }
  mutating func encode(_ value: Double) throws { append(try NodeEncoder.node(value, at: { nextPath })) }
  mutating func encode(_ value: Float) throws { append(try NodeEncoder.node(Double(value), at: { nextPath })) }
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
  mutating func encode<T: Encodable>(_ value: T) throws {
    array.elements.append(try NodeEncoder.box(value, parent: location.link, key: nextKey))
  }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
    let link = PathLink.extending(location.link, nextKey)
    let nested = ObjectBuilder()
    array.elements.append(.object(nested))
    return KeyedEncodingContainer(NodeKeyedContainer<NestedKey>(object: nested, location: .nested(link)))
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    let link = PathLink.extending(location.link, nextKey)
    let nested = ArrayBuilder()
    array.elements.append(.array(nested))
    return NodeUnkeyedContainer(array: nested, location: .nested(link))
  }

  mutating func superEncoder() -> any Encoder {
    let encoder = NodeEncoderState(parent: location.link, key: nextKey)
    array.elements.append(.encoder(encoder))
    return encoder
  }
}

private struct NodeSingleValueContainer: SingleValueEncodingContainer {
  let encoder: NodeEncoderState
  var codingPath: [any CodingKey] { encoder.codingPath }

  private func set(_ node: JSONNode) { encoder.content = .single(.node(node)) }

  mutating func encodeNil() throws { set(.null) }
  mutating func encode(_ value: Bool) throws { set(.bool(value)) }
  mutating func encode(_ value: String) throws { set(.string(value)) }
  mutating func encode(_ value: Double) throws { set(try NodeEncoder.node(value, at: { codingPath })) }
  mutating func encode(_ value: Float) throws { set(try NodeEncoder.node(Double(value), at: { codingPath })) }
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
  mutating func encode<T: Encodable>(_ value: T) throws {
    // The wrapped value has this container's path (no key of its own).
    encoder.content = .single(try NodeEncoder.box(value, parent: encoder.link, key: nil))
  }
}

/// A coding key for array positions and super encoders in coding paths. An index's string is
/// made only when read (every array element has a key, almost none is ever looked at).
private struct NodeCodingKey: CodingKey {
  private let name: String?
  let intValue: Int?

  init(_ name: String) {
    self.name = name
    intValue = nil
  }

  init(index: Int) {
    name = nil
    intValue = index
  }

  var stringValue: String { name ?? "Index \(intValue ?? 0)" }

  init?(stringValue: String) { self.init(stringValue) }
  init?(intValue: Int) { self.init(index: intValue) }
}
