import Foundation
import Testing

/// The authorization matrix of docs/api.md, against a live host with real minted tokens.
@Suite(.serialized) struct AuthTests {
  func mint(_ host: LiveHost, role: String, subject: String) async throws -> String {
    let response = try await host.request("POST", "/api/v1/tokens", body: ["role": role, "subject": subject])
    #expect(response.status == 201, "\(response.text)")
    return try #require(try response.json()["token"] as? String)
  }

  @Test func theMatrix() async throws {
    try await withHost { host in
      for name in ["alice", "bob"] {
        #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON(name)).status == 201)
      }
      let team: [String: Any] = [
        "apiVersion": "hiclaw.io/v1beta1", "kind": "Team", "metadata": ["name": "alpha"],
        "spec": ["leader": ["name": "alpha-lead", "model": "m"], "workers": [["name": "alpha-w1", "model": "m"]]],
      ]
      #expect(try await host.request("POST", "/api/v1/teams", body: team).status == 201)

      // No token, a wrong token: 401.
      #expect(try await host.request("GET", "/api/v1/workers", token: .none).status == 401)
      #expect(try await host.request("GET", "/api/v1/workers", token: "not-a-token").status == 401)
      // Health needs none.
      #expect(try await host.request("GET", "/healthz", token: .none).status == 200)

      // A worker reads itself only.
      let alice = try await mint(host, role: "worker", subject: "alice")
      #expect(try await host.request("GET", "/api/v1/workers/alice", token: alice).status == 200)
      #expect(try await host.request("GET", "/api/v1/workers/bob", token: alice).status == 403)
      #expect(try await host.request("GET", "/api/v1/workers", token: alice).status == 403)
      #expect(try await host.request("DELETE", "/api/v1/workers/alice", token: alice).status == 403)
      #expect(try await host.request("POST", "/api/v1/workers/alice/ready", token: alice).status == 204)
      #expect(try await host.request("POST", "/api/v1/workers/bob/ready", token: alice).status == 403)

      // A team leader acts on its own members, cannot delete or create.
      let lead = try await mint(host, role: "team-leader", subject: "alpha")
      #expect(try await host.request("GET", "/api/v1/teams/alpha", token: lead).status == 200)
      #expect(try await host.request("POST", "/api/v1/workers/alpha-w1/sleep", token: lead).status == 200)
      #expect(try await host.request("POST", "/api/v1/workers/alice/sleep", token: lead).status == 403)
      #expect(try await host.request("DELETE", "/api/v1/workers/alpha-w1", token: lead).status == 403)
      #expect(try await host.request("DELETE", "/api/v1/teams/alpha", token: lead).status == 403)
      #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON("carol"), token: lead).status == 403)
      #expect(try await host.request("GET", "/api/v1/humans", token: lead).status == 403)
      // Only admins mint tokens.
      #expect(try await host.request("POST", "/api/v1/tokens", body: ["role": "admin", "subject": "x"], token: lead).status == 403)

      // Denied requests changed nothing.
      #expect(try await host.request("GET", "/api/v1/workers/carol").status == 404)
      #expect(try await host.request("GET", "/api/v1/workers/alice").status == 200)
      // The sleep the leader was allowed landed in the Team's spec.
      let alpha = try await host.request("GET", "/api/v1/teams/alpha").json()
      let workers = (alpha["spec"] as? [String: Any])?["workers"] as? [[String: Any]]
      #expect(workers?.first?["state"] as? String == "Sleeping")
    }
  }

  @Test func theAdminTokenFileIsPrivate() async throws {
    try await withHost { host in
      let attributes = try FileManager.default.attributesOfItem(atPath: host.dataDirectory.appendingPathComponent("admin.token").path)
      #expect((attributes[.posixPermissions] as? Int) == 0o600)
      #expect(!host.log.contains(host.adminToken), "the token is never logged")
    }
  }
}
