import Foundation
import Testing

/// The `hiclaw` commands beyond apply/get/delete, against a live host.
@Suite(.serialized) struct CLIAgainstHostTests {
  @Test func pruneDeletesLabelledObjectsMissingFromTheFiles() async throws {
    try await withHost { host in
      let all = [workerYAML("p1", labels: ["app": "demo"]), workerYAML("p2", labels: ["app": "demo"]),
        workerYAML("other", labels: ["app": "else"])].joined(separator: "\n---\n")
      var result = await host.cli("apply", "-f", "-", input: all)
      #expect(result.status == 0, "\(result.output)")

      result = await host.cli("apply", "-f", "-", "--prune", "-l", "app=demo", input: workerYAML("p1", labels: ["app": "demo"]))
      #expect(result.status == 0, "\(result.output)")
      #expect(result.stdout.contains("worker/p2 pruned"), "\(result.output)")
      #expect(!result.stdout.contains("worker/other"), "objects outside the selector are left alone: \(result.output)")
      let gone = try await eventually { try await host.request("GET", "/api/v1/workers/p2").status == 404 }
      #expect(gone)
      #expect(try await host.request("GET", "/api/v1/workers/other").status == 200)
      #expect(try await host.request("GET", "/api/v1/workers/p1").status == 200)
    }
  }

  /// A name is percent-encoded by the CLI and decoded by the host byte for byte, whatever it
  /// holds (spaces, slashes, %, non-ASCII): the 404 names exactly what was asked for.
  @Test func namesRoundTripThroughThePath() async throws {
    try await withHost { host in
      for name in ["a b/c", "100%", "caf\u{E9}~x", "q?x=1&y#z"] {
        let result = await host.cli("get", "worker", name)
        #expect(result.status != 0)
        #expect(result.output.contains(name), "\(name.debugDescription): \(result.output)")
      }
    }
  }

  @Test func workerSleepAndWakeWorkForTeamMembers() async throws {
    try await withHost { host in
      let team = """
        apiVersion: hiclaw.io/v1beta1
        kind: Team
        metadata:
          name: beta
        spec:
          leader:
            name: beta-lead
            model: m
          workers:
            - name: beta-w1
              model: m
        """
      #expect(await host.cli("apply", "-f", "-", input: team).status == 0)
      #expect(try await eventually { try host.instances()["hiclaw-worker-beta-w1"]?.state == "running" })
      let id = try #require(try host.instances()["hiclaw-worker-beta-w1"]?.id)

      var result = await host.cli("worker", "sleep", "beta-w1")
      #expect(result.status == 0, "\(result.output)")
      #expect(result.stdout.contains("worker/beta-w1"), "\(result.output)")
      #expect(try await eventually { try host.instances()["hiclaw-worker-beta-w1"]?.state == "stopped" })

      result = await host.cli("worker", "wake", "beta-w1")
      #expect(result.status == 0, "\(result.output)")
      #expect(try await eventually { try host.instances()["hiclaw-worker-beta-w1"]?.state == "running" })
      #expect(try host.instances()["hiclaw-worker-beta-w1"]?.id == id, "sleep and wake never recreate")
      #expect(try host.instances()["hiclaw-worker-beta-lead"]?.state == "running", "the leader is untouched")

      result = await host.cli("worker", "status", "beta-w1", "-o", "json")
      #expect(result.status == 0, "\(result.output)")
      let status = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
      #expect(status?["team"] as? String == "beta", "\(result.stdout)")
    }
  }

  @Test func getWatchStreamsChanges() async throws {
    try await withHost { host in
      let output = host.dataDirectory.appendingPathExtension("watch")
      _ = FileManager.default.createFile(atPath: output.path, contents: nil)
      defer { try? FileManager.default.removeItem(at: output) }
      let process = Process()
      process.executableURL = URL(fileURLWithPath: Products.cli)
      process.arguments = ["get", "workers", "-w", "-o", "json"]
      var environment = ProcessInfo.processInfo.environment
      environment["HICLAW_CONTROLLER_URL"] = host.url.absoluteString
      environment["HICLAW_TOKEN"] = host.adminToken
      process.environment = environment
      process.standardOutput = try FileHandle(forWritingTo: output)
      process.standardError = FileHandle.nullDevice
      try process.run()
      // SIGKILL: a child of the test process inherits its blocked SIGTERM (a shell's Ctrl-C is fine).
      defer {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
      }

      #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON("watched")).status == 201)
      let seen = await eventually(timeout: .seconds(20)) {
        let text = String(decoding: FileManager.default.contents(atPath: output.path) ?? Data(), as: UTF8.self)
        return text.contains("\"watched\"") && text.contains("Running")
      }
      #expect(seen, "the watch printed the new Worker and its reconciled status")
    }
  }

  @Test func metricsCountRequestsAndReconciles() async throws {
    try await withHost { host in
      #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON("m1")).status == 201)
      #expect(try await eventually {
        (try await host.request("GET", "/api/v1/workers/m1").json()["status"] as? [String: Any])?["phase"] as? String == "Running"
      })
      let metrics = try await host.request("GET", "/metrics", token: .none)
      #expect(metrics.status == 200)
      for series in ["hiclaw_http_requests_total", "hiclaw_reconcile_total", "hiclaw_reconcile_duration_seconds",
        "hiclaw_workqueue_depth"]
      {
        #expect(metrics.text.contains(series), "\(series) is missing from /metrics")
      }
      #expect(metrics.text.contains(#"kind="Worker""#), "reconciles are labelled by kind")
    }
  }
}

@Suite(.serialized) struct TeamMemberReadinessTests {
  /// A member's agent reports ready with its own token; its lifecycle status then says Running
  /// and ready (the API and the reconciler agree on the member's spec hash).
  @Test func aMemberThatReportsReadyIsReady() async throws {
    try await withHost { host in
      let team: [String: Any] = [
        "apiVersion": "hiclaw.io/v1beta1", "kind": "Team", "metadata": ["name": "gamma"],
        "spec": ["leader": ["name": "gamma-lead", "model": "m"], "workers": [["name": "gamma-w1", "model": "m"]]],
      ]
      #expect(try await host.request("POST", "/api/v1/teams", body: team).status == 201)
      #expect(try await eventually {
        (try await host.request("GET", "/api/v1/teams/gamma").json()["status"] as? [String: Any])?["phase"] as? String == "Active"
      })
      let minted = try await host.request("POST", "/api/v1/tokens", body: ["role": "worker", "subject": "gamma-w1"])
      let token = try #require(try minted.json()["token"] as? String)
      #expect(try await host.request("POST", "/api/v1/workers/gamma-w1/ready", token: token).status == 204)
      // Running and reported ready: the lifecycle phase is Ready (upstream's rule).
      let status = try await host.request("GET", "/api/v1/workers/gamma-w1/status", token: token).json()
      #expect(status["phase"] as? String == "Ready", "\(status)")
      #expect(status["ready"] as? Bool == true, "\(status)")
      let ensure = try await host.request("POST", "/api/v1/workers/gamma-w1/ensure-ready").json()
      #expect(ensure["phase"] as? String == "Ready", "\(ensure)")
    }
  }

  @Test func aWorkersRuntimeNameIsImmutable() async throws {
    try await withHost { host in
      #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON("imm")).status == 201)
      var renamed = workerJSON("imm")
      renamed["spec"] = ["model": "qwen3", "workerName": "other"]
      let response = try await host.request("PUT", "/api/v1/workers/imm", body: renamed)
      #expect(response.status == 422, "\(response.text)")
      #expect(response.text.contains("spec.workerName"), "\(response.text)")
    }
  }
}
