#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

// Hand-written JSON for the wire messages of every worker-backend call (create, start, stop,
// delete, inspect requests and the instance status they answer) and for driver events.
//
// Why: these cross the ABI on every reconcile, encoded and decoded once on each side, and
// Foundation's Codable coders cost 20–40 µs per message here (about a fifth of a reconcile's CPU
// in the apply benchmark, BM1, before this path). Both paths give the same values: the fast decoder accepts only
// documents it fully understands (strict syntax, no repeated keys, integer literals for
// integers, no fields it does not model) and answers nil for anything else, which then goes
// through the Codable path and gets its exact error messages. The fast encoder writes compact
// JSON with keys sorted by their UTF-8 bytes and unescaped slashes, like ``WireJSON/encode(_:)``.
// Tests/DriverHostTests/WireFastPathTests.swift checks both against the Codable implementations.

/// A wire message with a hand-written encoding. `false` means "use Codable" (a field this
/// encoder does not model is set).
protocol WireFastEncodable {
  func writeWire(_ writer: inout WireWriter) -> Bool
}

/// A wire message with a hand-written decoding; nil means "use Codable".
protocol WireFastDecodable {
  init?(wire value: WireValue)
}

/// An optional answer (`inspect` and `create`-if-absent read `InstanceStatus?`): `null` is nil,
/// anything else is the wrapped message, as Codable's `Optional` decodes a top-level value.
extension Optional: WireFastDecodable where Wrapped: WireFastDecodable {
  init?(wire value: WireValue) {
    if case .null = value {
      self = .none
      return
    }
    guard let wrapped = Wrapped(wire: value) else { return nil }
    self = .some(wrapped)
  }
}

/// A parsed JSON document that keeps integer literals apart from other numbers.
indirect enum WireValue {
  case null
  case bool(Bool)
  case integer(Int)
  /// A number with a fraction or exponent, or out of `Int`'s range.
  case otherNumber
  case string(String)
  case array([WireValue])
  case object([String: WireValue])

  var string: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// A `[String: String]`, or nil if this is not an object of strings.
  var stringMap: [String: String]? {
    guard case .object(let members) = self else { return nil }
    var out: [String: String] = [:]
    out.reserveCapacity(members.count)
    for (key, value) in members {
      guard case .string(let text) = value else { return nil }
      out[key] = text
    }
    return out
  }

  /// Strict RFC 8259 parsing; nil for anything malformed, a repeated key, or nesting deeper
  /// than 512 levels (the slow path then reports what is wrong).
  static func parse(_ bytes: UnsafeRawBufferPointer) -> WireValue? {
    var parser = Parser(bytes: bytes)
    parser.skipSpace()
    guard let value = parser.value(depth: 0) else { return nil }
    parser.skipSpace()
    return parser.index == bytes.count ? value : nil
  }

  private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpace() {
      while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
        index += 1
      }
    }

    mutating func literal(_ text: StaticString, _ value: WireValue) -> WireValue? {
      let count = text.utf8CodeUnitCount
      guard index + count <= bytes.count else { return nil }
      for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return nil }
      index += count
      return value
    }

    mutating func value(depth: Int) -> WireValue? {
      guard depth < 512, let byte = current else { return nil }
      switch byte {
      case UInt8(ascii: "{"): return object(depth: depth)
      case UInt8(ascii: "["): return array(depth: depth)
      case UInt8(ascii: "\""): return string().map(WireValue.string)
      case UInt8(ascii: "t"): return literal("true", .bool(true))
      case UInt8(ascii: "f"): return literal("false", .bool(false))
      case UInt8(ascii: "n"): return literal("null", .null)
      default: return number()
      }
    }

    mutating func object(depth: Int) -> WireValue? {
      index += 1
      var members: [String: WireValue] = [:]
      skipSpace()
      if current == UInt8(ascii: "}") {
        index += 1
        return .object(members)
      }
      while true {
        skipSpace()
        guard current == UInt8(ascii: "\""), let key = string() else { return nil }
        skipSpace()
        guard current == UInt8(ascii: ":") else { return nil }
        index += 1
        skipSpace()
        guard let value = value(depth: depth + 1), members.updateValue(value, forKey: key) == nil else { return nil }
        skipSpace()
        switch current {
        case UInt8(ascii: ","): index += 1
        case UInt8(ascii: "}"):
          index += 1
          return .object(members)
        default: return nil
        }
      }
    }

    mutating func array(depth: Int) -> WireValue? {
      index += 1
      var items: [WireValue] = []
      skipSpace()
      if current == UInt8(ascii: "]") {
        index += 1
        return .array(items)
      }
      while true {
        skipSpace()
        guard let value = value(depth: depth + 1) else { return nil }
        items.append(value)
        skipSpace()
        switch current {
        case UInt8(ascii: ","): index += 1
        case UInt8(ascii: "]"):
          index += 1
          return .array(items)
        default: return nil
        }
      }
    }

    /// A string starting at the opening quote. Rejects control characters, unknown escapes,
    /// lone surrogates and invalid UTF-8.
    mutating func string() -> String? {
      index += 1
      let start = index
      // The common case: no escapes.
      while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "\"") {
          let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
          index += 1
          return String(validating: slice, as: UTF8.self)
        }
        if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
        index += 1
      }
      var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
      while index < bytes.count {
        let byte = bytes[index]
        switch byte {
        case UInt8(ascii: "\""):
          index += 1
          return String(validating: out, as: UTF8.self)
        case 0..<0x20:
          return nil
        case UInt8(ascii: "\\"):
          index += 1
          guard let escape = current else { return nil }
          index += 1
          switch escape {
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
          case UInt8(ascii: "b"): out.append(0x08)
          case UInt8(ascii: "f"): out.append(0x0C)
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "r"): out.append(0x0D)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "u"):
            guard var scalar = hex4() else { return nil }
            if (0xD800..<0xDC00).contains(scalar) {
              guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                return nil
              }
              index += 2
              guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
              scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
              return nil
            }
            guard let unicode = Unicode.Scalar(scalar) else { return nil }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
          default:
            return nil
          }
        default:
          out.append(byte)
          index += 1
        }
      }
      return nil
    }

    mutating func hex4() -> UInt32? {
      guard index + 4 <= bytes.count else { return nil }
      var value: UInt32 = 0
      for _ in 0..<4 {
        let byte = bytes[index]
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
        default: return nil
        }
        value = value << 4 | UInt32(digit)
        index += 1
      }
      return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() -> WireValue? {
      let start = index
      if current == UInt8(ascii: "-") { index += 1 }
      guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
      index += 1
      if first != UInt8(ascii: "0") { digits() }
      var integral = true
      if current == UInt8(ascii: ".") {
        index += 1
        guard digits() > 0 else { return nil }
        integral = false
      }
      if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
        index += 1
        if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { return nil }
        integral = false
      }
      guard integral, let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self),
        let value = Int(text)
      else { return .otherNumber }
      return .integer(value)
    }

    @discardableResult
    mutating func digits() -> Int {
      let start = index
      while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
      return index - start
    }
  }
}

