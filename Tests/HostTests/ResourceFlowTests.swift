import Foundation
import Testing

/// apply / get / describe / delete through the real `hiclaw` CLI against a live host.
@Suite(.serialized) struct ResourceFlowTests {
  @Test func applyGetDescribeDeleteAWorker() async throws {
    try await withHost { host in
      let file = host.dataDirectory.appendingPathComponent("alice.yaml")
      try workerYAML("alice", labels: ["team": "demo"]).write(to: file, atomically: true, encoding: .utf8)

      var result = await host.cli("apply", "-f", file.path)
      #expect(result.status == 0, "\(result.output)")
      #expect(result.stdout.contains("worker/alice created"), "\(result.output)")

      result = await host.cli("apply", "-f", file.path)
      #expect(result.stdout.contains("worker/alice unchanged"), "\(result.output)")

      try workerYAML("alice", model: "qwen3-max", labels: ["team": "demo"]).write(to: file, atomically: true, encoding: .utf8)
      result = await host.cli("apply", "-f", file.path)
      #expect(result.stdout.contains("worker/alice configured"), "\(result.output)")

      let running = try await eventually {
        let object = try await host.request("GET", "/api/v1/workers/alice").json()
        let status = object["status"] as? [String: Any]
        let metadata = object["metadata"] as? [String: Any]
        return status?["phase"] as? String == "Running"
          && status?["observedGeneration"] as? Int == metadata?["generation"] as? Int
      }
      #expect(running, "alice never reached Running at her current generation")

      result = await host.cli("get", "workers")
      #expect(result.status == 0, "\(result.output)")
      #expect(result.stdout.contains("NAME"))
      #expect(result.stdout.contains("alice"))
      #expect(result.stdout.contains("Running"))

      result = await host.cli("get", "wk", "alice", "-o", "json")
      let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
      #expect((json?["spec"] as? [String: Any])?["model"] as? String == "qwen3-max")
      #expect((json?["metadata"] as? [String: Any])?["labels"] as? [String: String] == ["team": "demo"])

      result = await host.cli("describe", "worker", "alice")
      #expect(result.status == 0, "\(result.output)")
      #expect(result.stdout.contains("Running"))
      #expect(result.stdout.contains("Created"), "recent Events are shown: \(result.stdout)")

      let instance = try #require(try host.instances()["hiclaw-worker-alice"])
      #expect(instance.state == "running")

      result = await host.cli("delete", "worker", "alice", "--wait")
      #expect(result.status == 0, "\(result.output)")
      #expect(result.stdout.contains("worker/alice deleted"), "\(result.output)")
      #expect(try await host.request("GET", "/api/v1/workers/alice").status == 404)
      // The finalizer ran the backend delete before the object went away.
      #expect(try host.instances()["hiclaw-worker-alice"] == nil)
    }
  }

