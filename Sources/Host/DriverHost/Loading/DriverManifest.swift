import Crypto
import DriverProtocols
import Foundation

/// Where a driver runs: inside the host process, or in its own `hiclaw-driver-runner` process
/// where a crash or a hang cannot take the host down.
public enum DriverIsolation: String, Sendable, Codable, CaseIterable {
  case inProcess = "in-process"
  case process
}

/// A driver's manifest, `<drivers-dir>/<name>.json`, read without running any driver code.
///
///     {"manifest_version":1,"name":"docker","kind":"worker-backend","library":"libhc_docker.so",
///      "abi":{"major":1,"min_minor":0},"protocols":["hiclaw.worker-backend/1"],"version":"0.1.0",
///      "toolchain":"swift-6.3.1","sha256":"…","isolation":"in-process"}
public struct DriverManifest: Sendable, Codable, Equatable {
  public struct ABI: Sendable, Codable, Equatable {
    public var major: UInt32
    public var minMinor: UInt32
    enum CodingKeys: String, CodingKey {
      case major
      case minMinor = "min_minor"
    }
    public init(major: UInt32, minMinor: UInt32) {
      self.major = major
      self.minMinor = minMinor
    }
  }

  public var manifestVersion: Int
  public var name: String
  public var kind: String
  /// The library's file name, relative to the manifest's directory.
  public var library: String
  public var abi: ABI
  public var protocols: [String]
  public var version: String
  public var toolchain: String
  /// Lower-case hex SHA-256 of the library file.
  public var sha256: String
  public var isolation: DriverIsolation

  enum CodingKeys: String, CodingKey, CaseIterable {
    case manifestVersion = "manifest_version"
    case name, kind, library, abi, protocols, version, toolchain, sha256, isolation
  }

  public init(
    name: String, kind: String, library: String, abi: ABI, protocols: [String], version: String,
    toolchain: String, sha256: String, isolation: DriverIsolation
  ) {
    self.manifestVersion = 1
    self.name = name
    self.kind = kind
    self.library = library
    self.abi = abi
    self.protocols = protocols
    self.version = version
    self.toolchain = toolchain
    self.sha256 = sha256
    self.isolation = isolation
  }

  public static let knownKinds: Set<String> = ["worker-backend", "agent-runtime"]

  /// Every problem with the manifest's fields, each as `field: problem`. Empty when valid.
  public func validationErrors() -> [String] {
    var errors: [String] = []
    if manifestVersion != 1 { errors.append("manifest_version: must be 1, found \(manifestVersion)") }
    if !Self.isValidName(name) {
      errors.append("name: \"\(name)\" must match ^[a-z0-9][a-z0-9._-]{0,62}$")
    }
    if !Self.knownKinds.contains(kind) {
      errors.append("kind: \"\(kind)\" must be one of \(Self.knownKinds.sorted().joined(separator: ", "))")
    }
    if library.isEmpty || library.contains("/") || library == "." || library == ".." {
      errors.append("library: \"\(library)\" must be a file name in the manifest's directory (no path)")
    }
    if abi.major != 1 { errors.append("abi.major: this host supports ABI major 1, manifest says \(abi.major)") }
    if protocols.isEmpty { errors.append("protocols: must list at least one protocol, e.g. hiclaw.worker-backend/1") }
    if version.isEmpty { errors.append("version: required (semantic version of the driver)") }
    if toolchain.isEmpty { errors.append("toolchain: required (\"c\", \"rust-1.95\", \"swift-6.3.1\" …)") }
    if sha256.count != 64 || !sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
      errors.append("sha256: must be 64 lower-case hex digits (sha256sum of the library)")
    }
    return errors
  }

  static func isValidName(_ name: String) -> Bool {
    guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
    func allowed(_ c: UInt8, first: Bool) -> Bool {
      (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || (!first && (c == 0x2D || c == 0x2E || c == 0x5F))
    }
    return allowed(first, first: true) && name.utf8.dropFirst().allSatisfy { allowed($0, first: false) }
  }

  /// Reads and validates a manifest file. Unknown fields are errors (a typo must not be ignored).
  public static func load(from url: URL) throws(DriverLoadError) -> DriverManifest {
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw DriverLoadError(.manifest, "\(url.path): cannot be read", fix: "check the path and its permissions")
    }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw DriverLoadError(.manifest, "\(url.path): not a JSON object", fix: "write the manifest as JSON (see docs/drivers-sdk.md)")
    }
    let known = Set(CodingKeys.allCases.map(\.rawValue))
    let unknown = object.keys.filter { !known.contains($0) }.sorted()
    var errors = unknown.map { "\($0): unknown field (known: \(known.sorted().joined(separator: ", ")))" }
    let missing = known.subtracting(object.keys).sorted()
    errors += missing.map { "\($0): required" }
    guard errors.isEmpty else {
      throw DriverLoadError(.manifest, field: (unknown + missing).first, "\(url.path): \(errors.joined(separator: "; "))",
        fix: "correct the manifest's fields (see docs/drivers-sdk.md)")
    }
    let manifest: DriverManifest
    do {
      manifest = try JSONDecoder().decode(DriverManifest.self, from: data)
    } catch {
      throw DriverLoadError(.manifest, "\(url.path): \(WireJSON.describe(error))", fix: "correct the field's type (see docs/drivers-sdk.md)")
    }
    let problems = manifest.validationErrors()
    guard problems.isEmpty else {
      throw DriverLoadError(.manifest, field: problems.first.flatMap { $0.split(separator: ":").first.map(String.init) },
        "\(url.path): \(problems.joined(separator: "; "))", fix: "correct the manifest's fields (see docs/drivers-sdk.md)")
    }
    return manifest
  }

  /// The manifest as pretty, stable JSON.
  public func encoded() -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(self)) ?? Data()
  }
}

/// Lower-case hex SHA-256 of a file's contents.
public func sha256Hex(ofFile path: String) throws(DriverLoadError) -> String {
  guard let data = FileManager.default.contents(atPath: path) else {
    throw DriverLoadError(.open, field: "library", "\(path): cannot be read", fix: "check that the file exists and is readable")
  }
  return SHA256.hash(data: data).map { byte in
    let hex = String(byte, radix: 16)
    return byte < 16 ? "0" + hex : hex
  }.joined()
}
