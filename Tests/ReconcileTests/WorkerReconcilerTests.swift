import DriverHost
import DriverProtocols
import Foundation
import Model
import Reconcile
import ResourceStore
import Store
import Synchronization
import Testing

@Suite struct WorkerReconcilerTests {
  @Test func aNewWorkerGetsAFinalizerARunningInstanceAndStatus() async throws {
    try await Fixture.with { f in
      try await f.create(worker("alice", labels: ["app": "demo"]))
      try await f.converge(f.workers, "alice")

      let alice = try #require(try await f.store.find(Worker.self, "alice"))
      #expect(alice.metadata.finalizers == [ObjectMeta.cleanupFinalizer])
      #expect(alice.status.phase == .running)
      #expect(alice.status.observedGeneration == 1)
      #expect(alice.status.containerState == "running")
      #expect(alice.status.condition("Reconciled")?.status == .true)

      let instance = try #require(try await f.instances()["hiclaw-worker-alice"])
      #expect(instance.state == .running)
      #expect(instance.labels["hiclaw.io/worker"] == "alice")
      #expect(instance.labels["hiclaw.io/role"] == "standalone")
      #expect(instance.image == "hiclaw/worker-agent:latest")
      #expect(instance.labels["hiclaw.io/spec-hash"]?.count == 16)
      let events = try await f.store.events(for: alice.key).map(\.reason)
      #expect(events.contains("Created"))
    }
  }

  @Test func reconcilingAgainChangesNothingAndCreatesNothing() async throws {
    try await Fixture.with { f in
      try await f.create(worker("bob"))
      try await f.converge(f.workers, "bob")
      let before = try #require(try await f.store.find(Worker.self, "bob"))
      let revision = f.store.currentRevision
      try await f.converge(f.workers, "bob", limit: 3)
      let after = try #require(try await f.store.find(Worker.self, "bob"))
      #expect(after == before)
      #expect(f.store.currentRevision == revision, "an idempotent reconcile writes nothing")
      #expect(try await f.highestInstanceSequence() == 1)
    }
  }

  @Test func aSpecChangeRecreatesTheContainerButSleepAndWakeDoNot() async throws {
    try await Fixture.with { f in
      try await f.create(worker("carol"))
      try await f.converge(f.workers, "carol")
      let firstID = try #require(try await f.instances()["hiclaw-worker-carol"]?.id)

      try await f.replace(Worker.self, "carol") { $0.spec.state = .sleeping }
      try await f.converge(f.workers, "carol")
      var instance = try #require(try await f.instances()["hiclaw-worker-carol"])
      #expect(instance.id == firstID)
      #expect(instance.state == .stopped)
      #expect(try await f.store.find(Worker.self, "carol")?.status.phase == .sleeping)

      try await f.replace(Worker.self, "carol") { $0.spec.state = .running }
      try await f.converge(f.workers, "carol")
      instance = try #require(try await f.instances()["hiclaw-worker-carol"])
      #expect(instance.id == firstID)
      #expect(instance.state == .running)

      try await f.replace(Worker.self, "carol") { $0.spec.model = "another-model" }
      try await f.converge(f.workers, "carol")
      instance = try #require(try await f.instances()["hiclaw-worker-carol"])
      #expect(instance.id != firstID)
      #expect(instance.state == .running)
      let carol = try #require(try await f.store.find(Worker.self, "carol"))
      #expect(carol.status.observedGeneration == carol.metadata.generation)
    }
  }

  @Test func labelChangesDoNotRecreate() async throws {
    try await Fixture.with { f in
      try await f.create(worker("dave"))
      try await f.converge(f.workers, "dave")
      let id = try #require(try await f.instances()["hiclaw-worker-dave"]?.id)
      try await f.replace(Worker.self, "dave") { $0.metadata.labels = ["tier": "gold"] }
      try await f.converge(f.workers, "dave")
      #expect(try await f.instances()["hiclaw-worker-dave"]?.id == id)
    }
  }

