// Loader errors (driver-abi.md §C.9, §C.11 items 1–5): every refusal names its stage and field,
// says what is wrong with both values where there are two, and is identical whether the library
// was loaded in process or by hiclaw-driver-runner (which sends the DriverLoadError back).
import DriverHost
import DriverProtocols
import Foundation
import Testing

struct LoaderCase: Sendable, CustomTestStringConvertible {
  var stem: String
  var stage: DriverLoadError.Stage
  var field: String
  var fragments: [String]
  var testDescription: String { stem }
}

@Suite("Loader errors", .timeLimit(.minutes(2)))
struct LoaderErrorTests {
  static let fixtureCases: [LoaderCase] = [
    LoaderCase(stem: "wrong_magic", stage: .magic, field: "magic", fragments: ["0xDEADBEEF", "0x48445231"]),
    LoaderCase(stem: "wrong_major", stage: .magic, field: "abi_major", fragments: ["major 2", "major 1"]),
    LoaderCase(stem: "wrong_pointer_size", stage: .magic, field: "pointer_size", fragments: ["4-byte", "uses 8"]),
    LoaderCase(stem: "missing_init", stage: .symbol, field: "hc_driver_init_v1", fragments: ["hc_driver_init_v1"]),
    LoaderCase(stem: "no_symbols", stage: .symbol, field: "hc_driver_magic_v1", fragments: ["hc_driver_magic_v1"]),
    LoaderCase(
      stem: "init_fails", stage: .initialize, field: "hc_driver_init_v1",
      fragments: ["FAILED_PRECONDITION", "init_fails: refusing to start (this fixture always fails init)"]),
    LoaderCase(stem: "short_vtable", stage: .vtable, field: "hc_driver_api.call", fragments: ["struct_size 40", "at least 48"]),
    LoaderCase(stem: "null_call", stage: .vtable, field: "hc_driver_api.call", fragments: ["required but NULL"]),
    LoaderCase(stem: "bad_describe", stage: .describe, field: "describe", fragments: ["invalid JSON", "byte 25"]),
  ]

  /// Loads `path` both ways and returns the two errors (nil where the load succeeded).
  static func bothModes(
    _ t: TestHost, _ path: String, expectedName: String? = nil
  ) async -> (inProcess: DriverLoadError?, runner: DriverLoadError?) {
    let inProcess = await loadError { try await t.load(path, .inProcess, expectedName: expectedName) }
    let runner = await loadError { try await t.load(path, .process, expectedName: expectedName) }
    return (inProcess, runner)
  }

  @Test("a defective fixture is refused with its stage, field and values — identically in both modes", arguments: fixtureCases)
  func defectiveFixture(_ c: LoaderCase) async throws {
    try await withTestHost { t in
      let path = try t.fixture(c.stem)
      let (inProcess, runner) = await Self.bothModes(t, path)
      let error = try #require(inProcess, "\(c.stem) was accepted in process")
      #expect(error.stage == c.stage, "\(error)")
      #expect(error.field == c.field, "\(error)")
      for fragment in c.fragments {
        #expect(error.message.contains(fragment), "message of \(c.stem) lacks \"\(fragment)\": \(error.message)")
      }
      #expect(!error.fix.isEmpty)
      #expect(error.description.hasPrefix("\(c.stage.rawValue) \(c.field): "))
      #expect(runner == error, "the runner reported a different error than the in-process loader")
    }
  }

