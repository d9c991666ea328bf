import Foundation

/// A point in time with millisecond precision, written as an RFC 3339 UTC string
/// (`2026-05-01T12:30:00Z`, or `2026-05-01T12:30:00.250Z` when there are milliseconds).
///
/// Millisecond precision makes encode → decode exact, so a stored object compares equal to the
/// object it was made from. Parsing accepts any RFC 3339 offset (`+02:00`) and up to nine
/// fractional digits (truncated to milliseconds).
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// Milliseconds since 1970-01-01T00:00:00Z.
  public var millisecondsSinceEpoch: Int64

  public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

  /// `date`, truncated to the millisecond.
  public init(_ date: Date) {
    millisecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
  }

  /// The current time, truncated to the millisecond.
  public static func now() -> Timestamp { Timestamp(Date()) }

  public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSinceEpoch) / 1000) }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
  }

  public var description: String { rfc3339 }

  // MARK: RFC 3339

  /// The UTC RFC 3339 form.
  public var rfc3339: String {
    let (seconds, millis) = millisecondsSinceEpoch.floorDividedAndModulo(1000)
    let (days, secondOfDay) = seconds.floorDividedAndModulo(86_400)
    let (year, month, day) = Self.civil(fromDays: days)
    func pad(_ value: Int64, _ width: Int) -> String {
      let digits = String(abs(value))
      return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
    text += "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
    if millis != 0 { text += ".\(pad(millis, 3))" }
    return text + "Z"
  }

  /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`t`/`z` and a space for `T` accepted).
  public init?(rfc3339 text: String) {
    let bytes = Array(text.utf8)
    var index = 0
    func number(_ width: Int) -> Int64? {
      guard index + width <= bytes.count else { return nil }
      var value: Int64 = 0
      for byte in bytes[index..<index + width] {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        value = value * 10 + Int64(byte - 0x30)
      }
      index += width
      return value
    }
    func expect(_ allowed: String) -> Bool {
      guard index < bytes.count, allowed.utf8.contains(bytes[index]) else { return false }
      index += 1
      return true
    }
    guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
      expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
      let second = number(2)
    else { return nil }
    guard (1...12).contains(month), day >= 1, day <= Self.daysInMonth(year: year, month: month),
      hour < 24, minute < 60, second < 61
    else { return nil }
    var millis: Int64 = 0
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      var digits = 0
      while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
        if digits < 3 { millis = millis * 10 + Int64(bytes[index] - 0x30) }
        digits += 1
        index += 1
      }
      guard digits > 0, digits <= 9 else { return nil }
      if digits < 3 { for _ in digits..<3 { millis *= 10 } }
    }
    var offsetSeconds: Int64 = 0
    if expect("Zz") {
      offsetSeconds = 0
    } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
      let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
      index += 1
      guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2), offsetHours < 24,
        offsetMinutes < 60
      else { return nil }
      offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
    } else {
      return nil
    }
    guard index == bytes.count else { return nil }
    let days = Self.days(fromCivil: year, month, day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
    millisecondsSinceEpoch = seconds * 1000 + millis
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self.init(millisecondsSinceEpoch: 0)
      return
    }
    let text = try container.decode(String.self)
    guard let parsed = Timestamp(rfc3339: text) else {
      throw DecodingError.dataCorruptedError(
        in: container,
        debugDescription: "expected an RFC 3339 timestamp such as \"2026-05-01T12:30:00Z\", got \(CanonicalJSON.quote(text))")
    }
    self = parsed
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rfc3339)
  }

  // MARK: Civil calendar (proleptic Gregorian)

  static func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 of a civil date.
  static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let monthIndex = (month + 9) % 12  // March = 0
    let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  /// The civil date of a day count since 1970-01-01.
  static func civil(fromDays count: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let shifted = count + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}

extension Int64 {
  /// Floor division and the matching non-negative remainder.
  fileprivate func floorDividedAndModulo(_ divisor: Int64) -> (Int64, Int64) {
    var quotient = self / divisor
    var remainder = self % divisor
    if remainder < 0 {
      quotient -= 1
      remainder += divisor
    }
    return (quotient, remainder)
  }
}