/// Writes compact JSON. Object keys must be written in sorted (UTF-8 byte) order by the caller;
/// ``map(_:)`` sorts a dictionary's keys itself.
struct WireWriter {
  private(set) var bytes: [UInt8] = []
  private var needsComma = false

  init() { bytes.reserveCapacity(512) }

  mutating func beginObject() {
    separate()
    bytes.append(UInt8(ascii: "{"))
    needsComma = false
  }

  mutating func endObject() {
    bytes.append(UInt8(ascii: "}"))
    needsComma = true
  }

  mutating func beginArray() {
    separate()
    bytes.append(UInt8(ascii: "["))
    needsComma = false
  }

  mutating func endArray() {
    bytes.append(UInt8(ascii: "]"))
    needsComma = true
  }

  /// Writes `"key":`; the value follows.
  mutating func key(_ key: String) {
    separate()
    quoted(key)
    bytes.append(UInt8(ascii: ":"))
    needsComma = false
  }

  mutating func string(_ value: String) {
    separate()
    quoted(value)
    needsComma = true
  }

  mutating func integer(_ value: Int) {
    separate()
    bytes.append(contentsOf: String(value).utf8)
    needsComma = true
  }

  mutating func bool(_ value: Bool) {
    separate()
    bytes.append(contentsOf: (value ? "true" : "false").utf8)
    needsComma = true
  }

  mutating func map(_ value: [String: String]) {
    beginObject()
    for key in value.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
      self.key(key)
      string(value[key]!)
    }
    endObject()
  }

  mutating func strings(_ value: [String]) {
    beginArray()
    for item in value { string(item) }
    endArray()
  }

  private mutating func separate() {
    if needsComma { bytes.append(UInt8(ascii: ",")) }
  }

  private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  private mutating func quoted(_ text: String) {
    bytes.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
      case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
      case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
      case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
      case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
      case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
      case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
      case 0..<0x20:
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
          Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 15)]])
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }
}

