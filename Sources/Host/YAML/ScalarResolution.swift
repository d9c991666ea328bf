/// YAML 1.2 core-schema scalar resolution (YAML 1.2.2 §10.3.2), followed exactly:
///
/// | plain text (regular expression)                                   | becomes |
/// |-------------------------------------------------------------------|---------|
/// | `null \| Null \| NULL \| ~` and the empty scalar                  | null    |
/// | `true \| True \| TRUE \| false \| False \| FALSE`                 | bool    |
/// | `[-+]? [0-9]+`                                                    | int (base 10; `0123` is 123) |
/// | `0o [0-7]+`                                                       | int (base 8) |
/// | `0x [0-9a-fA-F]+`                                                 | int (base 16) |
/// | `[-+]? ( \. [0-9]+ \| [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?` | float (`1e3`, `.5`, `1.`) |
/// | `[-+]? ( \.inf \| \.Inf \| \.INF )`, `\.nan \| \.NaN \| \.NAN`    | an error: JSON has no infinity or NaN |
/// | anything else                                                     | string  |
///
/// Not YAML 1.1: `yes`/`no`/`on`/`off`/`y`/`n` stay strings. YAML 1.1 read them as booleans, which
/// is the "Norway problem" (a country list `[GB, NO, SE]` silently gains a `false`); the 1.2 core
/// schema dropped them, and so do we. Likewise `0b1010`, `1_000`, `0777`-as-octal and sexagesimal
/// `1:30` are 1.1-only: `0b1010`, `1_000` and `1:30` are strings and `0777` is the decimal 777.
///
/// Quoted and block scalars are always strings. Explicit tags win over the text's shape:
/// `!!str 123` is a string, `!!int "12"` an int; content that does not fit the tag is an error.
enum ScalarResolution {
  static let corePrefix = "tag:yaml.org,2002:"

  struct Problem: Error {
    var kind: YAMLError.Kind
    var message: String
  }

  /// The JSON value of a scalar with `text`, `style` and explicit `tag` (nil for none).
  static func resolve(_ text: String, style: YAMLScalarStyle, tag: String?) -> Result<JSONValue, Problem> {
    guard let tag else {
      return style == .plain ? resolvePlain(text) : .success(.string(text))
    }
    if tag == "!" { return .success(.string(text)) }  // the non-specific tag: "a string, as written"
    guard tag.hasPrefix(corePrefix) else { return .failure(unsupportedTag(tag)) }
    switch tag.dropFirst(corePrefix.count) {
    case "str", "binary", "timestamp":
      // !!binary stays its base64 text and !!timestamp its ISO 8601 text: JSON has neither type.
      return .success(.string(text))
    case "null":
      return isNull(text) ? .success(.null) : .failure(mismatch(text, tag))
    case "bool":
      return bool(text).map { .success(.bool($0)) } ?? .failure(mismatch(text, tag))
    case "int":
      switch int(text) {
      case .value(let value): return .success(.int(value))
      case nil: return .failure(mismatch(text, tag))
      default: return .failure(intOverflow(text))
      }
    case "float":
      switch int(text) {
      case .value(let value): return .success(.double(Double(value)))
      default: break
      }
      switch float(text) {
      case .value(let value): return .success(.double(value))
      case let other?: return .failure(floatProblem(text, other))
      case nil: return .failure(mismatch(text, tag))
      }
    case "seq", "map":
      return .failure(Problem(kind: .invalidValue, message: "a scalar cannot have the tag \(shortTag(tag))"))
    default:
      return .failure(unsupportedTag(tag))
    }
  }

  static func resolvePlain(_ text: String) -> Result<JSONValue, Problem> {
    if isNull(text) { return .success(.null) }
    if let value = bool(text) { return .success(.bool(value)) }
    switch int(text) {
    case .value(let value): return .success(.int(value))
    case nil: break
    default: return .failure(intOverflow(text))
    }
    switch float(text) {
    case .value(let value): return .success(.double(value))
    case let other?: return .failure(floatProblem(text, other))
    case nil: return .success(.string(text))
    }
  }

  /// A resolved scalar as the text of a JSON object key.
  static func keyName(_ value: JSONValue) -> String {
    switch value {
    case .string(let text): text
    case .null: "null"
    case .bool(let flag): flag ? "true" : "false"
    case .int(let number): String(number)
    case .double(let number): JSONValue.format(number)
    case .array, .object: value.jsonText()
    }
  }

  // MARK: The core schema's regular expressions, as byte matchers.

