import Foundation
import Testing

/// `hiclaw-host` start-up: configuration errors are clear and change nothing; shutdown is
/// graceful.
@Suite struct DaemonTests {
  @Test func badSettingsAreRefusedWithTheFix() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-daemon-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    var result = runCommand(Products.host, ["--listen", "localhost", "--data-dir", directory.path])
    #expect(result.status == 2)
    #expect(result.stderr.contains("HOST:PORT"), "\(result.output)")
    #expect(!FileManager.default.fileExists(atPath: directory.path), "nothing was created")

    result = runCommand(Products.host, ["--listen", "127.0.0.1:0", "--data-dir", directory.path, "--backend", "nonexistent"])
    #expect(result.status != 0)
    #expect(result.stderr.contains("nonexistent"), "\(result.output)")
    #expect(result.stderr.contains("hiclaw driver install"), "the message says how to fix it: \(result.output)")

    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let config = directory.appendingPathComponent("host.yaml")
    try "listen: 127.0.0.1:0\nlistne: oops\n".write(to: config, atomically: true, encoding: .utf8)
    result = runCommand(Products.host, ["--config", config.path, "--data-dir", directory.appendingPathComponent("data").path])
    #expect(result.status == 2)
    #expect(result.stderr.contains("listne"), "\(result.output)")
  }

  @Test func sigtermStopsTheHostGracefullyAndTheDataSurvives() async throws {
    let host = LiveHost()
    defer { host.remove() }
    try await host.start()
    #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON("keep")).status == 201)
    host.stop()
    #expect(host.process?.terminationStatus == 0, "\(host.log)")
    try await host.start()
    #expect(try await host.request("GET", "/api/v1/workers/keep").status == 200)
  }
}