  /// Objects of one dependency group go out several at a time; the output still lists every
  /// object once, in dependency order and file order within a group, and a host-side refusal
  /// of one object leaves the others applied.
  @Test func aParallelApplyReportsInOrder() async throws {
    try await withHost { host in
      let file = host.dataDirectory.appendingPathComponent("many.yaml")
      let names = (0..<40).map { String(format: "w-%02d", $0) }
      let human = """
        apiVersion: hiclaw.io/v1beta1
        kind: Human
        metadata:
          name: ada
        spec:
          displayName: Ada
          permissionLevel: 1
          accessibleWorkers: [w-00]
        """
      // Workers before the Humans that name them, whatever the file order.
      try ([human] + names.map { workerYAML($0) }).joined(separator: "\n---\n").write(to: file, atomically: true, encoding: .utf8)
      let result = await host.cli("apply", "-f", file.path, "--concurrency", "4")
      #expect(result.status == 0, "\(result.output)")
      #expect(result.stdout.split(separator: "\n").map(String.init) == names.map { "worker/\($0) created" } + ["human/ada created"],
        "\(result.stdout)")

      // w-17 changes, w-23 asks for a new runtime name (immutable: the host refuses it).
      let renamed = workerYAML("w-23").replacingOccurrences(of: "spec:\n", with: "spec:\n  workerName: other\n")
      try (names.map { $0 == "w-23" ? renamed : workerYAML($0, model: $0 == "w-17" ? "qwen3-max" : "qwen3") })
        .joined(separator: "\n---\n").write(to: file, atomically: true, encoding: .utf8)
      let again = await host.cli("apply", "-f", file.path)
      #expect(again.status == 1, "\(again.output)")
      #expect(again.stderr.contains("worker/w-23") && again.stderr.contains("spec.workerName"), "\(again.stderr)")
      #expect(again.stdout.split(separator: "\n").map(String.init)
        == names.filter { $0 != "w-23" }.map { "worker/\($0) \($0 == "w-17" ? "configured" : "unchanged")" }, "\(again.stdout)")
      #expect(await host.cli("apply", "-f", file.path, "--concurrency", "0").status != 0)
    }
  }

  @Test func everyValidationErrorHasAPathAndNothingIsWritten() async throws {
    try await withHost { host in
      let file = host.dataDirectory.appendingPathComponent("bad.yaml")
      try """
        apiVersion: hiclaw.io/v1beta1
        kind: Team
        metadata:
          name: alpha
        spec:
          leader:
            name: Lead_Bad
          workers:
            - name: ok
              model: m
            - name: also-ok
              modle: m
        """.write(to: file, atomically: true, encoding: .utf8)
      let result = await host.cli("apply", "-f", file.path)
      #expect(result.status != 0)
      #expect(result.output.contains("spec.leader.name"), "\(result.output)")
      #expect(result.output.contains("spec.workers[1].modle"), "\(result.output)")
      #expect(result.output.contains("bad.yaml"), "errors name the file: \(result.output)")

      // The same object straight to the API: every cause, each with its path. An unknown
      // field is a malformed document (400, as in Kubernetes); rule violations in a well-formed
      // document are 422.
      let malformed = try await host.request("POST", "/api/v1/teams", body: [
        "apiVersion": "hiclaw.io/v1beta1", "kind": "Team", "metadata": ["name": "alpha"],
        "spec": ["leader": ["name": "Lead_Bad"], "workers": [["name": "x", "modle": "m"]]],
      ])
      #expect(malformed.status == 400, "\(malformed.text)")
      #expect(try causeFields(malformed).contains("spec.workers[0].modle"), "\(malformed.text)")

      let invalid = try await host.request("POST", "/api/v1/teams", body: [
        "apiVersion": "hiclaw.io/v1beta1", "kind": "Team", "metadata": ["name": "alpha"],
        "spec": ["leader": ["name": "Lead_Bad"], "workers": [["name": "ok", "model": "m"], ["name": "Bad_Too", "model": "m"]]],
      ])
      #expect(invalid.status == 422, "\(invalid.text)")
      let fields = try causeFields(invalid)
      #expect(fields.contains("spec.leader.name"), "\(invalid.text)")
      #expect(fields.contains("spec.workers[1].name"), "\(invalid.text)")
      #expect(try await host.request("GET", "/api/v1/teams/alpha").status == 404)
    }
  }

  func causeFields(_ response: LiveHost.Response) throws -> Set<String> {
    let causes = (try response.json()["details"] as? [String: Any])?["causes"] as? [[String: Any]] ?? []
    return Set(causes.compactMap { $0["field"] as? String })
  }

  @Test func aStaleResourceVersionIsA409CarryingBothVersions() async throws {
    try await withHost { host in
      let created = try await host.request("POST", "/api/v1/workers", body: workerJSON("bob"))
      #expect(created.status == 201, "\(created.text)")
      // The controllers write status (which takes a revision, as in Kubernetes): read the version
      // once they are done.
      let converged = try await eventually {
        (try await host.request("GET", "/api/v1/workers/bob").json()["status"] as? [String: Any])?["phase"] as? String == "Running"
      }
      #expect(converged)
      let bob = try await host.request("GET", "/api/v1/workers/bob").json()
      let version = try #require((bob["metadata"] as? [String: Any])?["resourceVersion"] as? String)
      let first = try await host.request("PUT", "/api/v1/workers/bob", body: workerJSON("bob", model: "m2", resourceVersion: version))
      #expect(first.status == 200, "\(first.text)")
      let stale = try await host.request("PUT", "/api/v1/workers/bob", body: workerJSON("bob", model: "m3", resourceVersion: version))
      #expect(stale.status == 409, "\(stale.text)")
      let details = try stale.json()["details"] as? [String: Any]
      #expect(details?["expectedResourceVersion"] as? String == version, "\(stale.text)")
      #expect(details?["currentResourceVersion"] != nil, "\(stale.text)")
      let current = try await host.request("GET", "/api/v1/workers/bob").json()
      #expect((current["spec"] as? [String: Any])?["model"] as? String == "m2")
    }
  }

  @Test func changingOneTeamMemberRecreatesOnlyThatMember() async throws {
    try await withHost { host in
      func teamYAML(_ w2Model: String) -> String {
        """
        apiVersion: hiclaw.io/v1beta1
        kind: Team
        metadata:
          name: alpha
        spec:
          leader:
            name: alpha-lead
            model: qwen3
          workers:
            - name: alpha-w1
              model: qwen3
            - name: alpha-w2
              model: \(w2Model)
        """
      }
      var result = await host.cli("apply", "-f", "-", input: teamYAML("qwen3"))
      #expect(result.status == 0, "\(result.output)")
      let names = ["hiclaw-worker-alpha-lead", "hiclaw-worker-alpha-w1", "hiclaw-worker-alpha-w2"]
      #expect(try await eventually { try Set(host.instances().filter { $0.value.state == "running" }.keys) == Set(names) })
      let before = try host.instances().mapValues(\.id)

      result = await host.cli("apply", "-f", "-", input: teamYAML("qwen3-max"))
      #expect(result.stdout.contains("team/alpha configured"), "\(result.output)")
      #expect(try await eventually { try host.instances()["hiclaw-worker-alpha-w2"]?.id != before["hiclaw-worker-alpha-w2"] })
      let after = try host.instances().mapValues(\.id)
      #expect(after["hiclaw-worker-alpha-lead"] == before["hiclaw-worker-alpha-lead"])
      #expect(after["hiclaw-worker-alpha-w1"] == before["hiclaw-worker-alpha-w1"])
    }
  }
}