  static func isNull(_ text: String) -> Bool {
    text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
  }

  static func bool(_ text: String) -> Bool? {
    switch text {
    case "true", "True", "TRUE": true
    case "false", "False", "FALSE": false
    default: nil
    }
  }

  enum NumberMatch<Value> {
    case value(Value)
    /// Matches the schema but does not fit a 64-bit integer / a finite double.
    case overflow
    case infinity
    case nan
  }

  /// `[-+]? [0-9]+`, `0o [0-7]+` or `0x [0-9a-fA-F]+`; nil when the text is none of them.
  static func int(_ text: String) -> NumberMatch<Int>? {
    let bytes = Array(text.utf8)
    if bytes.count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "o") || bytes[1] == UInt8(ascii: "x") {
      let hex = bytes[1] == UInt8(ascii: "x")
      let digits = bytes[2...]
      guard digits.allSatisfy({ hex ? isHexDigit($0) : (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else {
        return nil
      }
      return Int(String(decoding: digits, as: UTF8.self), radix: hex ? 16 : 8).map { .value($0) } ?? .overflow
    }
    var digits = bytes[...]
    if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
      digits = digits.dropFirst()
    }
    guard !digits.isEmpty, digits.allSatisfy(isDigit) else { return nil }
    return Int(text, radix: 10).map { .value($0) } ?? .overflow  // Int("0123") == 123, Int("+5") == 5
  }

  /// The float, `.inf` and `.nan` expressions; nil when the text is none of them.
  static func float(_ text: String) -> NumberMatch<Double>? {
    switch text {
    case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF": return .infinity
    case ".nan", ".NaN", ".NAN": return .nan
    default: break
    }
    let bytes = Array(text.utf8)
    var index = 0
    var sign = ""
    if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
      if bytes[index] == UInt8(ascii: "-") { sign = "-" }
      index += 1
    }
    func digitRun() -> String {
      let start = index
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
      return String(decoding: bytes[start..<index], as: UTF8.self)
    }
    let whole = digitRun()
    var fraction = ""
    var hasPoint = false
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      hasPoint = true
      index += 1
      fraction = digitRun()
    }
    // `[0-9]+ ( \. [0-9]* )?` or `\. [0-9]+`: some digit before the exponent.
    guard !whole.isEmpty || (hasPoint && !fraction.isEmpty) else { return nil }
    var exponent = ""
    if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
      index += 1
      var expSign = ""
      if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
        if bytes[index] == UInt8(ascii: "-") { expSign = "-" }
        index += 1
      }
      let digits = digitRun()
      guard !digits.isEmpty else { return nil }
      exponent = "e" + expSign + digits
    }
    guard index == bytes.count else { return nil }
    // Rebuilt in one canonical shape ("1." → "1.0", ".5" → "0.5") so that Double's own parser,
    // which also takes "inf", "nan" and hex floats, only ever sees what the schema matched.
    let canonical = sign + (whole.isEmpty ? "0" : whole) + "." + (fraction.isEmpty ? "0" : fraction) + exponent
    guard let value = Double(canonical) else { return nil }
    return value.isFinite ? .value(value) : .overflow
  }

  static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
  static func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
      || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
  }

  // MARK: Messages

  static func quoted(_ text: String) -> String {
    let limit = 60
    let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return "\"" + shown.replacingOccurrences(of: "\n", with: "\\n") + "\""
  }

  static func mismatch(_ text: String, _ tag: String) -> Problem {
    Problem(kind: .invalidValue, message: "\(quoted(text)) is not a valid \(shortTag(tag)) value")
  }

  static func intOverflow(_ text: String) -> Problem {
    Problem(
      kind: .invalidValue,
      message: "the integer \(quoted(text)) does not fit in 64 bits; quote it if it is meant as text")
  }

  static func floatProblem(_ text: String, _ match: NumberMatch<Double>) -> Problem {
    let what =
      switch match {
      case .infinity: "is infinity, which JSON cannot represent"
      case .nan: "is not-a-number, which JSON cannot represent"
      default: "is too large for a 64-bit floating-point number"
      }
    return Problem(kind: .invalidValue, message: "\(quoted(text)) \(what); quote it if it is meant as text")
  }

  static func unsupportedTag(_ tag: String) -> Problem {
    Problem(
      kind: .unsupported,
      message:
        "unsupported tag \(shortTag(tag)); only the YAML core tags are understood "
        + "(!!str, !!int, !!float, !!bool, !!null, !!seq, !!map)"
    )
  }
}
