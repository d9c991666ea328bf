import Foundation

/// A JSON document in canonical form: no insignificant whitespace, object keys sorted by their
/// UTF-8 bytes, strings with the minimal escapes, numbers normalised (`1.0`, `1e0` and `1` are
/// all `1`). Two documents that mean the same JSON have the same ``text``, so `==` is a semantic
/// comparison; this is what decides whether an update changed an object's `spec` (and so bumps its
/// `generation`).
///
/// Values are immutable and `Sendable`. Building one parses and re-serialises the input once
/// (linear time, a few µs for a typical spec); reading one back from the store does not parse.
///
/// Number rules: an integer that fits in `Int64` is kept exactly; every other number goes
/// through `Double` (as a Go or JavaScript client would), and a `Double` with no fractional part
/// that fits in `Int64` is written as an integer. Numbers that overflow `Double` (`1e400`) are
/// rejected rather than silently turned into something else.
///
/// Rejected input: anything that is not RFC 8259 JSON (trailing commas, comments, single quotes,
/// `NaN`), invalid UTF-8, lone surrogate escapes, duplicate keys in one object, and nesting
/// deeper than 512 levels.
public struct CanonicalJSON: Sendable, Hashable, CustomStringConvertible {
  /// The canonical text.
  public let text: String

  /// `{}`.
  public static let emptyObject = CanonicalJSON(trusted: "{}")

  /// Canonicalises a JSON document given as text.
  /// - Throws: ``StoreError/Code-swift.struct/invalid`` saying where the text stops being JSON.
  public init(parsing text: String) throws(StoreError) {
    self = try Self.withBytes(of: text) { (bytes) throws(StoreError) in try Self.canonicalize(bytes) }
  }

  /// Canonicalises a JSON document given as UTF-8 bytes.
  public init(parsing data: Data) throws(StoreError) {
    let result: Result<CanonicalJSON, StoreError> = data.withUnsafeBytes { raw in
      Result { () throws(StoreError) -> CanonicalJSON in try Self.canonicalize(raw.bindMemory(to: UInt8.self)) }
    }
    self = try result.get()
  }

  /// Encodes a value with `JSONEncoder` and canonicalises the result.
  /// - Throws: ``StoreError/Code-swift.struct/invalid`` if the encoder fails or produces a number
  ///   JSON cannot carry.
  public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = JSONEncoder()) throws(StoreError) {
    let data: Data
    do { data = try encoder.encode(value) } catch {
      throw StoreError(.invalid, "cannot encode \(T.self) as JSON: \(error)",
        fix: "make the value encodable (non-finite floating-point numbers, for example, are not JSON)")
    }
    try self.init(parsing: data)
  }

  /// Text already known to be canonical (written by this type and read back from the store).
  init(trusted text: String) { self.text = text }

  /// Text its writer guarantees is canonical, taken without parsing it again: for the Model's
  /// encoder, whose output is this form byte for byte (ResourceStore's `StoredJSON(model:)`).
  /// Package-internal: anything else goes through ``init(parsing:)-(String)``. Debug builds (and
  /// so every test) check the promise.
  package init(canonicalText text: String) {
    assert(text == (try? CanonicalJSON(parsing: text))?.text, "not canonical JSON: \(text)")
    self.text = text
  }

  /// The canonical text as UTF-8 bytes.
  public var data: Data { Data(text.utf8) }

  /// Decodes the document with `JSONDecoder`.
  public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
    try decoder.decode(type, from: data)
  }

  /// Appends `string` as a JSON string literal with the escapes canonical text uses (for
  /// writers that assemble JSON around stored documents).
  public static func appendString(_ string: String, to out: inout [UInt8]) {
    JSONNode.writeString(string, to: &out)
  }

  /// Whether the document is a JSON object (`{…}`).
  public var isObject: Bool { text.utf8.first == UInt8(ascii: "{") }

  public var description: String { text }

  static func canonicalize(_ bytes: UnsafeBufferPointer<UInt8>) throws(StoreError) -> CanonicalJSON {
    var parser = JSONParser(bytes)
    let node = try parser.parseDocument()
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    node.write(to: &out)
    return CanonicalJSON(trusted: String(decoding: out, as: UTF8.self))
  }

  /// Parses canonical (or any) JSON text into a tree, for the store's own small maps.
  static func parseTree(_ text: String) throws(StoreError) -> JSONNode {
    try withBytes(of: text) { (bytes) throws(StoreError) in
      var parser = JSONParser(bytes)
      return try parser.parseDocument()
    }
  }

  private static func withBytes<T>(
    of text: String, _ body: (UnsafeBufferPointer<UInt8>) throws(StoreError) -> T
  ) throws(StoreError) -> T {
    var text = text
    let result = text.withUTF8 { bytes in Result { () throws(StoreError) -> T in try body(bytes) } }
    return try result.get()
  }
}