/// The README's main command applies `examples/resources`: every example is valid, is applied
/// in dependency order, and converges.
@Suite(.serialized) struct ExampleTests {
  @Test func theExamplesApplyAndConverge() async throws {
    try await withHost { host in
      let examples = Products.repository.appendingPathComponent("examples/resources").path
      let result = await host.cli("apply", "-f", examples)
      #expect(result.status == 0, "\(result.output)")
      let lines = result.stdout.split(separator: "\n").map(String.init)
      for reference in ["human/ada", "human/grace", "team/research", "worker/alice", "manager/default"] {
        #expect(lines.contains { $0.contains("\(reference) created") }, "\(reference): \(result.stdout)")
      }
      // Ada is Research's admin: she is applied before the Team. Grace names Research in
      // accessibleTeams: she is applied after it.
      let order = lines.compactMap { line in ["human/ada", "team/research", "human/grace"].first { line.contains($0) } }
      #expect(order == ["human/ada", "team/research", "human/grace"], "\(result.stdout)")

      let converged = try await eventually(timeout: .seconds(60)) {
        let team = try await host.request("GET", "/api/v1/teams/research").json()
        let worker = try await host.request("GET", "/api/v1/workers/alice").json()
        let manager = try await host.request("GET", "/api/v1/managers/default").json()
        return (team["status"] as? [String: Any])?["phase"] as? String == "Active"
          && (worker["status"] as? [String: Any])?["phase"] as? String == "Running"
          && (manager["status"] as? [String: Any])?["phase"] as? String == "Running"
      }
      #expect(converged)
      #expect(Set(try host.instances().keys) == [
        "hiclaw-worker-research-lead", "hiclaw-worker-reader", "hiclaw-worker-writer", "hiclaw-worker-alice", "hiclaw-manager",
      ])
      let again = await host.cli("apply", "-f", examples)
      #expect(again.stdout.split(separator: "\n").allSatisfy { $0.contains("unchanged") }, "\(again.stdout)")
    }
  }
}