// MARK: - Field helpers

extension WireWriter {
  /// `"key":"value"`, or nothing when `value` is nil (an absent optional field).
  mutating func field(_ key: String, _ value: String?) {
    guard let value else { return }
    self.key(key)
    string(value)
  }

  mutating func field(_ key: String, _ value: Int?) {
    guard let value else { return }
    self.key(key)
    integer(value)
  }

  mutating func field(_ key: String, _ value: [String: String]?) {
    guard let value else { return }
    self.key(key)
    map(value)
  }

  mutating func field(_ key: String, _ value: [String]?) {
    guard let value else { return }
    self.key(key)
    strings(value)
  }

  mutating func field(_ key: String, _ value: Bool?) {
    guard let value else { return }
    self.key(key)
    bool(value)
  }
}

extension WireValue {
  /// A boolean.
  var bool: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  /// An integer, for `Int` fields (other numbers go to Codable).
  var integer: Int? {
    if case .integer(let value) = self { return value }
    return nil
  }

  /// An array of strings.
  var strings: [String]? {
    guard case .array(let items) = self else { return nil }
    var out: [String] = []
    out.reserveCapacity(items.count)
    for item in items {
      guard let text = item.string else { return nil }
      out.append(text)
    }
    return out
  }
}

extension Dictionary where Key == String, Value == WireValue {
  /// An optional field: `.some(nil)` when absent or null, `.some(value)` when `read` accepts it,
  /// `nil` (not understood: use Codable) otherwise.
  func optional<T>(_ key: String, _ read: (WireValue) -> T?) -> T?? {
    guard let value = self[key], !value.isNull else { return .some(nil) }
    guard let typed = read(value) else { return nil }
    return .some(typed)
  }
}

// MARK: - The messages

extension WorkerBackendV1.NameRequest: WireFastEncodable, WireFastDecodable {
  func writeWire(_ writer: inout WireWriter) -> Bool {
    writer.beginObject()
    writer.field("name", name)
    writer.endObject()
    return true
  }

  init?(wire value: WireValue) {
    guard case .object(let members) = value, let name = members["name"]?.string else { return nil }
    self.init(name: name)
  }
}

extension WorkerBackendV1.StopRequest: WireFastEncodable, WireFastDecodable {
  func writeWire(_ writer: inout WireWriter) -> Bool {
    writer.beginObject()
    writer.field("name", name)
    writer.field("timeout_s", timeoutSeconds)
    writer.endObject()
    return true
  }

  init?(wire value: WireValue) {
    guard case .object(let members) = value, let name = members["name"]?.string,
      let timeout = members.optional("timeout_s", \.integer)
    else { return nil }
    self.init(name: name, timeoutSeconds: timeout)
  }
}

extension WorkerBackendV1.CreateRequest: WireFastEncodable, WireFastDecodable {
  func writeWire(_ writer: inout WireWriter) -> Bool {
    // Ports, mounts, resources and free-form config go through Codable.
    guard ports == nil, mounts == nil, resources == nil, config == nil else { return false }
    writer.beginObject()
    writer.field("command", command)
    writer.field("env", env)
    writer.field("image", image)
    writer.field("labels", labels)
    writer.field("name", name)
    writer.field("network", network)
    writer.field("start", start)
    writer.endObject()
    return true
  }

  init?(wire value: WireValue) {
    guard case .object(let members) = value, let name = members["name"]?.string, let image = members["image"]?.string
    else { return nil }
    for key in ["ports", "mounts", "resources", "config"] where !(members[key]?.isNull ?? true) { return nil }
    guard let command = members.optional("command", \.strings), let env = members.optional("env", \.stringMap),
      let labels = members.optional("labels", \.stringMap), let network = members.optional("network", \.string),
      let start = members.optional("start", \.bool)
    else { return nil }
    self.init(name: name, image: image, command: command, env: env, labels: labels, network: network, start: start)
  }
}

