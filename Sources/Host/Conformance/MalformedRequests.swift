/// Syntactically invalid JSON requests, generated from a seed so a failure can be reproduced:
/// truncations of a plausible request, stray bytes, unbalanced nesting, bad escapes, invalid
/// UTF-8 replaced by U+FFFD (still invalid JSON around it), and deep nesting.
enum MalformedRequests {
  static let base = #"{"name":"hc-fuzz","image":"busybox","labels":{"a":"b"},"ports":[{"container":80}]}"#

  static func make(count: Int, seed: UInt64) -> [String] {
    var generator = SplitMix64(seed: seed)
    let bytes = Array(base.utf8)
    var requests: [String] = [
      "{", "}", "[", "{\"name\":", "{\"name\" \"x\"}", "{'name':'x'}", "{\"name\":\"x\",}", "nul", "tru",
      "{\"a\":\"\\x\"}", "{\"a\":\"\u{01}\"}", "01", "-", "{\"a\":1}{", String(repeating: "[", count: 10_000),
      "{\"a\":" + String(repeating: "{\"a\":", count: 5_000),
    ]
    while requests.count < count {
      var mutated = bytes
      switch generator.next() % 3 {
      case 0:  // truncate inside the value
        mutated = Array(bytes.prefix(1 + Int(generator.next() % UInt64(bytes.count - 1))))
      case 1:  // overwrite one byte with a structural character
        let structural = Array("{}[]:,\"\\".utf8)
        mutated[Int(generator.next() % UInt64(bytes.count))] = structural[Int(generator.next() % UInt64(structural.count))]
      default:  // insert garbage
        let position = Int(generator.next() % UInt64(bytes.count))
        mutated.insert(contentsOf: Array("#@!".utf8), at: position)
      }
      let text = String(decoding: mutated, as: UTF8.self)
      if JSONSyntaxCheck.isInvalid(text) { requests.append(text) }
    }
    return Array(requests.prefix(count))
  }
}

/// A small, fast, seedable generator (SplitMix64).
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

import DriverHost

/// Only mutations that really are invalid JSON are kept (an overwrite can produce valid JSON).
enum JSONSyntaxCheck {
  static func isInvalid(_ text: String) -> Bool {
    do {
      try JSONCheck.validate(text)
      return false
    } catch {
      return true
    }
  }
}
