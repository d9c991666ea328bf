import Foundation
import Model
import Reconcile
import ResourceStore
import Store
import Testing

@Suite struct TeamReconcilerTests {
  @Test func everyMemberGetsAnInstanceAndTheTeamBecomesActive() async throws {
    try await Fixture.with { f in
      try await f.create(team("alpha", leader: "lead", workers: ["w1", "w2"]))
      try await f.converge(f.teams, "alpha")
      let alpha = try #require(try await f.store.find(Team.self, "alpha"))
      #expect(alpha.status.phase == .active)
      #expect(alpha.status.totalWorkers == 2)
      #expect(alpha.status.members?.map(\.name) == ["lead", "w1", "w2"])
      #expect(alpha.status.members?.first?.role == .teamLeader)
      #expect(alpha.status.members?.allSatisfy { $0.specHash?.count == 16 && $0.observed == true } == true)
      let instances = try await f.instances()
      #expect(Set(instances.keys) == ["hiclaw-worker-lead", "hiclaw-worker-w1", "hiclaw-worker-w2"])
      #expect(instances["hiclaw-worker-w1"]?.labels["hiclaw.io/team"] == "alpha")
      #expect(instances["hiclaw-worker-lead"]?.labels["hiclaw.io/role"] == "team_leader")
    }
  }

  @Test func changingOneMemberRecreatesOnlyThatMember() async throws {
    try await Fixture.with { f in
      try await f.create(team("beta", leader: "lead", workers: ["w1", "w2", "w3"]))
      try await f.converge(f.teams, "beta")
      let before = try await f.instances().mapValues(\.id)

      try await f.replace(Team.self, "beta") { $0.spec.workers?[1].model = "bigger-model" }
      try await f.converge(f.teams, "beta")
      let after = try await f.instances().mapValues(\.id)
      #expect(after["hiclaw-worker-w2"] != before["hiclaw-worker-w2"], "the changed member is recreated")
      for name in ["hiclaw-worker-lead", "hiclaw-worker-w1", "hiclaw-worker-w3"] {
        #expect(after[name] == before[name], "\(name) must not be recreated")
      }
    }
  }

  @Test func addingAndRemovingMembersLeavesTheOthersAlone() async throws {
    try await Fixture.with { f in
      try await f.create(team("gamma", leader: "lead", workers: ["w1", "w2"]))
      try await f.converge(f.teams, "gamma")
      let before = try await f.instances().mapValues(\.id)

      try await f.replace(Team.self, "gamma") { team in
        team.spec.workers?.removeAll { $0.name == "w1" }
        var added = TeamWorkerSpec(name: "w3")
        added.model = "qwen"
        team.spec.workers?.append(added)
      }
      try await f.converge(f.teams, "gamma")
      let after = try await f.instances().mapValues(\.id)
      #expect(after["hiclaw-worker-w1"] == nil, "the removed member is torn down")
      #expect(after["hiclaw-worker-w3"] != nil)
      #expect(after["hiclaw-worker-lead"] == before["hiclaw-worker-lead"])
      #expect(after["hiclaw-worker-w2"] == before["hiclaw-worker-w2"])
      let gamma = try #require(try await f.store.find(Team.self, "gamma"))
      #expect(gamma.status.members?.map(\.name) == ["lead", "w2", "w3"])
    }
  }

  @Test func deletingATeamTearsDownEveryMember() async throws {
    try await Fixture.with { f in
      try await f.create(team("delta", leader: "lead", workers: ["w1"]))
      try await f.converge(f.teams, "delta")
      #expect(try await f.instances().count == 2)
      _ = try await f.store.delete(ObjectKey(.team, "delta"))
      try await f.converge(f.teams, "delta", limit: 1)
      #expect(try await f.instances().isEmpty)
      #expect(try await f.store.find(Team.self, "delta") == nil)
    }
  }

  @Test func aSleepingMemberIsStoppedNotRecreated() async throws {
    try await Fixture.with { f in
      try await f.create(team("eps", leader: "lead", workers: ["w1"]))
      try await f.converge(f.teams, "eps")
      let id = try #require(try await f.instances()["hiclaw-worker-w1"]?.id)
      try await f.replace(Team.self, "eps") { $0.spec.workers?[0].state = .sleeping }
      try await f.converge(f.teams, "eps")
      let instance = try #require(try await f.instances()["hiclaw-worker-w1"])
      #expect(instance.id == id)
      #expect(instance.state == .stopped)
    }
  }
}

@Suite struct RuntimeNameTests {
  @Test func aTeamMemberCannotTakeAStandaloneWorkersContainer() async throws {
    try await Fixture.with { f in
      try await f.create(worker("dup"))
      try await f.converge(f.workers, "dup")
      let id = try #require(try await f.instances()["hiclaw-worker-dup"]?.id)

      try await f.create(team("clash", leader: "lead", workers: ["dup"]))
      await #expect(throws: (any Error).self) { try await f.teams.reconcile(ObjectKey(.team, "clash")) }
      let clash = try #require(try await f.store.find(Team.self, "clash"))
      #expect(clash.status.phase == .degraded)
      #expect(clash.status.message?.contains("worker/dup") == true, "\(clash.status.message ?? "")")
      #expect(try await f.instances()["hiclaw-worker-dup"]?.id == id, "the Worker's container is untouched")
      #expect(try await f.instances()["hiclaw-worker-lead"] != nil, "the other members still run")

      // Deleting the Team leaves the Worker's container alone.
      _ = try await f.store.delete(ObjectKey(.team, "clash"))
      try await f.converge(f.teams, "clash", limit: 1)
      #expect(try await f.instances()["hiclaw-worker-dup"]?.id == id)
      #expect(try await f.instances()["hiclaw-worker-lead"] == nil)
    }
  }

  @Test func renamingAMembersRuntimeNameTearsTheOldAgentDown() async throws {
    try await Fixture.with { f in
      try await f.create(team("ren", leader: "lead", workers: ["w1"]))
      try await f.converge(f.teams, "ren")
      #expect(try await f.instances()["hiclaw-worker-w1"] != nil)
      try await f.replace(Team.self, "ren") { $0.spec.workers?[0].workerName = "w1-new" }
      try await f.converge(f.teams, "ren")
      let instances = try await f.instances()
      #expect(instances["hiclaw-worker-w1"] == nil, "the old agent is gone")
      #expect(instances["hiclaw-worker-w1-new"]?.state == .running)
      #expect(try await f.store.find(Team.self, "ren")?.status.members?.last?.runtimeName == "w1-new")
    }
  }

  @Test func aTeamWithASleepingMemberIsActive() async throws {
    try await Fixture.with { f in
      try await f.create(team("nap", leader: "lead", workers: ["w1", "w2"]))
      try await f.replace(Team.self, "nap") { $0.spec.workers?[1].state = .sleeping }
      try await f.converge(f.teams, "nap")
      #expect(try await f.store.find(Team.self, "nap")?.status.phase == .active)
    }
  }
}
