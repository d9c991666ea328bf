import DriverHost
import DriverProtocols
import Foundation
import Logging
import Model
@testable import Reconcile
import Store
import Synchronization
import Testing

/// The reconcilers render agents through a real runtime driver (the `hc_fixture_runtime`
/// fixture, loaded in process through the C ABI, serving "nanoclaw") and publish its files.
@Suite struct RuntimeRenderTests {
  static let fixtureRuntime = Task<DriverInstance, any Error> { try await SharedDriver.fixtureRuntime.value.makeInstance() }

  /// Records what would be pushed to storage, by agent runtime name.
  final class RecordingPublisher: AgentFilesPublisher {
    let published = Mutex<[String: [AgentRuntimeV1.RenderedFile]]>([:])
    func publish(_ files: [AgentRuntimeV1.RenderedFile], for agent: AgentSubject) async throws {
      published.withLock { $0[agent.runtimeName] = files }
    }
    var byAgent: [String: [AgentRuntimeV1.RenderedFile]] { published.withLock { $0 } }
  }

  @Test func workersAndTeamMembersOfARuntimeWithADriverAreRendered() async throws {
    let runtimes = RuntimeDrivers([.nanoclaw: try await Self.fixtureRuntime.value])
    try await Fixture.with { f in
      let files = RecordingPublisher()
      let provisioners = Provisioners(layers: Provisioners.noOp.layers, files: files)
      let workers = WorkerReconciler(store: f.store, backend: f.backend, provisioners: provisioners, runtimes: runtimes, logger: f.logger)
      let teams = TeamReconciler(store: f.store, backend: f.backend, provisioners: provisioners, runtimes: runtimes, logger: f.logger)

      var alice = worker("alice")
      alice.spec.runtime = .nanoclaw
      try await f.create(alice)
      try await f.converge(workers, "alice")
      var crew = team("crew", leader: "crew-lead", workers: ["crew-a"])
      crew.spec.workers![0].runtime = .nanoclaw
      try await f.create(crew)
      try await f.converge(teams, "crew")

      let instances = try await f.instances()
      #expect(instances["hiclaw-worker-alice"]?.image == "fixture/runtime:qwen")
      #expect(instances["hiclaw-worker-alice"]?.endpoints?.map(\.url) == ["memory://hiclaw-worker-alice:18080"],
        "the rendered ports reach the backend")
      #expect(instances["hiclaw-worker-crew-a"]?.image == "fixture/runtime:qwen")
      #expect(instances["hiclaw-worker-crew-lead"]?.image == "hiclaw/copaw-worker:latest",
        "the leader's runtime (copaw) has no driver here: host defaults")

      let published = files.byAgent
      #expect(published["alice"]?.map(\.path) == ["config/agent.json", "SOUL.md"])
      #expect(published["alice"]?.first?.content == #"{"agent":"alice","model":"qwen","role":"worker"}"#)
      #expect(published["alice"]?.first?.mode == "0600")
      #expect(published["alice"]?.last?.policy == .seed)
      #expect(published["crew-a"]?.first?.content == #"{"agent":"crew-a","model":"qwen","role":"worker"}"#)
      #expect(published["crew-lead"] == nil)
    }
  }

  @Test func aDriverThatRendersAPathOutsideTheAgentsHomeIsNotObeyed() async throws {
    let runtimes = RuntimeDrivers([.nanoclaw: try await Self.fixtureRuntime.value])
    try await Fixture.with { f in
      let files = RecordingPublisher()
      let workers = WorkerReconciler(
        store: f.store, backend: f.backend, provisioners: Provisioners(layers: [], files: files), runtimes: runtimes,
        logger: f.logger)
      var sneaky = worker("sneaky", model: "escape")
      sneaky.spec.runtime = .nanoclaw
      try await f.create(sneaky)
      await #expect(throws: DriverCallError.self) { try await workers.reconcile(ObjectKey(.worker, "sneaky")) }
      let status = try #require(try await f.store.find(Worker.self, "sneaky")).status
      #expect(status.message?.contains("leaves the agent's home") == true, "\(status)")
      #expect(status.phase != .failed, "a driver's fault is retried, not blamed on the spec")
      #expect(try await f.instances()["hiclaw-worker-sneaky"] == nil)
      #expect(files.byAgent.isEmpty)
    }
  }

  /// The rendering is part of the instance's spec hash: a runtime driver that appears (or whose
  /// answer changes) recreates the container once; further reconciles leave it alone. A
  /// container to be deleted is not rendered at all.
  @Test func aNewRenderingRecreatesTheContainerOnceAndStoppedIsNotRendered() async throws {
    let runtimes = RuntimeDrivers([.nanoclaw: try await Self.fixtureRuntime.value])
    try await Fixture.with { f in
      var bob = worker("bob")
      bob.spec.runtime = .nanoclaw
      try await f.create(bob)
      try await f.converge(f.workers, "bob")  // no runtime driver: host defaults
      let before = try #require(try await f.instances()["hiclaw-worker-bob"])
      #expect(before.image == "hiclaw/worker-agent:latest")

      let rendering = WorkerReconciler(store: f.store, backend: f.backend, runtimes: runtimes, logger: f.logger)
      try await f.converge(rendering, "bob")
      let after = try #require(try await f.instances()["hiclaw-worker-bob"])
      #expect(after.image == "fixture/runtime:qwen")
      #expect(after.id != before.id, "recreated with the runtime's rendering")
      try await f.converge(rendering, "bob")
      #expect(try await f.instances()["hiclaw-worker-bob"]?.id == after.id, "and only once")

      // Desired Stopped: the container goes, and a runtime that would refuse the spec is not asked.
      try await f.replace(Worker.self, "bob") {
        $0.spec.state = .stopped
        $0.spec.model = "rejected-by-runtime"
      }
      try await f.converge(rendering, "bob")
      #expect(try await f.instances()["hiclaw-worker-bob"] == nil)
      #expect(try #require(try await f.store.find(Worker.self, "bob")).status.phase == .stopped)
    }
  }

  @Test(arguments: [
    ("config/a.json", nil), ("/etc/passwd", "absolute"), ("a/../../b", ".."), ("", "empty"), ("a//b", "empty or ."),
    ("./a", "empty or ."),
  ])
  func renderedPathsAreChecked(path: String, problem: String?) {
    let found = RuntimeDrivers.problem(with: AgentRuntimeV1.RenderedFile(path: path, content: ""))
    if let problem { #expect(found?.contains(problem) == true, "\(String(describing: found))") } else { #expect(found == nil) }
  }

  @Test(arguments: [("0644", true), ("600", true), ("0755", true), ("4755", false), ("2755", false), ("1777", false),
    ("07777", false), ("rwx", false), ("64", false), ("0648", false)])
  func renderedModesAreCheckedToo(mode: String, allowed: Bool) {
    let problem = RuntimeDrivers.problem(with: AgentRuntimeV1.RenderedFile(path: "a", content: "", mode: mode))
    #expect((problem == nil) == allowed, "\(mode): \(String(describing: problem))")
  }

  @Test func renderedEnvironmentNamesFollowTheSpecRule() {
    for good in ["A", "_x", "PATH_2", "a1"] { #expect(RuntimeDrivers.isEnvironmentName(good), "\(good)") }
    for bad in ["", "1A", "A=B", "A-B", "A B", "\u{E9}"] { #expect(!RuntimeDrivers.isEnvironmentName(bad), "\(bad)") }
  }
}
