// DriverManifest: read without running driver code; every problem names its field; unknown fields
// are errors (a typo must not be ignored); a valid manifest round-trips.
import DriverHost
import Foundation
import Testing

@Suite("DriverManifest")
struct ManifestTests {
  static var validFields: [String: Any] { [
    "manifest_version": 1, "name": "noop", "kind": "worker-backend", "library": "libhc_noop.so",
    "abi": ["major": 1, "min_minor": 0], "protocols": ["hiclaw.worker-backend/1"], "version": "1.0.0",
    "toolchain": "c", "sha256": String(repeating: "ab", count: 32), "isolation": "in-process",
  ] }

  /// Writes `fields` as `<name>.json` in a fresh directory, runs `body`, removes the directory.
  static func withManifestFile<R>(
    _ fields: [String: Any], fileName: String = "noop.json", _ body: (URL) throws -> R
  ) throws -> R {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("hiclaw-manifest-test-\(UUID().uuidString.prefix(8).lowercased())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent(fileName)
    try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]).write(to: file)
    return try body(file)
  }

  static func loadFailure(_ fields: [String: Any]) throws -> DriverLoadError? {
    try withManifestFile(fields) { file -> DriverLoadError? in
      do {
        _ = try DriverManifest.load(from: file)
        return nil
      } catch let error as DriverLoadError {
        return error
      }
    }
  }

  static func with(_ changes: [String: Any?]) -> [String: Any] {
    var fields = validFields
    for (key, value) in changes { fields[key] = value }
    return fields
  }

  @Test("a valid manifest loads and round-trips through encoded()")
  func roundTrip() throws {
    let manifest = try Self.withManifestFile(Self.validFields) { try DriverManifest.load(from: $0) }
    let expected = DriverManifest(
      name: "noop", kind: "worker-backend", library: "libhc_noop.so", abi: .init(major: 1, minMinor: 0),
      protocols: ["hiclaw.worker-backend/1"], version: "1.0.0", toolchain: "c",
      sha256: String(repeating: "ab", count: 32), isolation: .inProcess)
    #expect(manifest == expected)
    #expect(manifest.validationErrors().isEmpty)
    let encoded = manifest.encoded()
    let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
    #expect(Set(object.keys) == Set(Self.validFields.keys))
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("hiclaw-manifest-test-\(UUID().uuidString.prefix(8).lowercased())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("noop.json")
    try encoded.write(to: file)
    #expect(try DriverManifest.load(from: file) == manifest)
    // encoded() is stable.
    #expect(manifest.encoded() == encoded)
  }

  @Test("an unknown field is rejected, naming it")
  func unknownField() throws {
    let error = try #require(try Self.loadFailure(Self.with(["isolaton": "process"])))
    #expect(error.stage == .manifest)
    #expect(error.field == "isolaton")
    #expect(error.message.contains("isolaton: unknown field"), "\(error.message)")
  }

  @Test("a missing field is rejected, naming it")
  func missingField() throws {
    let error = try #require(try Self.loadFailure(Self.with(["sha256": nil])))
    #expect(error.stage == .manifest)
    #expect(error.field == "sha256")
    #expect(error.message.contains("sha256: required"), "\(error.message)")
  }

  @Test("a malformed sha256 is rejected, naming the field", arguments: ["abc", String(repeating: "AB", count: 32), String(repeating: "g", count: 64)])
  func badSHA(_ sha: String) throws {
    let error = try #require(try Self.loadFailure(Self.with(["sha256": sha])), "sha256 \(sha) accepted")
    #expect(error.stage == .manifest)
    #expect(error.field == "sha256")
    #expect(error.message.contains("64 lower-case hex"), "\(error.message)")
  }

  @Test("a bad name is rejected, naming the field", arguments: ["Noop", "-noop", "no op", "", String(repeating: "a", count: 64), "nöop"])
  func badName(_ name: String) throws {
    let error = try #require(try Self.loadFailure(Self.with(["name": name])), "name \(name.debugDescription) accepted")
    #expect(error.stage == .manifest)
    #expect(error.field == "name")
    #expect(error.message.contains("name:"), "\(error.message)")
  }

  @Test("other invalid values name their field", arguments: [
    ("kind", #""database""#, "kind"),
    ("library", #""../libhc_noop.so""#, "library"),
    ("abi", #"{"major":2,"min_minor":0}"#, "abi.major"),
    ("protocols", "[]", "protocols"),
    ("manifest_version", "2", "manifest_version"),
  ])
  func otherFields(_ key: String, _ valueJSON: String, _ field: String) throws {
    let value = try JSONSerialization.jsonObject(with: Data(valueJSON.utf8), options: [.fragmentsAllowed])
    let error = try #require(try Self.loadFailure(Self.with([key: value])), "\(key) = \(valueJSON) accepted")
    #expect(error.stage == .manifest)
    #expect(error.field == field, "\(error)")
    #expect(error.message.contains("\(field):"), "\(error.message)")
  }

  @Test("a wrong type names the field path in the message")
  func wrongType() throws {
    let error = try #require(try Self.loadFailure(Self.with(["abi": ["major": "one", "min_minor": 0]])))
    #expect(error.stage == .manifest)
    #expect(error.message.contains("abi.major"), "\(error.message)")
  }

  @Test("DriverDirectory: the file name must be <name>.json")
  func directoryNames() throws {
    try Self.withManifestFile(Self.validFields, fileName: "other.json") { file in
      let entries = DriverDirectory(url: file.deletingLastPathComponent()).manifests()
      #expect(entries.count == 1)
      guard case .failure(let error) = entries.first?.manifest else {
        Issue.record("other.json naming driver noop was accepted")
        return
      }
      #expect(error.field == "name")
      #expect(error.message.contains("\"noop\"") && error.message.contains("\"other\""), "\(error.message)")
    }
  }
}
