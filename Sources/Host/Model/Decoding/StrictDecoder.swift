import Foundation

/// What one strict decoding pass found: type errors as they happen, and every object it opened
/// (to find the fields nobody asked for once decoding is over).
final class DecodeLog {
  var errors = FieldErrors()
  var visits: [ObjectVisit] = []
}

/// One JSON object that was decoded as a keyed container.
final class ObjectVisit {
  let path: FieldPath
  /// The object's members (its keys are what was written).
  let members: [String: JSONNode]
  /// Every field name the decoding type asked for (present or not), in asking order, repeats
  /// included: the schema of this object. A list, not a set: a type asks for a handful of
  /// fields, and hashing each name was a tenth of a decode.
  var queried: [String] = []
  /// Set when the decoder enumerated the keys: the object is a map (env, labels), not a struct.
  var isMap = false

  init(path: FieldPath, members: [String: JSONNode]) {
    self.path = path
    self.members = members
  }

  var keys: Dictionary<String, JSONNode>.Keys { members.keys }

  /// The fields that were written but never asked for, sorted.
  var unqueriedKeys: [String] {
    guard members.keys.contains(where: { !queried.contains($0) }) else { return [] }
    let asked = Set(queried)
    return members.keys.filter { !asked.contains($0) }.sorted()
  }

  /// The fields the type asked for, sorted, each once.
  var queriedFields: [String] { Set(queried).sorted() }
}

/// A `Decoder` over ``JSONNode`` that never gives up on the first problem.
///
/// A value of the wrong type is recorded in the ``DecodeLog`` (with its path and the expected
/// type) and replaced by a zero value (`""`, `0`, `false`, empty container) so decoding carries on
/// and finds the next problem. A missing or `null` member decodes as absent (optionals `nil`,
/// required fields zero, left to validation to report as required). Every keyed container
/// remembers which keys its type asked for, so unknown fields can be listed afterwards.
struct StrictDecoder: Decoder {
  /// `nil`: the member is absent.
  let node: JSONNode?
  /// The path of the enclosing container; with `last`, this value's path. Kept apart so that a
  /// member's path is built only when needed (an error, a nested container): most members are
  /// scalars that decode fine, and building a path per member was a tenth of a decode.
  let parentPath: FieldPath
  let last: FieldPath.Component?
  let log: DecodeLog
  /// `null` counts as absent for object members, but is a wrong type for array elements.
  var nullIsAbsent = true

  init(node: JSONNode?, path: FieldPath, log: DecodeLog, nullIsAbsent: Bool = true) {
    self.init(node: node, parentPath: path, last: nil, log: log, nullIsAbsent: nullIsAbsent)
  }

  init(node: JSONNode?, parentPath: FieldPath, last: FieldPath.Component?, log: DecodeLog, nullIsAbsent: Bool = true) {
    self.node = node
    self.parentPath = parentPath
    self.last = last
    self.log = log
    self.nullIsAbsent = nullIsAbsent
  }

  /// This value's path.
  var path: FieldPath {
    guard let last else { return parentPath }
    var path = parentPath
    path.append(last)
    return path
  }

  var codingPath: [any CodingKey] { path.components.map(PathCodingKey.init) }
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  /// Whether the node is absent (or `null` where that means absent).
  var isAbsent: Bool {
    guard let node else { return true }
    return node == .null && nullIsAbsent
  }

