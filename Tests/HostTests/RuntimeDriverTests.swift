import Foundation
import Testing

/// The reconcilers call agent-runtime drivers through the driver host: a live `hiclaw-host`
/// with the fixture runtime driver (`hc_fixture_runtime`, serving "nanoclaw", which renders
/// files, env, image, command and ports) and the memory backend.
@Suite struct RuntimeDriverTests {
  static var fixtureRuntime: String { Products.directory.appendingPathComponent("libhc_fixture_runtime.so").path }

  static func worker(_ name: String, runtime: String, model: String = "qwen3", image: String? = nil, env: [String: String] = [:])
    -> String
  {
    var spec = ["  model: \(model)", "  runtime: \(runtime)"]
    if let image { spec.append("  image: \(image)") }
    if !env.isEmpty {
      spec.append("  env:")
      spec += env.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)" }
    }
    return "apiVersion: hiclaw.io/v1beta1\nkind: Worker\nmetadata:\n  name: \(name)\nspec:\n" + spec.joined(separator: "\n")
  }

  @Test func theRuntimeDriverShapesTheContainerOfItsRuntimeOnly() async throws {
    try await withHost(extraArguments: ["--runtime-driver", Self.fixtureRuntime]) { host in
      let documents = [
        Self.worker("rendered", runtime: "nanoclaw", env: ["FIXTURE_DEFAULT": "user"]),
        Self.worker("pinned", runtime: "nanoclaw", image: "example/pinned:1"),
        Self.worker("plain", runtime: "openclaw"),
      ].joined(separator: "\n---\n")
      let result = await host.cli("apply", "-f", "-", input: documents)
      #expect(result.status == 0, "\(result.output)")
      let converged = try await eventually {
        let instances = try host.instances()
        return ["rendered", "pinned", "plain"].allSatisfy { instances["hiclaw-worker-\($0)"]?.state == "running" }
      }
      #expect(converged, "\(host.log)")
      let instances = try host.instances()

      let rendered = try #require(instances["hiclaw-worker-rendered"])
      #expect(rendered.image == "fixture/runtime:qwen3")
      #expect(rendered.command == ["agent", "--config", "config/agent.json"])
      #expect(rendered.env?["FIXTURE_MODEL"] == "qwen3", "the runtime's environment is added")
      #expect(rendered.env?["FIXTURE_DEFAULT"] == "user", "the user's env wins over the runtime's")
      #expect(rendered.env?["HICLAW_WORKER_NAME"] == "rendered", "the runtime cannot override hiclaw's own variables")
      #expect(rendered.env?["HICLAW_AUTH_TOKEN"]?.isEmpty == false)

      #expect(instances["hiclaw-worker-pinned"]?.image == "example/pinned:1", "an image in the spec wins")
      #expect(instances["hiclaw-worker-pinned"]?.env?["FIXTURE_MODEL"] == "qwen3")

      let plain = try #require(instances["hiclaw-worker-plain"])
      #expect(plain.image == "hiclaw/worker-agent:latest", "a runtime without a driver gets the host's defaults")
      #expect(plain.command == nil)
      #expect(plain.env?["FIXTURE_MODEL"] == nil)
    }
  }

  @Test func aSpecTheRuntimeRejectsFailsTheWorkerWithTheRuntimesMessage() async throws {
    try await withHost(extraArguments: ["--runtime-driver", Self.fixtureRuntime]) { host in
      let result = await host.cli("apply", "-f", "-", input: Self.worker("refused", runtime: "nanoclaw", model: "rejected-by-runtime"))
      #expect(result.status == 0, "the API accepts it; the runtime refuses it: \(result.output)")
      let failed = try await eventually {
        let body = try await host.request("GET", "/api/v1/workers/refused").body
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let status = object?["status"] as? [String: Any]
        return status?["phase"] as? String == "Failed"
          && (status?["message"] as? String)?.contains("spec.model") == true
      }
      #expect(failed, "\(host.log)")
      #expect(try host.instances()["hiclaw-worker-refused"] == nil, "no container for a spec the runtime refuses")
    }
  }

  @Test func aRuntimeDriverThatCannotRenderIsRefusedAtStartup() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-runtime-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    // The first-party NanoClaw driver is still a skeleton: it answers ping only.
    let skeleton = Products.directory.appendingPathComponent("libhc_nanoclaw.so").path
    // Under `timeout`: a host that wrongly starts would otherwise run until the suite's limit.
    var result = runCommand("/usr/bin/timeout", [
      "60", Products.host, "--listen", "127.0.0.1:0", "--data-dir", directory.path, "--runtime-driver", skeleton,
    ])
    #expect(result.status == 1, "\(result.output)")
    #expect(result.stderr.contains("does not implement render"), "\(result.output)")
    // The same through the configuration file's runtimeDrivers key.
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let config = directory.appendingPathComponent("host.yaml")
    try "runtimeDrivers: [\(directory.appendingPathComponent("nope.so").path)]\n".write(to: config, atomically: false, encoding: .utf8)
    result = runCommand("/usr/bin/timeout", [
      "60", Products.host, "--listen", "127.0.0.1:0", "--data-dir", directory.appendingPathComponent("data").path,
      "--config", config.path,
    ])
    #expect(result.status == 1, "\(result.output)")
    #expect(result.stderr.contains("nope.so"), "\(result.output)")
    // A value that is not a list of strings is a configuration error naming the key.
    try "runtimeDrivers: 5\n".write(to: config, atomically: false, encoding: .utf8)
    result = runCommand("/usr/bin/timeout", [
      "60", Products.host, "--listen", "127.0.0.1:0", "--data-dir", directory.appendingPathComponent("data").path,
      "--config", config.path,
    ])
    #expect(result.status == 2, "\(result.output)")
    #expect(result.stderr.contains("runtimeDrivers: expected a list"), "\(result.output)")
  }
}
