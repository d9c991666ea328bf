// The ABI header guard: hiclaw_driver.h's declarations are locked per ABI version in
// Sources/DriverABI/abi.lock, and the header compiles as strict C99/C11 (and C++).
import DriverHost
import Foundation
import Testing

@Suite("ABI header")
struct ABIHeaderTests {
  /// The header without C comments (each replaced by one space), every whitespace run collapsed to
  /// one space, trimmed. String and character literals are kept verbatim. abi.lock's header
  /// comment describes the same rule.
  static func normalised(_ text: String) -> String {
    let bytes = Array(text.utf8)
    var stripped: [UInt8] = []
    stripped.reserveCapacity(bytes.count)
    var index = 0
    let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), newline = UInt8(ascii: "\n")
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
        stripped.append(byte)
        index += 1
        while index < bytes.count {
          let inner = bytes[index]
          stripped.append(inner)
          index += 1
          if inner == UInt8(ascii: "\\"), index < bytes.count {
            stripped.append(bytes[index])
            index += 1
            continue
          }
          if inner == byte || inner == newline { break }
        }
        continue
      }
      if byte == slash, index + 1 < bytes.count, bytes[index + 1] == star {
        index += 2
        while index + 1 < bytes.count, !(bytes[index] == star && bytes[index + 1] == slash) { index += 1 }
        index = min(index + 2, bytes.count)
        stripped.append(0x20)
        continue
      }
      if byte == slash, index + 1 < bytes.count, bytes[index + 1] == slash {
        while index < bytes.count, bytes[index] != newline { index += 1 }
        stripped.append(0x20)
        continue
      }
      stripped.append(byte)
      index += 1
    }
    var result: [UInt8] = []
    var pendingSpace = false
    for byte in stripped {
      if [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains(byte) {
        pendingSpace = !result.isEmpty
      } else {
        if pendingSpace { result.append(0x20) }
        pendingSpace = false
        result.append(byte)
      }
    }
    return String(decoding: result, as: UTF8.self)
  }

  /// SHA-256 of `text` through the host's own `sha256Hex(ofFile:)`.
  static func sha256(of text: String) throws -> String {
    let file = FileManager.default.temporaryDirectory
      .appendingPathComponent("hiclaw-abi-\(UUID().uuidString.prefix(8).lowercased()).txt")
    try Data(text.utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    return try sha256Hex(ofFile: file.path)
  }

  static func define(_ name: String, in header: String) -> Int? {
    for line in header.split(separator: "\n") {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      if words.count >= 3, words[0] == "#define", words[1] == name { return Int(words[2]) }
    }
    return nil
  }

  @Test("normalisation ignores comments and formatting but not declarations")
  func normalisationRules() {
    let a = "int  a; /* note */\n// line comment\n\tstruct s { int b; };\n"
    let b = "int a;   struct s {\n int b; };"
    #expect(Self.normalised(a) == Self.normalised(b))
    #expect(Self.normalised(a) == "int a; struct s { int b; };")
    #expect(Self.normalised("int a;") != Self.normalised("long a;"))
    #expect(Self.normalised(#"const char *s = "/* kept */";"#) == #"const char *s = "/* kept */";"#)
    #expect(Self.normalised("#define X 1 // one") == "#define X 1")
  }

  @Test("hiclaw_driver.h matches the abi.lock line of its version")
  func headerMatchesLock() throws {
    let header = try String(contentsOf: TestPaths.header, encoding: .utf8)
    let major = try #require(Self.define("HC_ABI_MAJOR", in: header), "no #define HC_ABI_MAJOR in the header")
    let minor = try #require(Self.define("HC_ABI_MINOR", in: header), "no #define HC_ABI_MINOR in the header")
    let version = "\(major).\(minor)"
    let hash = try Self.sha256(of: Self.normalised(header))
    let lock = try String(contentsOf: TestPaths.abiLock, encoding: .utf8)

    var entries: [(version: String, hash: String)] = []
    for (number, raw) in lock.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      let wellFormed = fields.count == 2
        && fields[0].split(separator: ".").count == 2 && fields[0].split(separator: ".").allSatisfy { Int($0) != nil }
        && fields[1].count == 64 && fields[1].allSatisfy { $0.isHexDigit && !$0.isUppercase }
      #expect(wellFormed, "abi.lock line \(number + 1) is not `MAJOR.MINOR <sha256>`: \(line)")
      if wellFormed { entries.append((fields[0], fields[1])) }
    }
    let versions = entries.map(\.version)
    #expect(Set(versions).count == versions.count, "abi.lock lists a version twice: \(versions)")

    let line = "\(version) \(hash)"
    let bumpAdvice = """
      bump HC_ABI_MINOR if the change only appends (a field or function at the end of a struct, a new \
      status code or flag), or HC_ABI_MAJOR (with new *_v2 entry points) for anything else; then append \
      the line for the new version to Sources/DriverABI/abi.lock (the test prints it). Never edit an \
      existing line.
      """
    guard let locked = entries.first(where: { $0.version == version }) else {
      Issue.record("""
        abi.lock has no line for ABI \(version). If \(version) is a new version, append:
          \(line)
        Otherwise \(bumpAdvice)
        """)
      return
    }
    #expect(locked.hash == hash, """
      hiclaw_driver.h changed but its ABI version is still \(version) (abi.lock: \(locked.hash), header now: \(hash)). \
      Revert the change, or \(bumpAdvice) For a new minor the line would read `\(major).\(minor + 1) <hash>` with the \
      hash of the header after the bump.
      """)
  }

  struct Dialect: Sendable, CustomTestStringConvertible {
    var compiler: String
    var flags: [String]
    var fileExtension: String
    var testDescription: String { "\(compiler) \(flags.joined(separator: " "))" }
  }

  static let strict = ["-Wall", "-Wextra", "-pedantic", "-Werror"]
  static let dialects: [Dialect] = [
    Dialect(compiler: "cc", flags: ["-std=c99"] + strict, fileExtension: "c"),
    Dialect(compiler: "cc", flags: ["-std=c11"] + strict, fileExtension: "c"),
    Dialect(compiler: "c++", flags: ["-std=c++11"] + strict, fileExtension: "cpp"),
  ]

  static let probe = """
    #include "hiclaw_driver.h"

    static const hc_driver_magic probe_magic = {
      HC_MAGIC, (uint32_t)sizeof(hc_driver_magic), HC_ABI_MAJOR, HC_ABI_MINOR,
      (uint32_t)sizeof(void *), 0u, "c", "abi_probe", "1.0.0"};

    HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void);
    HC_EXPORT const hc_driver_magic *hc_driver_magic_v1(void) { return &probe_magic; }

    int probe_has_call(uint32_t size);
    int probe_has_call(uint32_t size) { return HC_HAS_FIELD(hc_driver_api, call, size) ? 1 : 0; }

    int probe_status_count(void);
    int probe_status_count(void) { return HC_STATUS_COUNT + (int)HC_CAP_STREAMING; }

    """

  @Test("the header compiles cleanly in strict C99, C11 and C++11", arguments: dialects)
  func headerCompiles(_ dialect: Dialect) throws {
    let compiler = try #require(which(dialect.compiler), "\(dialect.compiler) is not on PATH")
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("hiclaw-abi-cc-\(UUID().uuidString.prefix(8).lowercased())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let source = directory.appendingPathComponent("probe.\(dialect.fileExtension)")
    try Self.probe.write(to: source, atomically: true, encoding: .utf8)
    let include = TestPaths.header.deletingLastPathComponent().path
    let result = try runCommand(
      compiler,
      dialect.flags + ["-I", include, "-c", source.path, "-o", directory.appendingPathComponent("probe.o").path])
    #expect(result.status == 0, "\(dialect.testDescription) failed:\n\(result.output)")
    #expect(result.output.isEmpty, "\(dialect.testDescription) printed diagnostics:\n\(result.output)")
  }
}
