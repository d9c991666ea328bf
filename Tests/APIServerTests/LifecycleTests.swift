import Foundation
import Hummingbird
import Model
import ResourceStore
import Store
import Testing

@testable import APIServer

@Suite("Worker lifecycle")
struct LifecycleTests {
  @Test("standalone Worker: sleep/wake write spec.state; ready persists a Ready condition; status sums up")
  func standalone() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/workers", Doc.worker("alice"))

      let slept = try await api.post("/api/v1/workers/alice/sleep")
      #expect(slept.code == 200, "\(slept)")
      #expect(slept.json["name"]?.stringValue == "alice")
      #expect(slept.json["phase"]?.stringValue == "Sleeping")
      var worker = try #require(try await api.store.find(Worker.self, "alice"))
      #expect(worker.spec.state == .sleeping)
      #expect(worker.metadata.generation == 2)

      // Sleeping again writes nothing.
      let revision = api.store.currentRevision
      #expect(try await api.post("/api/v1/workers/alice/sleep").code == 200)
      #expect(api.store.currentRevision == revision)

      // ensure-ready wakes a sleeping worker; the reconciler has not caught up, so it is Pending.
      let ensured = try await api.post("/api/v1/workers/alice/ensure-ready")
      #expect(ensured.code == 200)
      #expect(ensured.json["phase"]?.stringValue == "Pending")
      worker = try #require(try await api.store.find(Worker.self, "alice"))
      #expect(worker.spec.state == .running)

      // The reconciler reports Running; the agent reports ready.
      worker.status.phase = .running
      worker = try await api.store.writeStatus(worker).resource(as: Worker.self)
      var status = try await api.get("/api/v1/workers/alice/status")
      #expect(status.json["phase"]?.stringValue == "Running")
      #expect(status.json["ready"]?.bool == false)

      let ready = try await api.post("/api/v1/workers/alice/ready")
      #expect(ready.code == 204)
      worker = try #require(try await api.store.find(Worker.self, "alice"))
      let condition = try #require(worker.status.condition("Ready"))
      #expect(condition.status == .true)
      #expect(worker.status.phase == .running)  // the rest of the status is kept
      status = try await api.get("/api/v1/workers/alice/status")
      #expect(status.code == 200)
      #expect(status.json["name"]?.stringValue == "alice")
      #expect(status.json["team"] == .null)
      #expect(status.json["role"]?.stringValue == "worker")
      #expect(status.json["state"]?.stringValue == "Running")
      #expect(status.json["ready"]?.bool == true)
      #expect(status.json["phase"]?.stringValue == "Ready")
      #expect(try await api.post("/api/v1/workers/alice/ensure-ready").json["phase"]?.stringValue == "Ready")

      // Reporting again writes nothing (a heartbeat loop is free).
      let before = api.store.currentRevision
      #expect(try await api.post("/api/v1/workers/alice/ready").code == 204)
      #expect(api.store.currentRevision == before)

