import Foundation
import Testing

/// install / list / remove, and the out-of-tree example built against the installed header only.
@Suite(.serialized) struct DriverInstallTests {
  @Test func installListRemoveRoundTrip() throws {
    let drivers = TemporaryDirectory()
    let library = Paths.fixture("noop")
    let first = hiclaw("driver", "install", library, "--drivers-dir", drivers.path)
    #expect(first.status == 0, "\(first.output)")
    #expect(first.stdout.contains("driver/noop installed"))
    let again = hiclaw("driver", "install", library, "--drivers-dir", drivers.path)
    #expect(again.stdout.contains("driver/noop unchanged"), "\(again.output)")
    let changed = hiclaw("driver", "install", library, "--drivers-dir", drivers.path, "--isolation", "in-process")
    #expect(changed.stdout.contains("driver/noop configured"), "\(changed.output)")

    let manifestData = try #require(FileManager.default.contents(atPath: drivers.url.appendingPathComponent("noop.json").path))
    let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
    #expect(manifest["isolation"] as? String == "in-process")
    #expect(manifest["kind"] as? String == "worker-backend")
    #expect((manifest["sha256"] as? String)?.count == 64)

    let table = hiclaw("driver", "list", "--drivers-dir", drivers.path)
    #expect(table.stdout.hasPrefix("NAME"))
    #expect(table.stdout.contains("noop"))
    #expect(table.stdout.contains("ok"))
    let json = hiclaw("driver", "list", "--drivers-dir", drivers.path, "-o", "json")
    let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let items = try #require(list["items"] as? [[String: Any]])
    #expect(items.map { $0["name"] as? String } == ["noop"])
    #expect(hiclaw("driver", "list", "--drivers-dir", drivers.path, "-o", "yaml").stdout.contains("- abi: \"1.0\""))

    // The manifest verifies too (checksum included).
    let verified = hiclaw("driver", "verify", drivers.url.appendingPathComponent("noop.json").path)
    #expect(verified.status == 0, "\(verified.output)")
    #expect(verified.stdout.contains("PASS  static      manifest"))

    // A library changed after install is caught by its checksum.
    let installed = drivers.url.appendingPathComponent("libhc_noop.so")
    let handle = try FileHandle(forWritingTo: installed)
    handle.seekToEndOfFile()
    handle.write(Data([0]))
    try handle.close()
    #expect(hiclaw("driver", "list", "--drivers-dir", drivers.path).stdout.contains("MISMATCH"))
    let tampered = hiclaw("driver", "verify", drivers.url.appendingPathComponent("noop.json").path, "--mode", "runner")
    #expect(tampered.status == 1)
    #expect(tampered.stdout.contains("reinstall the driver"))

    let removed = hiclaw("driver", "remove", "noop", "--drivers-dir", drivers.path)
    #expect(removed.stdout.contains("driver/noop removed"))
    #expect(!FileManager.default.fileExists(atPath: installed.path))
    let gone = hiclaw("driver", "remove", "noop", "--drivers-dir", drivers.path)
    #expect(gone.status == 1)
    #expect(gone.stderr.contains("is not installed"))
  }

  @Test func installRefusesAFailingDriverAndWritesNothing() throws {
    let drivers = TemporaryDirectory()
    let result = hiclaw("driver", "install", Paths.fixture("leaks"), "--drivers-dir", drivers.path)
    #expect(result.status == 1)
    #expect(result.stderr.contains("refusing to install"))
    #expect(result.stdout.contains("memory.balance"))
    #expect((try FileManager.default.contentsOfDirectory(atPath: drivers.path)).isEmpty)
  }

  @Test func installRejectsAManifestThatDisagreesWithTheDriver() throws {
    let drivers = TemporaryDirectory()
    let manifest = drivers.url.appendingPathComponent("given.json")
    let body = #"{"manifest_version":1,"name":"noop","kind":"agent-runtime","library":"libhc_noop.so","abi":{"major":1,"min_minor":0},"protocols":["hiclaw.worker-backend/1"],"version":"1.0.0","toolchain":"c","sha256":"\#(String(repeating: "0", count: 64))","isolation":"process"}"#
    try Data(body.utf8).write(to: manifest)
    let result = hiclaw("driver", "install", Paths.fixture("noop"), "--manifest", manifest.path, "--drivers-dir", drivers.path)
    #expect(result.status == 1)
    #expect(result.stderr.contains("kind: manifest agent-runtime, driver worker-backend"))
  }

  @Test func outOfTreeExampleBuildsAgainstTheInstalledHeaderAndVerifies() throws {
    let prefix = TemporaryDirectory()
    let build = TemporaryDirectory()
    let install = run("/bin/bash", [Paths.repository.appendingPathComponent("scripts/install-sdk.sh").path, "--prefix", prefix.path])
    #expect(install.status == 0, "\(install.output)")
    #expect(FileManager.default.fileExists(atPath: prefix.url.appendingPathComponent("include/hiclaw/hiclaw_driver.h").path))
    let make = run("/usr/bin/make", ["-C", Paths.repository.appendingPathComponent("examples/drivers/c-noop").path, "OUT=\(build.path)"],
      environment: ["PKG_CONFIG_PATH": prefix.url.appendingPathComponent("lib/pkgconfig").path])
    #expect(make.status == 0, "\(make.output)")
    // The example must not reach into the source tree for the header.
    #expect(!make.output.contains("Sources/DriverABI"), "\(make.output)")
    let library = build.url.appendingPathComponent("libhc_c-noop.so").path
    let verified = hiclaw("driver", "verify", library)
    #expect(verified.status == 0, "\(verified.output)")
    let drivers = TemporaryDirectory()
    let installed = hiclaw("driver", "install", library, "--drivers-dir", drivers.path)
    #expect(installed.stdout.contains("driver/c-noop installed"), "\(installed.output)")
    let manifest = try #require(FileManager.default.contents(atPath: drivers.url.appendingPathComponent("c-noop.json").path))
    #expect(String(decoding: manifest, as: UTF8.self).contains(#""isolation" : "process""#))
  }
}