  /// The same position, seen as absent: used to build a zero value after an error.
  var absent: StrictDecoder { StrictDecoder(node: nil, path: path, log: log) }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    let path = self.path
    let visit: ObjectVisit
    if case .object(let object)? = node {
      visit = ObjectVisit(path: path, members: object)
      log.visits.append(visit)
    } else {
      if !isAbsent, let node { typeError(expected: "object", got: node) }
      visit = ObjectVisit(path: path, members: [:])
    }
    return KeyedDecodingContainer(StrictKeyedContainer<Key>(members: visit.members, visit: visit, decoder: self, path: path))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    var elements: [JSONNode] = []
    if case .array(let array)? = node {
      elements = array
    } else if !isAbsent, let node {
      typeError(expected: "array", got: node)
    }
    return StrictUnkeyedContainer(elements: elements, decoder: self, path: path)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    StrictSingleValueContainer(decoder: self)
  }

  // MARK: Values

  /// Decodes any `Decodable` at this position; a thrown `DecodingError` (a custom
  /// `init(from:)` rejecting a value, such as a malformed timestamp) is logged and replaced by
  /// the type's zero value when it has one.
  func value<T: Decodable>(_ type: T.Type) throws -> T {
    if T.self == JSONNode.self { return (node ?? .null) as! T }
    do {
      return try T(from: self)
    } catch let error as DecodingError {
      log.errors.add(path, Self.message(of: error), .wrongType)
      return try T(from: absent)
    }
  }

  /// Like ``value(_:)`` for an optional member: `nil` when absent or unusable.
  func optionalValue<T: Decodable>(_ type: T.Type) -> T? {
    if isAbsent { return nil }
    if T.self == JSONNode.self { return node as? T }
    do {
      return try T(from: self)
    } catch let error as DecodingError {
      log.errors.add(path, Self.message(of: error), .wrongType)
      return nil
    } catch {
      log.errors.add(path, "\(error)", .wrongType)
      return nil
    }
  }

  func string() -> String {
    if case .string(let text)? = node { return text }
    if !isAbsent, let node { typeError(expected: "string", got: node) }
    return ""
  }

  func bool() -> Bool {
    if case .bool(let flag)? = node { return flag }
    if !isAbsent, let node { typeError(expected: "boolean", got: node) }
    return false
  }

  func integer<I: FixedWidthInteger>(_ type: I.Type) -> I {
    switch node {
    case .int(let value)?:
      if let exact = I(exactly: value) { return exact }
      log.errors.add(path, "integer \(value) is out of range (\(I.min)…\(I.max))", .wrongType)
    case .double(let value)?:
      if value.rounded() == value, let exact = I(exactly: value) { return exact }
      typeError(expected: "integer", got: .double(value))
    case let other?:
      if !isAbsent { typeError(expected: "integer", got: other) }
    case nil: break
    }
    return 0
  }

  func floatingPoint() -> Double {
    switch node {
    case .int(let value)?: return Double(value)
    case .double(let value)?: return value
    case let other?: if !isAbsent { typeError(expected: "number", got: other) }
    case nil: break
    }
    return 0
  }

  func typeError(expected: String, got node: JSONNode) {
    var message = "expected \(expected), got \(node.typeAndValue)"
    switch (expected, node) {
    case ("string", .int(let value)): message += " (quote it: \"\(value)\")"
    case ("string", .double(let value)): message += " (quote it: \"\(CanonicalJSON.format(value))\")"
    case ("string", .bool(let value)): message += " (quote it: \"\(value)\")"
    case ("boolean", .string(let text)) where ["true", "false"].contains(text): message += " (remove the quotes)"
    case ("integer", .string(let text)) where Int64(text) != nil: message += " (remove the quotes)"
    case ("number", .string(let text)) where Double(text) != nil: message += " (remove the quotes)"
    default: break
    }
    log.errors.add(path, message, .wrongType)
  }

  static func message(of error: DecodingError) -> String {
    switch error {
    case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
      return context.debugDescription
    case .keyNotFound(let key, _):
      return "required field \(key.stringValue) is missing"
    @unknown default:
      return "\(error)"
    }
  }
}

/// A `CodingKey` for a path component (only for `codingPath`, which nothing here relies on).
struct PathCodingKey: CodingKey {
  var stringValue: String
  var intValue: Int?

  init(_ component: FieldPath.Component) {
    switch component {
    case .key(let name), .mapKey(let name):
      stringValue = name
      intValue = nil
    case .index(let index):
      stringValue = String(index)
      intValue = index
    }
  }

  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) {
    stringValue = String(intValue)
    self.intValue = intValue
  }
}

struct StrictKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let members: [String: JSONNode]
  let visit: ObjectVisit
  let decoder: StrictDecoder
  /// The container's path, built once for all its members.
  let path: FieldPath

  var codingPath: [any CodingKey] { decoder.codingPath }

  var allKeys: [Key] {
    visit.isMap = true
    return members.keys.sorted().compactMap { Key(stringValue: $0) }
  }

  func contains(_ key: Key) -> Bool {
    visit.queried.append(key.stringValue)
    return members[key.stringValue] != nil
  }

  func child(_ key: Key) -> StrictDecoder {
    let name = key.stringValue
    visit.queried.append(name)
    return StrictDecoder(node: members[name], parentPath: path, last: visit.isMap ? .mapKey(name) : .key(name),
      log: decoder.log)
  }

  /// A present, non-null member, or nil (and the key recorded as asked for).
  private func present(_ key: Key) -> JSONNode? {
    let name = key.stringValue
    visit.queried.append(name)
    guard let node = members[name], node != .null else { return nil }
    return node
  }

  // The optional scalars directly: the protocol's defaults ask `contains`, `decodeNil` and
  // `decode` in turn, three lookups and two child decoders per present field.
  func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
    guard let node = present(key) else { return nil }
    if case .string(let text) = node { return text }
    return child(key).optionalValue(String.self)
  }

  func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
    guard let node = present(key) else { return nil }
    if case .bool(let flag) = node { return flag }
    return child(key).optionalValue(Bool.self)
  }

  func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
    guard present(key) != nil else { return nil }
    return child(key).optionalValue(Int.self)
  }

  func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
    guard present(key) != nil else { return nil }
    return child(key).optionalValue(Int64.self)
  }

  func decodeNil(forKey key: Key) throws -> Bool { child(key).isAbsent }
  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { child(key).bool() }
  func decode(_ type: String.Type, forKey key: Key) throws -> String { child(key).string() }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double { child(key).floatingPoint() }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(child(key).floatingPoint()) }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int { child(key).integer(Int.self) }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { child(key).integer(Int8.self) }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { child(key).integer(Int16.self) }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { child(key).integer(Int32.self) }
  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { child(key).integer(Int64.self) }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { child(key).integer(UInt.self) }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { child(key).integer(UInt8.self) }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { child(key).integer(UInt16.self) }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { child(key).integer(UInt32.self) }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { child(key).integer(UInt64.self) }
  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).value(T.self) }

  func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
    child(key).optionalValue(T.self)
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
    StrictDecoder(node: .object(members), path: path, log: decoder.log)
  }

  func superDecoder(forKey key: Key) throws -> any Decoder { child(key) }
}