// MARK: - The tree

/// A parsed JSON value. Object members keep their keys as Swift strings but are compared and
/// sorted by their UTF-8 bytes, never by `String`'s Unicode-equivalence `==`, so `"é"` written
/// precomposed and decomposed stay two different keys, as they are in JSON.
indirect enum JSONNode: Sendable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONNode])
  /// Members sorted by key bytes, no duplicates.
  case object([(key: String, value: JSONNode)])

  func write(to out: inout [UInt8]) {
    switch self {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
    case .int(let value): out.append(contentsOf: String(value).utf8)
    case .double(let value): out.append(contentsOf: Self.format(value).utf8)
    case .string(let value): Self.writeString(value, to: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (index, item) in items.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        item.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (index, member) in members.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        Self.writeString(member.key, to: &out)
        out.append(UInt8(ascii: ":"))
        member.value.write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// A finite double: as an integer when it has no fractional part and fits in `Int64`, else
  /// Swift's shortest round-tripping form (`0.1`, `1e+20`, `1.5e-07`), which is valid JSON.
  static func format(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 9.2e18 { return String(Int64(value)) }
    return "\(value)"
  }

  static func writeString(_ string: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
      switch byte {
      case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
      case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
      case 0x0A: out.append(contentsOf: #"\n"#.utf8)
      case 0x0D: out.append(contentsOf: #"\r"#.utf8)
      case 0x09: out.append(contentsOf: #"\t"#.utf8)
      case 0x08: out.append(contentsOf: #"\b"#.utf8)
      case 0x0C: out.append(contentsOf: #"\f"#.utf8)
      case 0..<0x20:
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: #"\u00"#.utf8)
        out.append(hex[Int(byte >> 4)])
        out.append(hex[Int(byte & 0xF)])
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// The canonical text of this value.
  var canonicalText: String {
    var out: [UInt8] = []
    write(to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// `[String: String]` from an object of strings (labels, annotations).
  func stringMap(field: String) throws(StoreError) -> [String: String] {
    guard case .object(let members) = self else { throw Self.shape(field, "an object of strings") }
    var map: [String: String] = [:]
    map.reserveCapacity(members.count)
    for member in members {
      guard case .string(let value) = member.value else { throw Self.shape(field, "an object of strings") }
      map[member.key] = value
    }
    return map
  }

  /// `[String]` from an array of strings (finalizers).
  func stringArray(field: String) throws(StoreError) -> [String] {
    guard case .array(let items) = self else { throw Self.shape(field, "an array of strings") }
    var result: [String] = []
    result.reserveCapacity(items.count)
    for item in items {
      guard case .string(let value) = item else { throw Self.shape(field, "an array of strings") }
      result.append(value)
    }
    return result
  }

  private static func shape(_ field: String, _ expected: String) -> StoreError {
    StoreError(.internal, "the stored \(field) is not \(expected)",
      fix: "the database was modified outside hiclaw; restore it from a backup")
  }

  /// Canonical JSON of a string map (keys sorted by bytes).
  static func encode(_ map: [String: String]) -> String {
    if map.isEmpty { return "{}" }
    let members = map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
      .map { (key: $0.key, value: JSONNode.string($0.value)) }
    return JSONNode.object(members).canonicalText
  }

  /// JSON of a string array, order kept.
  static func encode(_ array: [String]) -> String {
    if array.isEmpty { return "[]" }
    return JSONNode.array(array.map { .string($0) }).canonicalText
  }
}

// MARK: - The parser

/// A strict RFC 8259 parser over UTF-8 bytes. Errors name the byte offset and what was expected.
struct JSONParser {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var position = 0
  private var depth = 0
  static let maximumDepth = 512

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  mutating func parseDocument() throws(StoreError) -> JSONNode {
    skipWhitespace()
    let value = try parseValue()
    skipWhitespace()
    guard position == bytes.count else { throw error("unexpected text after the JSON value") }
    return value
  }

  private func error(_ what: String) -> StoreError {
    StoreError(.invalid, "invalid JSON at byte \(position): \(what)",
      fix: "send RFC 8259 JSON (no comments, trailing commas, NaN or duplicate keys)")
  }

  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  private mutating func parseValue() throws(StoreError) -> JSONNode {
    guard let byte = current else { throw error("expected a value, found the end of the input") }
    switch byte {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try literal("true"); return .bool(true)
    case UInt8(ascii: "f"): try literal("false"); return .bool(false)
    case UInt8(ascii: "n"): try literal("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw error("expected a value")
    }
  }

  private mutating func literal(_ word: StaticString) throws(StoreError) {
    let count = word.utf8CodeUnitCount
    guard bytes.count - position >= count else { throw error("expected \(word)") }
    let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
    for index in 0..<count where bytes[position + index] != expected[index] { throw error("expected \(word)") }
    position += count
  }

  private mutating func enter() throws(StoreError) {
    depth += 1
    guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
  }

  private mutating func parseObject() throws(StoreError) -> JSONNode {
    try enter()
    position += 1
    var members: [(key: String, value: JSONNode)] = []
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      depth -= 1
      return .object([])
    }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
      let key = try parseString()
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
      position += 1
      skipWhitespace()
      let value = try parseValue()
      members.append((key, value))
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        position += 1
        continue
      }
      guard current == UInt8(ascii: "}") else { throw error("expected ',' or '}' after an object member") }
      position += 1
      break
    }
    depth -= 1
    members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    for index in members.indices.dropFirst() where members[index].key.utf8.elementsEqual(members[index - 1].key.utf8) {
      throw StoreError(.invalid, "invalid JSON: the key \"\(members[index].key)\" appears twice in one object",
        fix: "keep one of the two members")
    }
    return .object(members)
  }

  private mutating func parseArray() throws(StoreError) -> JSONNode {
    try enter()
    position += 1
    var items: [JSONNode] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      depth -= 1
      return .array([])
    }
    while true {
      skipWhitespace()
      items.append(try parseValue())
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        position += 1
        continue
      }
      guard current == UInt8(ascii: "]") else { throw error("expected ',' or ']' after an array element") }
      position += 1
      break
    }
    depth -= 1
    return .array(items)
  }

  private mutating func parseString() throws(StoreError) -> String {
    position += 1  // opening quote
    let start = position
    // Fast path: no escapes.
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
        position += 1
        guard let string = String(validating: slice, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return string
      }
      if byte == UInt8(ascii: "\\") { break }
      if byte < 0x20 { throw error("unescaped control character in a string") }
      position += 1
    }
    var buffer = Array(bytes[start..<position])
    while true {
      guard let byte = current else { throw error("unterminated string") }
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        guard let string = String(validating: buffer, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return string
      case UInt8(ascii: "\\"):
        position += 1
        guard let escape = current else { throw error("unterminated escape") }
        position += 1
        switch escape {
        case UInt8(ascii: "\""): buffer.append(0x22)
        case UInt8(ascii: "\\"): buffer.append(0x5C)
        case UInt8(ascii: "/"): buffer.append(0x2F)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = UInt32(try hex4())
          if (0xD800...0xDBFF).contains(scalar) {
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
            else { throw error("a high surrogate escape must be followed by a low surrogate escape") }
            position += 2
            let low = UInt32(try hex4())
            guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00...0xDFFF).contains(scalar) {
            throw error("lone low surrogate escape")
          }
          guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
          buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
        default: throw error("invalid escape")
        }
      default:
        if byte < 0x20 { throw error("unescaped control character in a string") }
        buffer.append(byte)
        position += 1
      }
    }
  }

  private mutating func hex4() throws(StoreError) -> UInt16 {
    guard bytes.count - position >= 4 else { throw error("truncated \\u escape") }
    var value: UInt16 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: throw error("invalid hex digit in a \\u escape")
      }
      value = value << 4 | UInt16(digit)
      position += 1
    }
    return value
  }

  private mutating func parseNumber() throws(StoreError) -> JSONNode {
    let start = position
    var isInteger = true
    if current == UInt8(ascii: "-") { position += 1 }
    guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
      throw error("expected a digit")
    }
    if first == UInt8(ascii: "0") {
      position += 1
    } else {
      skipDigits()
    }
    if current == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      guard skipDigits() > 0 else { throw error("expected a digit after '.'") }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      isInteger = false
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard skipDigits() > 0 else { throw error("expected a digit in the exponent") }
    }
    if let next = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
      throw error("leading zeros are not allowed")
    }
    let lexeme = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    if isInteger, let value = Int64(lexeme) { return .int(value) }
    guard let value = Double(lexeme), value.isFinite else {
      throw error("the number \(lexeme) is out of range")
    }
    if value == value.rounded(), abs(value) < 9.2e18 { return .int(Int64(value)) }
    return .double(value)
  }

  @discardableResult
  private mutating func skipDigits() -> Int {
    let start = position
    while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
    return position - start
  }
}