extension WorkerBackendV1.InstanceStatus: WireFastEncodable, WireFastDecodable {
  func writeWire(_ writer: inout WireWriter) -> Bool {
    writer.beginObject()
    if let endpoints {
      writer.key("endpoints")
      writer.beginArray()
      for endpoint in endpoints {
        writer.beginObject()
        writer.field("name", endpoint.name)
        writer.field("url", endpoint.url)
        writer.endObject()
      }
      writer.endArray()
    }
    writer.field("exit_code", exitCode)
    writer.field("id", id)
    writer.field("image", image)
    writer.field("labels", labels)
    writer.field("message", message)
    writer.field("name", name)
    writer.field("state", state.rawValue)
    writer.endObject()
    return true
  }

  init?(wire value: WireValue) {
    guard case .object(let members) = value, let name = members["name"]?.string, let id = members["id"]?.string,
      let stateText = members["state"]?.string, let exitCode = members.optional("exit_code", \.integer),
      let labels = members.optional("labels", \.stringMap), let image = members.optional("image", \.string),
      let message = members.optional("message", \.string),
      let endpoints = members.optional("endpoints", { value -> [WorkerBackendV1.Endpoint]? in
        guard case .array(let items) = value else { return nil }
        var list: [WorkerBackendV1.Endpoint] = []
        for item in items {
          guard case .object(let fields) = item, let url = fields["url"]?.string,
            let endpointName = fields.optional("name", \.string)
          else { return nil }
          list.append(WorkerBackendV1.Endpoint(name: endpointName, url: url))
        }
        return list
      })
    else { return nil }
    self.init(name: name, id: id, state: WorkerBackendV1.InstanceState(rawValue: stateText) ?? .unknown,
      exitCode: exitCode, labels: labels ?? [:], image: image, endpoints: endpoints, message: message)
  }
}

/// What a driver reports with `emit_event` (the memory backend: one per instance change).
extension HostEvent: WireFastEncodable, WireFastDecodable {
  func writeWire(_ writer: inout WireWriter) -> Bool {
    writer.beginObject()
    writer.field("message", message)
    writer.field("reason", reason)
    writer.field("type", type.rawValue)
    writer.endObject()
    return true
  }

  init?(wire value: WireValue) {
    guard case .object(let members) = value, let reason = members["reason"]?.string,
      let message = members["message"]?.string, let type = members["type"]?.string.flatMap(EventType.init(rawValue:))
    else { return nil }
    self.init(type: type, reason: reason, message: message)
  }
}

// MARK: - Error bodies

/// Error bodies cross the ABI on every failed call: `inspect` of an instance that does not exist
/// answers NOT_FOUND on every first reconcile and every resync of a missing container, and the
/// Codable path (Foundation's encoder in the driver, JSONSerialization in the host) cost more
/// than the call itself there. Details with other than string values take the Codable path.
extension DriverErrorBody: WireFastEncodable {
  func writeWire(_ writer: inout WireWriter) -> Bool {
    var stringDetails: [String: String] = [:]
    for (key, value) in details {
      guard case .string(let text) = value else { return false }
      stringDetails[key] = text
    }
    writer.beginObject()
    writer.field("code", code)
    writer.field("details", stringDetails)
    writer.field("message", message)
    writer.field("retryable", retryable)
    writer.endObject()
    return true
  }
}

extension DriverErrorBody {
  /// The parts of the error JSON a driver returned with a failed call, read without Foundation
  /// when the text is a JSON object whose `message` is a string, `retryable` a boolean and
  /// `details` an object of strings (each optional): the message (nil if empty or absent), the
  /// retryable flag, and the details as compact JSON with sorted keys. Nil for anything else,
  /// which the caller then reads leniently its own way.
  public static func quickParts(of json: String) -> (message: String?, retryable: Bool?, detailsJSON: String?)? {
    var text = json
    return text.withUTF8 { bytes -> (message: String?, retryable: Bool?, detailsJSON: String?)? in
      guard let value = WireValue.parse(UnsafeRawBufferPointer(bytes)), case .object(let members) = value else {
        return nil
      }
      var message: String?
      if let field = members["message"] {
        guard case .string(let text) = field else { return nil }
        message = text.isEmpty ? nil : text
      }
      var retryable: Bool?
      if let field = members["retryable"] {
        guard let flag = field.bool else { return nil }
        retryable = flag
      }
      var detailsJSON: String?
      if let field = members["details"] {
        guard let map = field.stringMap else { return nil }
        var writer = WireWriter()
        writer.map(map)
        detailsJSON = String(decoding: writer.bytes, as: UTF8.self)
      }
      return (message, retryable, detailsJSON)
    }
  }
}