struct StrictUnkeyedContainer: UnkeyedDecodingContainer {
  let elements: [JSONNode]
  let decoder: StrictDecoder
  /// The array's path, built once for all its elements.
  let path: FieldPath
  var currentIndex = 0

  init(elements: [JSONNode], decoder: StrictDecoder, path: FieldPath) {
    self.elements = elements
    self.decoder = decoder
    self.path = path
  }

  var codingPath: [any CodingKey] { decoder.codingPath }
  var count: Int? { elements.count }
  var isAtEnd: Bool { currentIndex >= elements.count }

  mutating func next() throws -> StrictDecoder {
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(
        Any.self, .init(codingPath: codingPath, debugDescription: "read past the end of the array"))
    }
    defer { currentIndex += 1 }
    return StrictDecoder(
      node: elements[currentIndex], parentPath: path, last: .index(currentIndex), log: decoder.log, nullIsAbsent: false)
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd, elements[currentIndex] == .null else { return false }
    currentIndex += 1
    return true
  }

  mutating func decode(_ type: Bool.Type) throws -> Bool { try next().bool() }
  mutating func decode(_ type: String.Type) throws -> String { try next().string() }
  mutating func decode(_ type: Double.Type) throws -> Double { try next().floatingPoint() }
  mutating func decode(_ type: Float.Type) throws -> Float { Float(try next().floatingPoint()) }
  mutating func decode(_ type: Int.Type) throws -> Int { try next().integer(Int.self) }
  mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().integer(Int8.self) }
  mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().integer(Int16.self) }
  mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().integer(Int32.self) }
  mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().integer(Int64.self) }
  mutating func decode(_ type: UInt.Type) throws -> UInt { try next().integer(UInt.self) }
  mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().integer(UInt8.self) }
  mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().integer(UInt16.self) }
  mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().integer(UInt32.self) }
  mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().integer(UInt64.self) }
  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().value(T.self) }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
    -> KeyedDecodingContainer<NestedKey>
  {
    try next().container(keyedBy: type)
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    try next().unkeyedContainer()
  }

  mutating func superDecoder() throws -> any Decoder { try next() }
}

struct StrictSingleValueContainer: SingleValueDecodingContainer {
  let decoder: StrictDecoder

  var codingPath: [any CodingKey] { decoder.codingPath }

  func decodeNil() -> Bool { decoder.isAbsent }
  func decode(_ type: Bool.Type) throws -> Bool { decoder.bool() }
  func decode(_ type: String.Type) throws -> String { decoder.string() }
  func decode(_ type: Double.Type) throws -> Double { decoder.floatingPoint() }
  func decode(_ type: Float.Type) throws -> Float { Float(decoder.floatingPoint()) }
  func decode(_ type: Int.Type) throws -> Int { decoder.integer(Int.self) }
  func decode(_ type: Int8.Type) throws -> Int8 { decoder.integer(Int8.self) }
  func decode(_ type: Int16.Type) throws -> Int16 { decoder.integer(Int16.self) }
  func decode(_ type: Int32.Type) throws -> Int32 { decoder.integer(Int32.self) }
  func decode(_ type: Int64.Type) throws -> Int64 { decoder.integer(Int64.self) }
  func decode(_ type: UInt.Type) throws -> UInt { decoder.integer(UInt.self) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { decoder.integer(UInt8.self) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { decoder.integer(UInt16.self) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { decoder.integer(UInt32.self) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { decoder.integer(UInt64.self) }
  func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.value(T.self) }
}
