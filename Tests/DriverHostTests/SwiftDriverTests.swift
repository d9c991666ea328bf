// A Swift (DriverKit) driver next to a C driver in one host, the memory backend's worker-backend/1
// lifecycle with its idempotency rules, events, and recover after a runner restart (§C.11 19).
import DriverHost
import DriverProtocols
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

typealias V1 = WorkerBackendV1

func decode<T: Decodable>(_ type: T.Type, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
  do {
    return try JSONDecoder().decode(T.self, from: Data(json.utf8))
  } catch {
    Issue.record("cannot decode \(T.self) from \(json): \(error)", sourceLocation: sourceLocation)
    throw error
  }
}

@Suite("Swift drivers", .timeLimit(.minutes(2)))
struct SwiftDriverTests {
  @Test("a Swift driver and a C driver in one host, called concurrently")
  func swiftAndCTogether() async throws {
    try await withTestHost { t in
      let memory = try await t.load(try t.swiftDriver("memory"), .inProcess)
      let noop = try await t.load(try t.fixture("noop"), .inProcess)
      #expect(memory.info.magic.toolchain.hasPrefix("swift-"), "\(memory.info.magic.toolchain)")
      #expect(memory.info.magic.usesSwiftDynamicRuntime)
      #expect(memory.info.supportsAsync && memory.info.supportsCancel)
      #expect(memory.info.capabilities & 4 != 0, "HC_CAP_RECOVER not set although memory implements recover")
      #expect(Set(memory.description.methods) == Set(V1.Method.allCases.map(\.rawValue)))
      #expect(noop.info.magic.toolchain == "c")

      let memoryInstance = try await memory.makeInstance(config: #"{"namespace":"together"}"#)
      let noopInstance = try await noop.makeInstance()
      let outcomes = await withTaskGroup(of: (String, RawOutcome).self) { group in
        for index in 0..<40 {
          group.addTask { ("noop", await noopInstance.callOutcome("ping")) }
          group.addTask {
            ("memory", await memoryInstance.callOutcome("create", #"{"name":"w\#(index)","image":"img"}"#, resource: "w\(index)"))
          }
          group.addTask { ("memory-ping", await memoryInstance.callOutcome("ping")) }
        }
        var all: [(String, RawOutcome)] = []
        for await outcome in group { all.append(outcome) }
        return all
      }
      #expect(outcomes.count == 120)
      let failed = outcomes.filter { !$0.1.ok }
      #expect(failed.isEmpty, "\(failed.prefix(3))")
      #expect(outcomes.filter { $0.0 == "noop" }.allSatisfy { $0.1.json == #"{"driver":"noop"}"# })
      let ping = try decode(PingResponse.self, try await memoryInstance.call("ping"))
      #expect(ping.driver == "memory")
      #expect(ping.backend["instances"] == .number(40))
      let list = try decode(V1.InstanceList.self, try await memoryInstance.call("list"))
      #expect(list.items.map(\.name) == (0..<40).map { "w\($0)" }.sorted())
      #expect(Set(list.items.map(\.id)).count == 40)

      await memoryInstance.destroy()
      await noopInstance.destroy()
      let memoryStats = await memory.shutdown()
      let noopStats = await noop.shutdown()
      #expect(memoryStats.allocator.allocations == memoryStats.allocator.frees, "memory: \(memoryStats.allocator)")
      #expect(noopStats.allocator.allocations == noopStats.allocator.frees, "noop: \(noopStats.allocator)")
      #expect(memoryStats.violations.isEmpty && noopStats.violations.isEmpty)
    }
  }

  @Test("memory backend lifecycle, idempotency and events", arguments: DriverIsolation.allCases)
  func memoryLifecycle(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.swiftDriver("memory"), isolation)
      let instance = try await driver.makeInstance(config: #"{"namespace":"life"}"#)
      let create = #"{"name":"w1","image":"img:1","labels":{"team":"a"},"ports":[{"name":"http","container":8080}]}"#

      let created = try decode(V1.InstanceStatus.self, try await instance.call("create", create, resource: "w1"))
      #expect(created.name == "w1")
      #expect(created.id == "mem-000001")
      #expect(created.state == .created)
      #expect(created.labels == ["team": "a"])
      #expect(created.image == "img:1")

      // `start` on create: one call to a running instance.
      let both = try decode(V1.InstanceStatus.self, try await instance.call(
        "create", #"{"name":"w9","image":"img:1","start":true}"#, resource: "w9"))
      #expect(both.state == .running)
      #expect(try decode(V1.InstanceStatus.self, try await instance.call("inspect", #"{"name":"w9"}"#)).state == .running)
      _ = try await instance.call("delete", #"{"name":"w9"}"#, resource: "w9")

      let again = await callError { try await instance.call("create", create, resource: "w1") }
      #expect(again?.status == .alreadyExists, "\(String(describing: again))")
      #expect(again?.detailsJSON?.contains("mem-000001") == true, "\(String(describing: again?.detailsJSON))")

      let started = try decode(V1.InstanceStatus.self, try await instance.call("start", #"{"name":"w1"}"#, resource: "w1"))
      #expect(started.state == .running)
      #expect(started.endpoints == [V1.Endpoint(name: "http", url: "memory://w1:8080")])
      let startedAgain = try decode(V1.InstanceStatus.self, try await instance.call("start", #"{"name":"w1"}"#, resource: "w1"))
      #expect(startedAgain.state == .running)

      let inspected = try decode(V1.InstanceStatus.self, try await instance.call("inspect", #"{"name":"w1"}"#))
      #expect(inspected.state == .running)
      #expect(inspected.id == "mem-000001")

      let selected = try decode(V1.InstanceList.self, try await instance.call("list", #"{"labels":{"team":"a"}}"#))
      #expect(selected.items.map(\.name) == ["w1"])
      let none = try decode(V1.InstanceList.self, try await instance.call("list", #"{"labels":{"team":"b"}}"#))
      #expect(none.items.isEmpty)

      let logs = try decode(V1.LogsResponse.self, try await instance.call("logs", #"{"name":"w1"}"#))
      #expect(logs.text == "created mem-000001 from image img:1\nstarted\n", "\(logs.text)")
      let tail = try decode(V1.LogsResponse.self, try await instance.call("logs", #"{"name":"w1","tail":1}"#))
      #expect(tail.text == "started\n")

      let stopped = try decode(V1.InstanceStatus.self, try await instance.call("stop", #"{"name":"w1"}"#, resource: "w1"))
      #expect(stopped.state == .stopped)
      let stoppedAgain = try decode(V1.InstanceStatus.self, try await instance.call("stop", #"{"name":"w1"}"#, resource: "w1"))
      #expect(stoppedAgain.state == .stopped)

      let deleted = try decode(V1.DeleteResponse.self, try await instance.call("delete", #"{"name":"w1"}"#, resource: "w1"))
      #expect(deleted == V1.DeleteResponse(name: "w1", deleted: true))
      let deletedAgain = await callError { try await instance.call("delete", #"{"name":"w1"}"#, resource: "w1") }
      #expect(deletedAgain?.status == .notFound)
      let unknown = await callError { try await instance.call("delete", #"{"name":"never-created"}"#) }
      #expect(unknown?.status == .notFound)
      #expect(unknown?.message.contains("never-created") == true, "\(String(describing: unknown))")
      let gone = await callError { try await instance.call("inspect", #"{"name":"w1"}"#) }
      #expect(gone?.status == .notFound)
      let startUnknown = await callError { try await instance.call("start", #"{"name":"nope"}"#) }
      #expect(startUnknown?.status == .notFound)

      let invalid = await callError { try await instance.call("create", #"{"name":"","image":"x"}"#) }
      #expect(invalid?.status == .invalidArgument)
      let malformed = await instance.callOutcome("create", "{")
      #expect(malformed.driverStatus == .invalidArgument, "\(malformed)")
      let unimplemented = await instance.callOutcome("exec")
      #expect(unimplemented.driverStatus == .unimplemented, "\(unimplemented)")

      // Events went through the host's onEvent (forwarded by the runner in process isolation).
      let events = t.events.filter { $0.subject == "w1" }
      #expect(events.allSatisfy { $0.driver == "memory" }, "\(events)")
      let reasons = try events.map { try decode(HostEvent.self, $0.json).reason }
      #expect(reasons == ["Created", "Started", "Stopped", "Deleted"], "\(events.map(\.json))")

      await instance.destroy()
      let stats = await driver.shutdown()
      #expect(stats.allocator.allocations == stats.allocator.frees, "\(stats.allocator)")
      #expect(stats.violations.isEmpty, "\(stats.violations)")
    }
  }

  @Test("a failing Swift create reports the driver's status and message", arguments: DriverIsolation.allCases)
  func memoryCreateFails(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.swiftDriver("memory"), isolation)
      let error = await callError { try await driver.makeInstance(config: #"{"fail_create":true}"#) }
      #expect(error?.status == .failedPrecondition)
      #expect(error?.message == "the memory backend was configured to fail (config.fail_create is true)")
      let stats = await driver.shutdown()
      #expect(stats.allocator.allocations == stats.allocator.frees, "\(stats.allocator)")
    }
  }

  @Test("after the runner is SIGKILLed it restarts, the host calls recover, and instances are recovered")
  func recoverAfterRunnerRestart() async throws {
    try await withTestHost { t in
      let requests = RecordedStrings()
      let driver = try await t.load(try t.swiftDriver("memory"), .process, recoverRequest: { config in
        requests.append(config)
        return #"{"known":[{"name":"w1"},{"name":"w2"}]}"#
      })
      let config = #"{"namespace":"recover"}"#
      let instance = try await driver.makeInstance(config: config)
      _ = try await instance.call("create", #"{"name":"w1","image":"img"}"#)
      _ = try await instance.call("start", #"{"name":"w1"}"#)
      _ = try await instance.call("create", #"{"name":"w2","image":"img"}"#)
      _ = try await instance.call("delete", #"{"name":"w2"}"#)

      let runners = t.runnerProcesses()
      let pid = try #require(runners.first, "no runner process found")
      #expect(runners.count == 1)
      #expect(kill(pid, SIGKILL) == 0)

      // The host notices, restarts the runner, re-creates the instance and calls recover.
      #expect(await eventually(timeout: .seconds(10)) { await driver.statistics().restarts >= 1 })
      #expect(await eventually(timeout: .seconds(10)) { !requests.values.isEmpty })
      #expect(requests.values == [config])
      let recovered = await eventually(timeout: .seconds(10)) {
        t.logs.entries(containing: "driver recover after runner restart").contains { $0.metadata["status"] == "OK" }
      }
      #expect(recovered, "logs: \(t.logs.entries.map { "\($0.message) \($0.metadata)" })")
      let stats = await driver.statistics()
      #expect(stats.lastExit?.contains("SIGKILL") == true, "\(String(describing: stats.lastExit))")
      #expect(!t.runnerProcesses().contains(pid))

      // The world survived in the host's state: recover and inspect see w1 running, w2 gone.
      let list = try decode(V1.InstanceList.self,
        try await instance.call("recover", #"{"known":[{"name":"w1"},{"name":"w2"},{"name":"ghost"}]}"#))
      #expect(list.items.map(\.name) == ["w1"])
      #expect(list.items.first?.state == .running)
      #expect(list.items.first?.id == "mem-000001")
      let inspected = try decode(V1.InstanceStatus.self, try await instance.call("inspect", #"{"name":"w1"}"#))
      #expect(inspected.state == .running)
      // New ids continue after the recovered sequence.
      let created = try decode(V1.InstanceStatus.self, try await instance.call("create", #"{"name":"w3","image":"img"}"#))
      #expect(created.id == "mem-000003")

      await instance.destroy()
      await driver.shutdown()
    }
  }
}

/// The memory backend's persistence: one key per instance, and the whole-world key of earlier
/// versions read once.
@Suite("Memory backend state")
struct MemoryBackendStateTests {
  /// A state store that remembers the size of every put.
  final class CountingState: DriverStateStore {
    let inner = MemoryStateStore()
    let puts = Mutex<[(key: String, bytes: Int)]>([])
    func get(driver: String, key: String) -> String? { inner.get(driver: driver, key: key) }
    func put(driver: String, key: String, value: String) throws {
      puts.withLock { $0.append((key, value.utf8.count)) }
      try inner.put(driver: driver, key: key, value: value)
    }
  }

  @Test("a change writes only the changed instance, however many there are")
  func perInstanceWrites() async throws {
    let state = CountingState()
    try await withTestHost(state: state) { t in
      let driver = try await t.load(try t.swiftDriver("memory"), .inProcess)
      let instance = try await driver.makeInstance(config: #"{"namespace":"many"}"#)
      for index in 0..<100 { _ = try await instance.call("create", #"{"name":"w\#(index)","image":"img"}"#) }
      state.puts.withLock { $0.removeAll() }
      _ = try await instance.call("start", #"{"name":"w42"}"#)
      let puts = state.puts.withLock { $0 }
      #expect(puts.map(\.key) == ["memory/many/instances/mem-000043"], "\(puts)")
      #expect(puts.allSatisfy { $0.bytes < 1024 }, "\(puts)")
      _ = try await instance.call("delete", #"{"name":"w42"}"#)
      #expect(state.get(driver: "memory", key: "memory/many/instances/mem-000043") == "")
      await instance.destroy()
      await driver.shutdown()
    }
  }

  @Test("a world persisted whole by an earlier version is read once and rewritten per instance")
  func legacyWorldMigrates() async throws {
    let state = CountingState()
    try state.put(driver: "memory", key: "memory/old", value: """
      {"next_sequence":3,"instances":{"w1":{"name":"w1","id":"mem-000002","state":"running","labels":{"a":"b"},\
      "image":"img","log":[{"unix":0,"text":"created mem-000002 from image img"}]}}}
      """)
    try await withTestHost(state: state) { t in
      let driver = try await t.load(try t.swiftDriver("memory"), .inProcess)
      let instance = try await driver.makeInstance(config: #"{"namespace":"old"}"#)
      let list = try decode(V1.InstanceList.self, try await instance.call("list"))
      #expect(list.items.map(\.name) == ["w1"])
      #expect(list.items.first?.state == .running)
      #expect(list.items.first?.labels == ["a": "b"])
      #expect(state.get(driver: "memory", key: "memory/old") == "")
      #expect(state.get(driver: "memory", key: "memory/old/next") == "3")
      #expect(state.get(driver: "memory", key: "memory/old/instances/mem-000002")?.contains(#""name":"w1""#) == true)
      let created = try decode(V1.InstanceStatus.self, try await instance.call("create", #"{"name":"w2","image":"img"}"#))
      #expect(created.id == "mem-000003")
      await instance.destroy()
      await driver.shutdown()
    }
  }
}

final class RecordedStrings: Sendable {
  private let storage = Mutex<[String]>([])
  func append(_ value: String) { storage.withLock { $0.append(value) } }
  var values: [String] { storage.withLock { $0 } }
}