      // A state change bumps the generation, so the old report no longer counts.
      _ = try await api.post("/api/v1/workers/alice/sleep")
      _ = try await api.post("/api/v1/workers/alice/wake")
      status = try await api.get("/api/v1/workers/alice/status")
      #expect(status.json["ready"]?.bool == false)
      #expect(status.json["state"]?.stringValue == "Running")
    }
  }

  @Test("Team members: leader and worker, found by member name")
  func teamMembers() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/teams", Doc.team("alpha", leader: "lead", workers: ["w1", "w2"]))

      #expect(try await api.post("/api/v1/workers/w2/sleep").json["phase"]?.stringValue == "Sleeping")
      #expect(try await api.post("/api/v1/workers/lead/sleep").code == 200)
      var team = try #require(try await api.store.find(Team.self, "alpha"))
      #expect(team.spec.workers?.first { $0.name == "w2" }?.state == .sleeping)
      #expect(team.spec.workers?.first { $0.name == "w1" }?.state == .running)
      #expect(team.spec.leader.state == .sleeping)

      #expect(try await api.post("/api/v1/workers/lead/wake").code == 200)
      team = try #require(try await api.store.find(Team.self, "alpha"))
      #expect(team.spec.leader.state == .running)

      // No status entry yet: ready creates it (sorted by name) and keeps the aggregates.
      #expect(try await api.post("/api/v1/workers/w1/ready").code == 204)
      #expect(try await api.post("/api/v1/workers/lead/ready").code == 204)
      team = try #require(try await api.store.find(Team.self, "alpha"))
      let members = team.status.members ?? []
      #expect(members.map(\.name) == ["lead", "w1"])
      #expect(members.allSatisfy { $0.ready == true })
      #expect(members.first?.role == .teamLeader)
      #expect(team.status.leaderReady == true)
      #expect(team.status.readyWorkers == 1)

      // Status before the reconciler applied the member's spec: Pending, but ready is reported.
      var status = try await api.get("/api/v1/workers/w1/status")
      #expect(status.code == 200)
      #expect(status.json["team"]?.stringValue == "alpha")
      #expect(status.json["role"]?.stringValue == "worker")
      #expect(status.json["phase"]?.stringValue == "Pending")
      #expect(status.json["ready"]?.bool == true)
      #expect(try await api.get("/api/v1/workers/lead/status").json["role"]?.stringValue == "team_leader")

      // Once the reconciler records the current spec hash, the member runs: Ready.
      team.status.members![1].specHash = SpecHash.worker(team.spec.workers![0], of: team.spec)
      team.status.members![1].phase = .running
      team = try await api.store.writeStatus(team).resource(as: Team.self)
      status = try await api.get("/api/v1/workers/w1/status")
      #expect(status.json["phase"]?.stringValue == "Ready")

      // Sleeping a member clears its readiness; until the reconciler stops it, it is Updating.
      #expect(try await api.post("/api/v1/workers/w1/sleep").code == 200)
      team = try #require(try await api.store.find(Team.self, "alpha"))
      #expect(team.status.members?.first { $0.name == "w1" }?.ready == false)
      #expect(team.status.readyWorkers == 0)
      status = try await api.get("/api/v1/workers/w1/status")
      #expect(status.json["phase"]?.stringValue == "Updating")
      #expect(status.json["state"]?.stringValue == "Sleeping")
      #expect(status.json["ready"]?.bool == false)
    }
  }

  @Test("unknown names are 404; a standalone Worker wins over a member of the same name")
  func resolution() async throws {
    try await withAPI { api in
      #expect(try await api.post("/api/v1/workers/ghost/wake").code == 404)
      #expect(try await api.get("/api/v1/workers/ghost/status").code == 404)
      _ = try await api.post("/api/v1/teams", Doc.team("alpha", leader: "lead", workers: ["dup"]))
      _ = try await api.post("/api/v1/workers", Doc.worker("dup"))
      #expect(try await api.post("/api/v1/workers/dup/sleep").code == 200)
      #expect(try await api.store.find(Worker.self, "dup")?.spec.state == .sleeping)
      #expect(try await api.store.find(Team.self, "alpha")?.spec.workers?.first?.state == .running)
    }
  }

  @Test("concurrent lifecycle calls on one Team all land (none lost to conflicts)")
  func retriesOnConflict() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/teams", Doc.team("alpha", leader: "lead", workers: ["w1", "w2", "w3", "w4"]))
      // Concurrent writers on the same Team: every call must land, none may be lost.
      try await withThrowingTaskGroup(of: Int.self) { group in
        for name in ["w1", "w2", "w3", "w4"] {
          group.addTask { try await api.post("/api/v1/workers/\(name)/sleep").code }
          group.addTask { try await api.post("/api/v1/workers/\(name)/ready").code }
        }
        for try await code in group { #expect(code == 200 || code == 204) }
      }
      let team = try #require(try await api.store.find(Team.self, "alpha"))
      #expect(team.spec.workers?.allSatisfy { $0.state == .sleeping } == true)
      #expect(team.status.members?.count == 4)
    }
  }
}