  @Test("a name that differs from the magic block's is refused (expectedName and manifest)")
  func nameMismatch() async throws {
    try await withTestHost { t in
      let path = try t.fixture("noop")
      let (inProcess, runner) = await Self.bothModes(t, path, expectedName: "docker")
      let error = try #require(inProcess)
      #expect(error.stage == .magic)
      #expect(error.field == "name")
      #expect(error.message.contains("\"docker\""), "\(error.message)")
      #expect(error.message.contains("\"noop\""), "\(error.message)")
      #expect(runner == error)

      // The same through a manifest whose sha256 is right but whose name is not the driver's.
      let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
      let manifest = DriverManifest(
        name: "other", kind: "worker-backend", library: "libhc_noop.so", abi: .init(major: 1, minMinor: 0),
        protocols: ["hiclaw.worker-backend/1"], version: "1.0.0", toolchain: "c", sha256: try sha256Hex(ofFile: path),
        isolation: .inProcess)
      var errors: [DriverLoadError] = []
      for isolation in DriverIsolation.allCases {
        let failure = await loadError { try await t.host.load(manifest: manifest, directory: directory, isolation: isolation) }
        errors.append(try #require(failure, "manifest name 'other' was accepted (\(isolation))"))
      }
      #expect(errors[0].stage == .magic)
      #expect(errors[0].field == "name")
      #expect(errors[0].message.contains("\"other\"") && errors[0].message.contains("\"noop\""), "\(errors[0].message)")
      #expect(errors[1] == errors[0])
    }
  }

  @Test("a sha256 mismatch is refused before anything is loaded, naming both hashes")
  func checksumMismatch() async throws {
    try await withTestHost { t in
      let path = try t.fixture("noop")
      let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
      let actual = try sha256Hex(ofFile: path)
      let wrong = String(repeating: "0", count: 64)
      var manifest = DriverManifest(
        name: "noop", kind: "worker-backend", library: "libhc_noop.so", abi: .init(major: 1, minMinor: 0),
        protocols: ["hiclaw.worker-backend/1"], version: "1.0.0", toolchain: "c", sha256: wrong, isolation: .process)
      var errors: [DriverLoadError] = []
      for isolation in DriverIsolation.allCases {
        let failure = await loadError { try await t.host.load(manifest: manifest, directory: directory, isolation: isolation) }
        errors.append(try #require(failure, "a wrong sha256 was accepted (\(isolation))"))
      }
      #expect(errors[0].stage == .checksum)
      #expect(errors[0].field == "sha256")
      #expect(errors[0].message.contains(actual), "\(errors[0].message)")
      #expect(errors[0].message.contains(wrong), "\(errors[0].message)")
      #expect(errors[1] == errors[0])
      #expect(t.runnerProcesses().isEmpty, "a runner was started for a library that failed its checksum")

      // With the right hash the manifest loads (through the runner, as the manifest says).
      manifest.sha256 = actual
      let driver = t.adopt(try await t.host.load(manifest: manifest, directory: directory))
      #expect(driver.isolation == .process)
      #expect(driver.name == "noop")
      let instance = try await driver.makeInstance()
      #expect(try await instance.call("ping") == #"{"driver":"noop"}"#)
      await instance.destroy()
      await driver.shutdown()
    }
  }

  @Test("a missing library file is refused at stage open, field library")
  func missingFile() async throws {
    try await withTestHost { t in
      let path = t.directory.appendingPathComponent("lib/libhc_absent.so").path
      let (inProcess, runner) = await Self.bothModes(t, path)
      let error = try #require(inProcess)
      #expect(error.stage == .open)
      #expect(error.field == "library")
      #expect(error.message.contains(path), "\(error.message)")
      #expect(error.message.contains("does not exist"), "\(error.message)")
      #expect(runner == error)

      // Through a manifest the missing file is found while hashing it.
      let manifest = DriverManifest(
        name: "absent", kind: "worker-backend", library: "libhc_absent.so", abi: .init(major: 1, minMinor: 0),
        protocols: ["hiclaw.worker-backend/1"], version: "1.0.0", toolchain: "c",
        sha256: String(repeating: "a", count: 64), isolation: .inProcess)
      let viaManifest = await loadError {
        try await t.host.load(manifest: manifest, directory: t.directory.appendingPathComponent("lib"))
      }
      #expect(viaManifest?.stage == .open)
      #expect(viaManifest?.field == "library")
      #expect(viaManifest?.message.contains(path) == true, "\(String(describing: viaManifest))")
    }
  }

  @Test("a runner executable that does not exist is a runner-stage error")
  func missingRunner() async throws {
    try await withTestHost { t in
      var configuration = t.host.configuration
      configuration.runnerExecutable = t.directory.appendingPathComponent("no-such-runner").path
      let host = DriverHost(configuration: configuration)
      let path = try t.fixture("noop")
      let error = await loadError { try await host.load(library: path, isolation: .process) }
      #expect(error?.stage == .runner)
      #expect(error?.field == "runner")
      #expect(error?.message.contains(configuration.runnerExecutable) == true, "\(String(describing: error))")
    }
  }
}
