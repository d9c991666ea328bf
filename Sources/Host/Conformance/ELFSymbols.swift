import Foundation

/// The dynamic symbols an ELF shared library defines and exports, read straight from its
/// `.dynsym` section (what `nm -D --defined-only` prints), so `hiclaw driver verify` needs no
/// binutils on the operator's machine.
public enum ELFSymbols {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Names of defined, global or weak, default- or protected-visibility dynamic symbols.
  public static func exportedSymbols(ofFile path: String) throws(Failure) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "\(path): cannot be read") }
    let result: Result<[String], Failure> = data.withUnsafeBytes { raw in
      Result { () throws(Failure) -> [String] in try parse(raw) }
    }
    return try result.get()
  }

  private static func parse(_ raw: UnsafeRawBufferPointer) throws(Failure) -> [String] {
    do {
      func u16(_ offset: Int) throws(Failure) -> Int {
        guard offset + 2 <= raw.count else { throw Failure(description: "truncated ELF file") }
        return Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
      }
      func u32(_ offset: Int) throws(Failure) -> Int {
        guard offset + 4 <= raw.count else { throw Failure(description: "truncated ELF file") }
        return Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
      }
      func u64(_ offset: Int) throws(Failure) -> Int {
        guard offset + 8 <= raw.count else { throw Failure(description: "truncated ELF file") }
        return Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian)
      }
      guard raw.count > 64, raw[0] == 0x7F, raw[1] == 0x45, raw[2] == 0x4C, raw[3] == 0x46 else {
        throw Failure(description: "not an ELF file")
      }
      guard raw[4] == 2, raw[5] == 1 else { throw Failure(description: "only 64-bit little-endian ELF is supported") }
      let sectionOffset = try u64(0x28)
      let sectionSize = try u16(0x3A)
      let sectionCount = try u16(0x3C)
      func section(_ index: Int) throws(Failure) -> (type: Int, offset: Int, size: Int, link: Int, entrySize: Int) {
        let base = sectionOffset + index * sectionSize
        return (try u32(base + 4), try u64(base + 0x18), try u64(base + 0x20), try u32(base + 0x28), try u64(base + 0x38))
      }
      var names: [String] = []
      for index in 0..<sectionCount {
        let symbols = try section(index)
        guard symbols.type == 11 /* SHT_DYNSYM */, symbols.entrySize >= 24 else { continue }
        let strings = try section(symbols.link)
        for entry in 0..<(symbols.size / symbols.entrySize) {
          let base = symbols.offset + entry * symbols.entrySize
          let nameOffset = try u32(base)
          guard base + 8 <= raw.count else { throw Failure(description: "truncated symbol table") }
          let info = raw[base + 4]
          let visibility = raw[base + 5] & 3
          let sectionIndex = try u16(base + 6)
          let binding = info >> 4
          guard sectionIndex != 0, binding == 1 || binding == 2, visibility == 0 || visibility == 3 else { continue }
          var end = strings.offset + nameOffset
          guard end < raw.count else { continue }
          let start = end
          while end < raw.count, raw[end] != 0 { end += 1 }
          let name = String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<end]), as: UTF8.self)
          if !name.isEmpty { names.append(name) }
        }
      }
      return names.sorted()
    }
  }
}
