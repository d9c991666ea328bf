import Foundation

/// The individual checks validation is built from, public so the CLI and API can reuse them
/// (and quote the same rules in their messages).
public enum Rules {
  // MARK: Names

  /// The rule for object names and agent runtime names (an RFC 1123 DNS label).
  public static let namePattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"

  /// Whether `text` matches ``namePattern``: 1–63 characters of `a-z`, `0-9` and `-`, starting and
  /// ending with a letter or digit.
  public static func isName(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard (1...63).contains(bytes.count), isLowerAlphanumeric(bytes.first!), isLowerAlphanumeric(bytes.last!)
    else { return false }
    return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
  }

  /// The message for a name that breaks ``namePattern``, with a corrected name when one exists.
  static func nameMessage(_ text: String) -> String {
    var message =
      "must match \(namePattern) (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"
    if let fixed = suggestedName(for: text), fixed != text { message += "; try \(CanonicalJSON.quote(fixed))" }
    return message
  }

  /// `text` made into a valid name (lower-cased, other characters turned into `-`, trimmed), or
  /// `nil` if nothing usable is left.
  public static func suggestedName(for text: String) -> String? {
    var result: [UInt8] = []
    for byte in text.lowercased().utf8 {
      let mapped = isLowerAlphanumeric(byte) ? byte : UInt8(ascii: "-")
      if mapped == UInt8(ascii: "-"), result.last == UInt8(ascii: "-") { continue }
      result.append(mapped)
    }
    var name = String(decoding: result, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    if name.count > 63 { name = String(name.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-")) }
    return isName(name) ? name : nil
  }

  /// The rule for a Human's `username` (a Matrix user-ID localpart; `/` is excluded because the
  /// name also keys storage paths).
  public static let usernamePattern = "^[a-z0-9._=-]+$"

  public static func isUsername(_ text: String) -> Bool {
    !text.isEmpty && text.utf8.count <= 255
      && text.utf8.allSatisfy { isLowerAlphanumeric($0) || "._=-".utf8.contains($0) }
  }

  /// Runtime names nobody may take: the Manager's Matrix account and storage prefix.
  public static let reservedRuntimeNames: Set<String> = [Manager.matrixLocalpart]

  // MARK: Maps

  /// The rule for `env` keys.
  public static let envKeyPattern = "^[a-zA-Z_][a-zA-Z0-9_]*$"

  public static func isEnvKey(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
    return bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
  }

  /// What is wrong with a Kubernetes label or annotation key (`[prefix/]name`: the prefix a DNS
  /// subdomain of at most 253 characters, the name at most 63 characters of alphanumerics, `-`,
  /// `_` and `.`, starting and ending alphanumeric), or `nil` if it is valid.
  public static func qualifiedNameProblem(_ key: String) -> String? {
    let parts = key.split(separator: "/", omittingEmptySubsequences: false)
    let name: Substring
    switch parts.count {
    case 1: name = parts[0]
    case 2:
      let prefix = String(parts[0])
      if prefix.isEmpty { return "the prefix before '/' must not be empty" }
      if prefix.utf8.count > 253 || !isDNSSubdomain(prefix) {
        return "the prefix \(CanonicalJSON.quote(prefix)) must be a lowercase DNS subdomain (such as example.com) of at most 253 characters"
      }
      name = parts[1]
    default:
      return "a key has at most one '/' (prefix/name)"
    }
    if name.isEmpty { return "the name part must not be empty" }
    if name.utf8.count > 63 { return "the name part must be at most 63 characters" }
    if !isLabelValueShape(name) {
      return "the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"
    }
    return nil
  }

  /// What is wrong with a Kubernetes label value (empty, or at most 63 characters of
  /// alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric), or `nil` if it is valid.
  public static func labelValueProblem(_ value: String) -> String? {
    if value.isEmpty { return nil }
    if value.utf8.count > 63 { return "must be at most 63 characters" }
    if !isLabelValueShape(Substring(value)) {
      return "must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"
    }
    return nil
  }

  // MARK: Durations

  /// Parses a Go-style duration: one or more `<number><unit>` with units `ns`, `us` (or `µs`),
  /// `ms`, `s`, `m`, `h`, numbers possibly fractional (`15m`, `720m`, `30s`, `1h`, `1h30m`,
  /// `1.5h`). Returns `nil` for anything else, including zero and negative durations.
  public static func parseDuration(_ text: String) -> Duration? {
    // Nanoseconds per unit; arithmetic stays in integers so "250ms" is exactly 250 ms.
    let units: [(String, Int64)] = [
      ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000),
      ("h", 3_600_000_000_000),
    ]
    func isNumberCharacter(_ character: Character) -> Bool { character.isASCII && (character.isNumber || character == ".") }
    var rest = Substring(text)
    var total: Int64 = 0
    guard !rest.isEmpty else { return nil }
    while !rest.isEmpty {
      let number = rest.prefix(while: isNumberCharacter)
      rest = rest.dropFirst(number.count)
      let unitText = rest.prefix { !isNumberCharacter($0) }
      rest = rest.dropFirst(unitText.count)
      let parts = number.split(separator: ".", omittingEmptySubsequences: false)
      guard let unit = units.first(where: { $0.0 == unitText })?.1, (1...2).contains(parts.count),
        !(parts[0].isEmpty && (parts.count == 1 || parts[1].isEmpty))
      else { return nil }
      let whole = parts[0].isEmpty ? 0 : Int64(parts[0])
      guard let whole else { return nil }
      var (value, overflow) = whole.multipliedReportingOverflow(by: unit)
      if parts.count == 2, !parts[1].isEmpty {
        var scale = unit
        for digit in parts[1].prefix(18) {
          scale /= 10
          value += Int64(digit.wholeNumberValue!) * scale
        }
      }
      (total, overflow) = overflow ? (0, true) : total.addingReportingOverflow(value)
      if overflow { return nil }
    }
    guard total > 0 else { return nil }
    return .nanoseconds(total)
  }

  static let durationMessage =
    "must be a positive duration such as \"30s\", \"15m\", \"1h\" or \"1h30m\" (units ns, us, ms, s, m, h)"

  // MARK: Matrix, URLs, addresses

  /// Whether `text` is a Matrix user ID `@localpart:server`.
  public static func isMatrixUserID(_ text: String) -> Bool {
    guard text.hasPrefix("@"), let colon = text.firstIndex(of: ":") else { return false }
    let localpart = text[text.index(after: text.startIndex)..<colon]
    let server = text[text.index(after: colon)...]
    return !localpart.isEmpty && !server.isEmpty && !text.contains(where: \.isWhitespace)
  }

  /// Whether `text` is a channel-policy entry: a Matrix user ID or a bare localpart.
  public static func isChannelPolicyEntry(_ text: String) -> Bool {
    if text.hasPrefix("@") { return isMatrixUserID(text) }
    return !text.isEmpty && !text.contains(":")
      && text.utf8.allSatisfy { isLowerAlphanumeric($0) || "._=-/".utf8.contains($0) }
  }

  /// Whether `text` looks like an e-mail address (`local@domain`, no spaces).
  public static func isEmail(_ text: String) -> Bool {
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && !parts[1].hasPrefix(".")
      && !parts[1].hasSuffix(".") && !text.contains(where: \.isWhitespace)
  }

  /// Whether `text` is an absolute `http`/`https` URL with a host.
  public static func isHTTPURL(_ text: String) -> Bool {
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
      let host = url.host, !host.isEmpty
    else { return false }
    return true
  }

  /// The rule for `remoteSkills[].source`.
  public static let nacosSourcePattern = "^nacos://[^/]+/[^/?#]+$"

  public static func isNacosSource(_ text: String) -> Bool {
    guard text.hasPrefix("nacos://") else { return false }
    let parts = text.dropFirst("nacos://".count).split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
    return !parts[1].contains(where: { "?#".contains($0) })
  }

  /// The schemes a `package` URI may use (a URI without a scheme is a path in hiclaw's storage).
  public static let packageSchemes = ["file", "http", "https", "nacos", "oss"]

  /// What is wrong with a `package` URI, or `nil`.
  public static func packageProblem(_ text: String) -> String? {
    if text.trimmingCharacters(in: .whitespaces).isEmpty { return "must not be empty; remove the field instead" }
    guard let range = text.range(of: "://") else { return nil }
    let scheme = text[..<range.lowerBound].lowercased()
    guard packageSchemes.contains(scheme) else {
      return "unsupported scheme \(CanonicalJSON.quote(scheme)); use one of \(packageSchemes.map { "\($0)://" }.joined(separator: ", ")) or a storage path such as packages/alice.zip"
    }
    if text[range.upperBound...].isEmpty { return "nothing after \(scheme)://" }
    return nil
  }

  // MARK: Characters

  static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || isDigit(byte)
  }

  static func isLetter(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
  }

  static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

  static func isDNSSubdomain(_ text: String) -> Bool {
    text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
      let bytes = Array(label.utf8)
      guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
      return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
        && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
  }

  static func isLabelValueShape(_ text: Substring) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, let last = bytes.last else { return false }
    func alphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
    return alphanumeric(first) && alphanumeric(last)
      && bytes.allSatisfy { alphanumeric($0) || "-_.".utf8.contains($0) }
  }
}
