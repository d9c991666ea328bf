import Foundation
import Model
import Testing

@Suite("Cross-object validation")
struct ReferenceTests {
  static let root = Human(metadata: ObjectMeta(name: "root"), spec: HumanSpec(displayName: "Root", permissionLevel: 1))

  static func team(admin: TeamAdmin? = TeamAdmin(name: "root"), workers: [TeamWorkerSpec] = [TeamWorkerSpec(name: "w1")]) -> Team {
    Team(metadata: ObjectMeta(name: "alpha"), spec: TeamSpec(admin: admin, leader: LeaderSpec(name: "lead"), workers: workers))
  }

  static func worker(_ name: String, workerName: String? = nil, namespace: String = "default") -> Worker {
    Worker(metadata: ObjectMeta(name: name, namespace: namespace), spec: WorkerSpec(model: "m", workerName: workerName))
  }

  @Test("the team admin must be an existing Human in the same namespace")
  func adminExists() {
    let team = AnyResource.team(Self.team())
    #expect(Validation.validateReferences(of: team, against: [.human(Self.root)]).isEmpty)
    let missing = Validation.validateReferences(of: team, against: [])
    #expect(missing.paths == ["spec.admin.name"])
    #expect(missing.first?.reason == .notFound)
    #expect(missing.first?.message.hasPrefix(#"Human "root" not found in namespace "default""#) == true)
    var elsewhere = Self.root
    elsewhere.metadata.namespace = "other"
    #expect(Validation.validateReferences(of: team, against: [.human(elsewhere)]).paths == ["spec.admin.name"])
  }

  @Test("the admin's matrixUserId must be the Human's")
  func adminMatrixID() {
    let right = AnyResource.team(Self.team(admin: TeamAdmin(name: "root", matrixUserId: "@root:example.org")))
    let wrong = AnyResource.team(Self.team(admin: TeamAdmin(name: "root", matrixUserId: "@someone:example.org")))
    #expect(Validation.validateReferences(of: right, against: [.human(Self.root)], matrixDomain: "example.org").isEmpty)
    #expect(Validation.validateReferences(of: right, against: [.human(Self.root)]).isEmpty)
    #expect(
      Validation.validateReferences(of: right, against: [.human(Self.root)], matrixDomain: "other.org").paths
        == ["spec.admin.matrixUserId"])
    let errors = Validation.validateReferences(of: wrong, against: [.human(Self.root)], matrixDomain: "example.org")
    #expect(errors.map(\.description) == [
      "spec.admin.matrixUserId: does not match human/root, whose Matrix ID is @root:example.org; fix it or leave it out (it is derived from the Human)"
    ])
    // The Human's username, not its name, is the localpart.
    var renamed = Self.root
    renamed.spec.username = "the-root"
    #expect(Validation.validateReferences(of: right, against: [.human(renamed)]).paths == ["spec.admin.matrixUserId"])
  }

  @Test("team members must not collide with standalone Workers")
  func membersVersusWorkers() {
    let team = AnyResource.team(Self.team(admin: nil, workers: [TeamWorkerSpec(name: "w1"), TeamWorkerSpec(name: "w2", workerName: "bob")]))
    let errors = Validation.validateReferences(
      of: team, against: [.worker(Self.worker("w1", workerName: "w1-standalone")), .worker(Self.worker("bobby", workerName: "bob"))])
    #expect(errors.paths == ["spec.workers[0].name", "spec.workers[1].workerName"])
    #expect(errors.message(at: "spec.workers[0].name")?.hasPrefix(#""w1" is already the standalone worker/w1"#) == true)
    #expect(errors.message(at: "spec.workers[1].workerName")?.hasPrefix(#"Matrix account "bob" is already taken by worker/bobby"#) == true)
    #expect(errors.allSatisfy { $0.reason == .conflict })
  }

  @Test("a standalone Worker must not take a team member's name or runtime name")
  func workerVersusTeams() {
    let team = AnyResource.team(Self.team(admin: nil))
    #expect(Validation.validateReferences(of: .worker(Self.worker("w1", workerName: "x")), against: [team]).paths == ["metadata.name"])
    #expect(Validation.validateReferences(of: .worker(Self.worker("x", workerName: "lead")), against: [team]).paths == ["spec.workerName"])
    #expect(Validation.validateReferences(of: .worker(Self.worker("x")), against: [team]).isEmpty)
    // Another namespace: the name is free, the Matrix account is not.
    #expect(Validation.validateReferences(of: .worker(Self.worker("w1", namespace: "other")), against: [team]).paths == ["metadata.name"])
    #expect(Validation.validateReferences(of: .worker(Self.worker("w1", workerName: "w1x", namespace: "other")), against: [team]).isEmpty)
  }

  @Test("Matrix accounts are unique across workers, members and humans")
  func localparts() {
    let human = Human(metadata: ObjectMeta(name: "dana"), spec: HumanSpec(displayName: "D", username: "alice", permissionLevel: 3))
    let worker = Self.worker("alice")
    #expect(Validation.validateReferences(of: .human(human), against: [.worker(worker)]).paths == ["spec.username"])
    #expect(Validation.validateReferences(of: .worker(worker), against: [.human(human)]).paths == ["metadata.name"])
  }

  @Test("an object's own stored version is not a conflict")
  func selfIgnored() {
    let worker = AnyResource.worker(Self.worker("alice"))
    #expect(Validation.validateReferences(of: worker, against: [worker]).isEmpty)
    let team = AnyResource.team(Self.team())
    #expect(Validation.validateReferences(of: team, against: [team, .human(Self.root)]).isEmpty)
  }

  @Test("two teams: member names and team names")
  func twoTeams() {
    let first = AnyResource.team(Self.team(admin: nil))
    var second = Self.team(admin: nil, workers: [TeamWorkerSpec(name: "w1", workerName: "w1-b")])
    second.metadata.name = "beta"
    second.spec.leader = LeaderSpec(name: "lead-b")
    second.spec.teamName = "alpha"
    let errors = Validation.validateReferences(of: .team(second), against: [first])
    #expect(errors.paths == ["spec.workers[0].name", "spec.teamName"])
  }

  @Test("one Manager only")
  func oneManager() {
    let existing = AnyResource.manager(Fixtures.fullManager)
    var another = Fixtures.fullManager
    another.metadata.name = "second"
    #expect(Validation.validateReferences(of: .manager(another), against: [existing]).paths == ["metadata.name"])
    #expect(Validation.validateReferences(of: existing, against: [existing]).isEmpty)
  }
}
