import DriverABI

extension hc_str {
  /// The borrowed bytes as a Swift String (copied; invalid UTF-8 is repaired).
  var string: String {
    guard let ptr, len > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
  }
}

extension String {
  /// Runs `body` with this string borrowed as an `hc_str` (no copy for native strings).
  func withHCStr<R>(_ body: (hc_str) throws -> R) rethrows -> R {
    var copy = self
    return try copy.withUTF8 { utf8 in
      try body(hc_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count))
    }
  }
}

/// Reads a NUL-terminated C string that may be NULL.
func optionalCString(_ pointer: UnsafePointer<CChar>?) -> String? {
  pointer.map { String(cString: $0) }
}