  @Test func deletionRunsTheFinalizerAndDeletesTheInstanceAndToken() async throws {
    try await Fixture.with { f in
      try await f.create(worker("erin"))
      try await f.converge(f.workers, "erin")
      #expect(try await f.instances()["hiclaw-worker-erin"] != nil)
      let tokensBefore = try await f.store.tokens().filter { $0.role == "worker" && $0.subject == "erin" }
      #expect(tokensBefore.count == 1)

      let outcome = try await f.store.delete(ObjectKey(.worker, "erin"))
      #expect(!outcome.isDeleted, "the finalizer keeps the object until cleanup ran")
      try await f.converge(f.workers, "erin", limit: 1)

      #expect(try await f.store.find(Worker.self, "erin") == nil)
      #expect(try await f.instances()["hiclaw-worker-erin"] == nil)
      #expect(try await f.store.tokens().filter { $0.role == "worker" && $0.subject == "erin" }.isEmpty)
    }
  }

  @Test func aCrashAfterTheCreateDoesNotCreateTwice() async throws {
    try await Fixture.with { f in
      try await f.create(worker("frank"))
      // The "crash": the instance exists, but the host died before writing status.
      _ = try await f.backend.create(WorkerBackendV1.CreateRequest(
        name: "hiclaw-worker-frank", image: "hiclaw/worker-agent:latest",
        labels: ["hiclaw.io/spec-hash": WorkerReconcilerTestsSupport.hash(of: worker("frank"))]))
      try await f.converge(f.workers, "frank")
      #expect(try await f.highestInstanceSequence() == 1, "the existing instance was adopted, not created again")
      #expect(try await f.store.find(Worker.self, "frank")?.status.phase == .running)
    }
  }

  /// A Worker never reconciled (empty status) is created without an `inspect` first; once it
  /// has a status, reconciles inspect and create nothing.
  @Test func aNewWorkerIsCreatedWithoutInspectingFirst() async throws {
    try await Fixture.with { f in
      try await f.create(worker("hana"))
      let counting = CountingBackend(wrapped: f.backend)
      let reconciler = WorkerReconciler(store: f.store, backend: counting, logger: f.logger)
      _ = try await reconciler.reconcile(ObjectKey(.worker, "hana"))
      // One call: the create asks the backend to start the instance too.
      #expect(counting.calls == ["createIfAbsent"])
      _ = try await reconciler.reconcile(ObjectKey(.worker, "hana"))
      #expect(counting.calls == ["createIfAbsent", "inspect"])
      #expect(try await f.store.find(Worker.self, "hana")?.status.phase == .running)
      #expect(try await f.instances()["hiclaw-worker-hana"]?.state == .running)
    }
  }

  /// A backend that does not know `start` on create (an older driver) returns the instance
  /// created but stopped: the reconciler starts it, as before. A Worker meant to sleep is
  /// created without being started.
  @Test func aBackendThatIgnoresStartOnCreateIsStartedSeparately() async throws {
    try await Fixture.with { f in
      try await f.create(worker("ines"))
      let counting = CountingBackend(wrapped: f.backend, ignoringStartOnCreate: true)
      let reconciler = WorkerReconciler(store: f.store, backend: counting, logger: f.logger)
      _ = try await reconciler.reconcile(ObjectKey(.worker, "ines"))
      #expect(counting.calls == ["createIfAbsent", "start"])
      #expect(try await f.instances()["hiclaw-worker-ines"]?.state == .running)
      #expect(counting.startRequested == [nil])

      var sleeper = worker("sam")
      sleeper.spec.state = .sleeping
      try await f.create(sleeper)
      let recording = CountingBackend(wrapped: f.backend)
      _ = try await WorkerReconciler(store: f.store, backend: recording, logger: f.logger).reconcile(ObjectKey(.worker, "sam"))
      #expect(recording.startRequested == [nil])
      #expect(try await f.instances()["hiclaw-worker-sam"]?.state != .running)
      #expect(try await f.store.find(Worker.self, "sam")?.status.phase == .sleeping)
    }
  }

