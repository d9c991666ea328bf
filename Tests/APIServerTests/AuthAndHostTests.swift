import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Model
import Prometheus
import ResourceStore
import Store
import Testing

@testable import APIServer

@Suite("Authentication and authorization over HTTP")
struct AuthTests {
  @Test("no token, a malformed header or an unknown token is 401; probes need none")
  func unauthorized() async throws {
    try await withAPI { api in
      for path in ["/api/v1/workers", "/api/v1/version", "/api/v1/unknown-path"] {
        let reply = try await api.get(path, token: nil)
        #expect(reply.code == 401, "\(path)")
        #expect(reply.reason == "Unauthorized")
        #expect(reply.headers[.wwwAuthenticate] == "Bearer")
      }
      #expect(try await api.get("/api/v1/workers", token: "hct_not-a-real-token").code == 401)
      var headers = HTTPFields()
      headers[.authorization] = "Basic \(api.admin)"
      #expect(try await api.client.execute(uri: "/api/v1/workers", method: .get, headers: headers).status == .unauthorized)
      // Blanks around the token are tolerated; anything else around it is not.
      headers[.authorization] = "bearer  \t\(api.admin) \t"
      #expect(try await api.client.execute(uri: "/api/v1/workers", method: .get, headers: headers).status == .ok)
      headers[.authorization] = "Bearer \(api.admin)x"
      #expect(try await api.client.execute(uri: "/api/v1/workers", method: .get, headers: headers).status == .unauthorized)
      // A revoked token stops working.
      let issued = try await api.store.createToken(role: "manager")
      #expect(try await api.get("/api/v1/workers", token: issued.token).code == 200)
      try await api.store.revokeToken(id: issued.identity.id)
      #expect(try await api.get("/api/v1/workers", token: issued.token).code == 401)
      for path in ["/healthz", "/metrics"] { #expect(try await api.get(path, token: nil).code == 200, "\(path)") }
    }
  }

  @Test("a worker token reads only itself and reports only its own readiness")
  func workerRole() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/workers", Doc.worker("alice"))
      _ = try await api.post("/api/v1/workers", Doc.worker("bob"))
      _ = try await api.post("/api/v1/teams", Doc.team("alpha", leader: "lead", workers: ["w1"]))
      let alice = try await api.token("worker", "alice")
      let revision = api.store.currentRevision
      #expect(try await api.get("/api/v1/workers/alice", token: alice).code == 200)
      #expect(try await api.get("/api/v1/workers/alice/status", token: alice).code == 200)
      #expect(try await api.get("/api/v1/status", token: alice).code == 200)
      #expect(try await api.get("/api/v1/workers/bob", token: alice).code == 403)
      #expect(try await api.get("/api/v1/workers/bob/status", token: alice).code == 403)
      #expect(try await api.get("/api/v1/workers", token: alice).code == 403)
      #expect(try await api.post("/api/v1/workers/bob/ready", token: alice).code == 403)
      #expect(try await api.post("/api/v1/workers/alice/sleep", token: alice).code == 403)
      #expect(try await api.put("/api/v1/workers/alice", Doc.worker("alice", model: "x"), token: alice).code == 403)
      #expect(try await api.delete("/api/v1/workers/alice", token: alice).code == 403)
      #expect(try await api.get("/api/v1/teams/alpha", token: alice).code == 403)
      #expect(try await api.get("/api/v1/tokens", token: alice).code == 403)
      #expect(api.store.currentRevision == revision)
      #expect(try await api.post("/api/v1/workers/alice/ready", token: alice).code == 204)

      // A team member's worker token acts on itself (found inside the Team).
      let w1 = try await api.token("worker", "w1")
      #expect(try await api.post("/api/v1/workers/w1/ready", token: w1).code == 204)
      #expect(try await api.post("/api/v1/workers/lead/ready", token: w1).code == 403)
      let denied = try await api.post("/api/v1/workers/bob/ready", token: w1)
      #expect(denied.reason == "Forbidden")
    }
  }

  @Test("a team leader reads Teams and Workers, acts only on its own team's members, creates and deletes nothing")
  func teamLeaderRole() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/teams", Doc.team("alpha", leader: "lead", workers: ["w1"]))
      _ = try await api.post("/api/v1/teams", Doc.team("beta", leader: "blead", workers: ["b1"]))
      _ = try await api.post("/api/v1/workers", Doc.worker("solo"))
      _ = try await api.post("/api/v1/humans", Doc.human("dana"))
      let leader = try await api.token("team-leader", "alpha")
      let revision = api.store.currentRevision

      #expect(try await api.get("/api/v1/teams", token: leader).code == 200)
      #expect(try await api.get("/api/v1/teams/beta", token: leader).code == 200)
      #expect(try await api.get("/api/v1/workers", token: leader).code == 200)
      #expect(try await api.get("/api/v1/workers/solo", token: leader).code == 200)
      #expect(try await api.get("/api/v1/status", token: leader).code == 200)
      #expect(try await api.get("/api/v1/humans", token: leader).code == 403)
      #expect(try await api.get("/api/v1/managers", token: leader).code == 403)
      #expect(try await api.post("/api/v1/workers", Doc.worker("new"), token: leader).code == 403)
      #expect(try await api.post("/api/v1/teams", Doc.team("gamma", leader: "g", workers: []), token: leader).code == 403)
      #expect(try await api.put("/api/v1/teams/alpha", Doc.team("alpha", leader: "lead", workers: ["w1", "w2"]), token: leader).code == 403)
      #expect(try await api.delete("/api/v1/workers/solo", token: leader).code == 403)
      #expect(try await api.delete("/api/v1/teams/alpha", token: leader).code == 403)
      #expect(try await api.post("/api/v1/workers/b1/sleep", token: leader).code == 403)
      #expect(try await api.post("/api/v1/workers/solo/sleep", token: leader).code == 403)
      // A name that resolves to nothing is 403 for a scoped token (no probing), 404 for admin.
      #expect(try await api.post("/api/v1/workers/ghost/sleep", token: leader).code == 403)
      #expect(try await api.post("/api/v1/workers/ghost/sleep").code == 404)
      #expect(api.store.currentRevision == revision)

      #expect(try await api.post("/api/v1/workers/w1/sleep", token: leader).code == 200)
      #expect(try await api.post("/api/v1/workers/lead/ensure-ready", token: leader).code == 200)
      #expect(try await api.get("/api/v1/workers/w1/status", token: leader).code == 200)
      #expect(try await api.post("/api/v1/workers/w1/wake", token: leader).code == 200)
      #expect(try await api.post("/api/v1/workers/w1/ready", token: leader).code == 204)
    }
  }

  @Test("manager may do everything but tokens; admin mints, lists and revokes")
  func tokens() async throws {
    try await withAPI { api in
      let manager = try await api.token("manager")
      #expect(try await api.post("/api/v1/workers", Doc.worker("alice"), token: manager).code == 201)
      #expect(try await api.get("/api/v1/tokens", token: manager).code == 403)
      #expect(try await api.post("/api/v1/tokens", #"{"role":"admin"}"#, token: manager).code == 403)

      let minted = try await api.post("/api/v1/tokens", #"{"role":"worker","subject":"alice"}"#)
      #expect(minted.code == 201, "\(minted)")
      let token = try #require(minted.json["token"]?.stringValue)
      let id = try #require(minted.json["id"]?.stringValue)
      #expect(minted.json["role"]?.stringValue == "worker")
      #expect(minted.json["subject"]?.stringValue == "alice")
      #expect(try await api.get("/api/v1/workers/alice", token: token).code == 200)

      let list = try await api.get("/api/v1/tokens")
      let items = list.json["items"]?.array ?? []
      #expect(items.contains { $0["id"]?.stringValue == id && $0["createdAt"]?.stringValue != nil })
      #expect(!list.text.contains(token))

      #expect(try await api.delete("/api/v1/tokens/\(id)").code == 204)
      #expect(try await api.delete("/api/v1/tokens/\(id)").code == 404)
      #expect(try await api.get("/api/v1/workers/alice", token: token).code == 401)

      for (body, status, field) in [
        (#"{"role":"root"}"#, 422, "role"),
        (#"{"role":"worker"}"#, 422, "subject"),
        (#"{"role":"worker","subject":"Not A Name"}"#, 422, "subject"),
        (#"{"role":"admin","subject":"x"}"#, 422, "subject"),
        (#"{}"#, 422, "role"),
        (#"{"role":"admin","extra":1}"#, 400, "extra"),
        (#"{"role":5}"#, 400, "role"),
        ("nope", 400, ""),
      ] {
        let reply = try await api.post("/api/v1/tokens", body)
        #expect(reply.code == status, "\(body): \(reply)")
        #expect((reply.json["details"]?["field"]?.stringValue ?? "") == field, "\(body): \(reply)")
      }
    }
  }
}

@Suite("Host endpoints")
struct HostEndpointTests {
  @Test("healthz, readyz (503 until ready), version, status")
  func probes() async throws {
    try await withAPI(configure: { $0.mode = "test-mode"; $0.version = "9.9.9" }) { api in
      let health = try await api.get("/healthz", token: nil)
      #expect(health.code == 200)
      #expect(health.text == "ok")
      #expect(try await api.get("/readyz", token: nil).code == 503)
      api.server.setReady(true)
      #expect(try await api.get("/readyz", token: nil).text == "ok")
      api.server.setReady(false)
      #expect(try await api.get("/readyz", token: nil).code == 503)

      let version = try await api.get("/api/v1/version", token: try await api.token("something-else"))
      #expect(version.code == 200)
      #expect(version.json["version"]?.stringValue == "9.9.9")
      #expect(version.json["apiVersion"]?.stringValue == "hiclaw.io/v1beta1")
      #expect(version.json["abiVersion"]?.stringValue == "1.0")

      _ = try await api.post("/api/v1/workers", Doc.worker("a"))
      _ = try await api.post("/api/v1/teams", Doc.team("t"))
      let status = try await api.get("/api/v1/status")
      #expect(status.json["mode"]?.stringValue == "test-mode")
      #expect(status.json["workers"]?.int == 1)
      #expect(status.json["teams"]?.int == 1)
      #expect(status.json["humans"]?.int == 0)
      #expect(status.json["managers"]?.int == 0)
      #expect(status.json["revision"]?.int == api.store.currentRevision)
    }
  }

  @Test("metrics: request counts and durations by method, route pattern and status")
  func metrics() async throws {
    try await withAPI { api in
      _ = try await api.get("/api/v1/workers/alice")
      _ = try await api.get("/api/v1/workers/bob")
      _ = try await api.get("/api/v1/nothing")
      let text = try await api.get("/metrics", token: nil).text
      #expect(text.contains(#"hiclaw_http_requests_total{method="GET",route="/api/v1/workers/{name}",status="404"} 2"#), "\(text)")
      #expect(text.contains(#"route="unmatched""#))
      #expect(text.contains(#"hiclaw_http_request_duration_seconds_bucket{method="GET",route="/api/v1/workers/{name}""#))
      #expect(!text.contains("alice"))
    }
  }

  @Test("a live server on port 0 reports its port and answers")
  func live() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-api-\(UUID().uuidString)")
    let store = try Store(configuration: StoreConfiguration(directory: directory))
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = APIServerConfiguration()
    configuration.port = 0
    var logger = Logger(label: "api-live-test")
    logger.logLevel = .critical
    let server = APIServer(store: store, configuration: configuration, registry: PrometheusCollectorRegistry(), logger: logger)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = server.makeApplication { port in continuation.yield(port) }
    try await app.test(.live) { client in
      var iterator = ports.makeAsyncIterator()
      let port = try #require(await iterator.next())
      #expect(port > 0)
      #expect(port == client.port)
      #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
    }
    await store.close()
  }
}