  /// The create-first path still checks what it finds: an instance left by a crash with an
  /// older spec is replaced, one owned by another object is refused and left alone.
  @Test func aCreateFirstThatFindsAnInstanceChecksItLikeAnyOther() async throws {
    try await Fixture.with { f in
      try await f.create(worker("ivan"))
      _ = try await f.backend.create(WorkerBackendV1.CreateRequest(
        name: "hiclaw-worker-ivan", image: "old", labels: ["hiclaw.io/spec-hash": "stale", "hiclaw.io/owner": "worker/ivan"]))
      try await f.converge(f.workers, "ivan")
      let ivan = try #require(try await f.instances()["hiclaw-worker-ivan"])
      #expect(ivan.labels["hiclaw.io/spec-hash"] == WorkerReconcilerTestsSupport.hash(of: worker("ivan")))
      #expect(ivan.image != "old")

      try await f.create(worker("jo"))
      let foreign = try await f.backend.create(WorkerBackendV1.CreateRequest(
        name: "hiclaw-worker-jo", image: "theirs", labels: ["hiclaw.io/owner": "team/other"]))
      await #expect(throws: TerminalError.self) { _ = try await f.workers.reconcile(ObjectKey(.worker, "jo")) }
      #expect(try await f.instances()["hiclaw-worker-jo"]?.id == foreign.id)
      #expect(try await f.store.find(Worker.self, "jo")?.status.condition("Reconciled")?.reason == "RuntimeNameInUse")
    }
  }

  @Test func anInvalidBackendRequestIsTerminalAndReportedInStatus() async throws {
    try await Fixture.with { f in
      try await f.create(worker("gina"))
      let reconciler = WorkerReconciler(store: f.store, backend: RejectingBackend(), logger: f.logger)
      await #expect(throws: TerminalError.self) { _ = try await reconciler.reconcile(ObjectKey(.worker, "gina")) }
      let gina = try #require(try await f.store.find(Worker.self, "gina"))
      #expect(gina.status.phase == .failed)
      #expect(gina.status.condition("Reconciled")?.reason == "InvalidRequest")
      #expect(gina.status.message?.contains("refused") == true)
    }
  }
}

enum WorkerReconcilerTestsSupport {
  static func hash(of worker: Worker) -> String {
    var spec = Defaults.standard.applied(to: worker).spec
    spec.state = nil
    return SpecHash.of(spec)
  }
}

/// A backend that refuses every create as invalid (what a driver does with a bad image).
struct RejectingBackend: WorkerBackend {
  func create(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus {
    throw DriverCallError(.invalidArgument, "the backend refused the image")
  }
  func start(_ name: String) async throws -> WorkerBackendV1.InstanceStatus { throw DriverCallError(.invalidArgument, "no") }
  func stop(_ name: String) async throws -> WorkerBackendV1.InstanceStatus { throw DriverCallError(.invalidArgument, "no") }
  func delete(_ name: String) async throws {}
  func inspect(_ name: String) async throws -> WorkerBackendV1.InstanceStatus? { nil }
}


/// Records which backend operations a reconcile asked for, and forwards them.
final class CountingBackend: WorkerBackend, Sendable {
  let wrapped: any WorkerBackend
  /// Drops `start` from create requests, as a driver from before that field would.
  let ignoringStartOnCreate: Bool
  private let recorded = Mutex<[String]>([])
  private let starts = Mutex<[Bool?]>([])
  var calls: [String] { recorded.withLock { $0 } }
  /// The `start` of every create request, as sent by the reconciler.
  var startRequested: [Bool?] { starts.withLock { $0 } }

  init(wrapped: any WorkerBackend, ignoringStartOnCreate: Bool = false) {
    self.wrapped = wrapped
    self.ignoringStartOnCreate = ignoringStartOnCreate
  }

  private func note(_ call: String) { recorded.withLock { $0.append(call) } }

  private func forwarded(_ request: WorkerBackendV1.CreateRequest) -> WorkerBackendV1.CreateRequest {
    starts.withLock { $0.append(ignoringStartOnCreate ? nil : request.start) }
    var request = request
    if ignoringStartOnCreate { request.start = nil }
    return request
  }

  func create(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus {
    note("create")
    return try await wrapped.create(forwarded(request))
  }
  func createIfAbsent(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus? {
    note("createIfAbsent")
    return try await wrapped.createIfAbsent(forwarded(request))
  }
  func start(_ name: String) async throws -> WorkerBackendV1.InstanceStatus {
    note("start")
    return try await wrapped.start(name)
  }
  func stop(_ name: String) async throws -> WorkerBackendV1.InstanceStatus {
    note("stop")
    return try await wrapped.stop(name)
  }
  func delete(_ name: String) async throws {
    note("delete")
    try await wrapped.delete(name)
  }
  func inspect(_ name: String) async throws -> WorkerBackendV1.InstanceStatus? {
    note("inspect")
    return try await wrapped.inspect(name)
  }
}
