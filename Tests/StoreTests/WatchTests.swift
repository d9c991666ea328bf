import Foundation
import Synchronization
import Testing

@testable import Store

/// What the writers were told: revision → (type, key, spec), to check every delivered event
/// against the write that produced it.
final class WriteLog: Sendable {
  private let entries = Mutex([Int64: (WatchEvent.EventType, ObjectKey, CanonicalJSON)]())

  func record(_ type: WatchEvent.EventType, _ object: StoredObject) {
    entries.withLock { $0[object.resourceVersion] = (type, object.key, object.spec) }
  }

  var snapshot: [Int64: (WatchEvent.EventType, ObjectKey, CanonicalJSON)] { entries.withLock { $0 } }
}

@Suite struct WatchTests {
  /// 8 tasks × 200 writes over two kinds; watchers join at different moments, from revisions in
  /// the past, from "now" and from the future, some filtered by kind, with a small replay page
  /// and a delay between subscribing and replaying so that writes land in the hand-over window.
  /// Each must see exactly the revisions after its start, in order, each matching the write.
  @Test(arguments: [0, 5])
  func replayThenLiveHasNoGapNoDuplicateUnderConcurrentWriters(handOverDelayMillis: Int) async throws {
    try await withStore({ configuration in
      configuration.watchReplayPageSize = 7
      if handOverDelayMillis > 0 {
        configuration.afterWatchSubscribe = { try? await Task.sleep(for: .milliseconds(handOverDelayMillis)) }
      }
    }) { store, _ in
      let writers = 8
      let writesPerWriter = 200
      let total = Int64(writers * writesPerWriter)
      let log = WriteLog()

      try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
          group.addTask {
            let kind = writer % 2 == 0 ? "workers" : "teams"
            var current = try await store.create(object("w\(writer)", kind: kind, spec: #"{"i":0}"#))
            log.record(.added, current)
            for index in 1..<writesPerWriter {
              if index % 10 == 0 {
                current.status = try json(#"{"seen":\#(index)}"#)
                current = try await store.updateStatus(current)
              } else {
                current.spec = try json(#"{"i":\#(index)}"#)
                current = try await store.update(current)
              }
              log.record(.modified, current)
              if index % 3 == 0 { await Task.yield() }
            }
          }
        }

        struct Watcher: Sendable {
          var from: Int64
          var kind: String?
          var events: [WatchEvent]
        }
        var watchers: [Task<Watcher, any Error>] = []
        // Join while the writers are running: at 0, then at several points, with several
        // starting revisions relative to the current one.
        for (threshold, offset, kind) in [
          (0, 0, nil), (100, -50, nil), (300, 0, "workers"), (500, -300, "teams"), (700, 0, nil),
          (900, 25, nil), (1100, -1, "workers"), (1300, 0, nil),
        ] as [(Int64, Int64, String?)] {
          while store.currentRevision < threshold { try await Task.sleep(for: .microseconds(200)) }
          let from = max(0, store.currentRevision + offset)
          let watch = try await store.watch(kind: kind, fromRevision: from)
          watchers.append(Task {
            let events = try await collect(watch) { event in event.object.name == "sentinel" }
            return Watcher(from: from, kind: kind, events: events)
          })
        }
        try await group.waitForAll()
        #expect(store.currentRevision == total)
        // A sentinel per kind ends every watcher.
        try await store.create(object("sentinel", kind: "workers"))
        try await store.create(object("sentinel", kind: "teams"))

        let written = log.snapshot
        #expect(written.count == Int(total))
        for task in watchers {
          let watcher = try await task.value
          let received = watcher.events.dropLast()  // the sentinel
          let expected = (watcher.from + 1...total).filter { revision in
            watcher.kind == nil || written[revision]?.1.kind == watcher.kind
          }
          expectRevisions(received.map(\.revision), expected, "watcher from \(watcher.from) kind \(watcher.kind ?? "*")")
          for event in received {
            guard let write = written[event.revision] else { continue }
            #expect(event.type == write.0)
            #expect(event.object.key == write.1)
            #expect(event.object.spec == write.2)
          }
        }
      }
    }
  }

  /// Many short watches started at random moments during writes.
  @Test func manyWatchersStartingAtRandomMoments() async throws {
    try await withStore({ $0.watchReplayPageSize = 3 }) { store, _ in
      let total: Int64 = 600
      let writers = Task {
        try await withThrowingTaskGroup(of: Void.self) { writers in
          for writer in 0..<4 {
            writers.addTask {
              for index in 0..<150 { try await store.create(object("o-\(writer)-\(index)")) }
            }
          }
          try await writers.waitForAll()
        }
      }
      var watchers: [(Int64, Task<[WatchEvent], any Error>)] = []
      for _ in 0..<24 {
        try await Task.sleep(for: .microseconds(Int.random(in: 0...2000)))
        let from = Int64.random(in: 0...max(0, store.currentRevision))
        let watch = try await store.watch(fromRevision: from)
        watchers.append((from, Task { try await collect(watch) { $0.object.name == "sentinel" } }))
      }
      try await writers.value
      try await store.create(object("sentinel"))
      for (from, task) in watchers {
        let revisions = try await task.value.dropLast().map(\.revision)
        expectRevisions(revisions, from < total ? Array(from + 1...total) : [], "watch from \(from)")
      }
    }
  }

  @Test func watchResumesAfterReopeningTheDatabase() async throws {
    try await withTemporaryDirectory { directory in
      let configuration = StoreConfiguration(directory: directory)
      var store = try Store(configuration: configuration)
      for index in 1...10 { try await store.create(object("w\(index)")) }
      // A watcher saw up to revision 6, then the host went away.
      let firstWatch = try await store.watch(fromRevision: 0)
      let seen = try await collect(firstWatch) { $0.revision == 6 }
      #expect(seen.map(\.revision) == Array(1...6))
      await store.close()

      store = try Store(configuration: configuration)
      #expect(store.currentRevision == 10)
      let resumed = try await store.watch(fromRevision: 6)
      try await store.create(object("w11"))
      var w1 = try await store.get(key("w1"))
      w1.labels = ["x": "y"]
      try await store.update(w1)
      let events = try await collect(resumed) { $0.revision == 12 }
      #expect(events.map(\.revision) == [7, 8, 9, 10, 11, 12])
      #expect(events.map(\.object.name) == ["w7", "w8", "w9", "w10", "w11", "w1"])
      #expect(events.last?.type == .modified)
      // Revisions continue from the persisted counter, never reused.
      #expect(try await store.create(object("w12")).resourceVersion == 13)
      await store.close()
    }
  }

  @Test func compactedHistoryFailsTheWatchNamingTheOldestRevision() async throws {
    try await withTemporaryDirectory { directory in
      let configuration = StoreConfiguration(directory: directory)
      let store = try Store(configuration: configuration)
      for index in 1...20 { try await store.create(object("w\(index)")) }
      #expect(try await store.compact(before: 11) == 10)
      #expect(try await store.oldestAvailableRevision() == 11)
      #expect(try await store.compact(before: 5) == 0)  // behind the horizon: nothing

      let error = await storeError { _ = try await store.watch(fromRevision: 9) }
      #expect(error?.code == .revisionCompacted)
      #expect(error?.oldestAvailableRevision == 11)
      #expect(error?.message.contains("required revision has been compacted") == true)
      #expect(error?.message.contains("oldest revision available is 11") == true)

      // From 10 the history is complete.
      let watch = try await store.watch(fromRevision: 10)
      #expect(try await collect(watch) { $0.revision == 20 }.map(\.revision) == Array(11...20))
      // Objects are untouched.
      #expect(try await store.list(kind: "workers").items.count == 20)
      #expect(await storeError { try await store.compact(before: 100) }?.code == .invalid)
      await store.close()

      // The horizon persists.
      let reopened = try Store(configuration: configuration)
      #expect(await storeError { _ = try await reopened.watch(fromRevision: 0) }?.code == .revisionCompacted)
      try await reopened.compact(keepingLast: 5)
      #expect(try await reopened.oldestAvailableRevision() == 16)
      // Compacting everything keeps the revision: it is never reused.
      #expect(try await reopened.compact(before: 21) == 5)
      #expect(try await reopened.list(kind: "workers").resourceVersion == 20)
      await reopened.close()
      let emptied = try Store(configuration: configuration)
      #expect(emptied.currentRevision == 20)
      #expect(try await emptied.create(object("after")).resourceVersion == 21)
      let watch20 = try await emptied.watch(fromRevision: 20)
      #expect(try await collect(watch20) { $0.revision == 21 }.map(\.object.name) == ["after"])
      await emptied.close()
    }
  }

  @Test func automaticCompactionKeepsTheRetainedWindow() async throws {
    try await withStore({ $0.retainedRevisions = 100 }) { store, _ in
      var object = try await store.create(object("busy"))
      for index in 1..<1100 {
        object.labels = ["n": "\(index)"]
        object = try await store.update(object)
      }
      #expect(store.currentRevision == 1100)
      // Crossing revision 1024 compacted to 1024 - 100 + 1.
      #expect(try await store.oldestAvailableRevision() == 925)
      #expect(await storeError { _ = try await store.watch(fromRevision: 900) }?.code == .revisionCompacted)
      let watch = try await store.watch(fromRevision: 924)
      #expect(try await collect(watch) { $0.revision == 1100 }.count == 176)
    }
  }

  @Test func compactionDuringAPagedReplayFailsRatherThanSkipping() async throws {
    try await withStore({ $0.watchReplayPageSize = 2 }) { store, _ in
      for index in 1...20 { try await store.create(object("w\(index)")) }
      let watch = try await store.watch(fromRevision: 0)
      var iterator = watch.makeAsyncIterator()
      #expect(try await iterator.next()?.revision == 1)
      #expect(try await iterator.next()?.revision == 2)
      try await store.compact(before: 15)
      do {
        let next = try await iterator.next()
        Issue.record("expected revisionCompacted, got \(String(describing: next?.revision))")
      } catch let error as StoreError {
        #expect(error.code == .revisionCompacted)
        #expect(error.oldestAvailableRevision == 15)
      }
    }
  }

  @Test func slowWatcherIsEndedWithoutLosingItsPlace() async throws {
    try await withStore({ $0.watchBufferLimit = 10 }) { store, _ in
      let watch = try await store.watch(fromRevision: 0)
      for index in 1...20 { try await store.create(object("w\(index)")) }
      var iterator = watch.makeAsyncIterator()
      do {
        _ = try await iterator.next()
        Issue.record("expected watchTooSlow")
      } catch let error as StoreError {
        #expect(error.code == .watchTooSlow)
      }
      // Resuming from the last processed revision (none) replays everything.
      let again = try await store.watch(fromRevision: 0)
      #expect(try await collect(again) { $0.revision == 20 }.count == 20)
    }
  }

  @Test func watchEndsWhenTheStoreClosesOrTheTaskIsCancelled() async throws {
    try await withTemporaryDirectory { directory in
      let store = try Store(configuration: StoreConfiguration(directory: directory))
      try await store.create(object("a"))
      let watch = try await store.watch(fromRevision: 0)
      let consumer = Task {
        var count = 0
        for try await _ in watch { count += 1 }
        return count
      }
      let cancelled = Task {
        var count = 0
        do {
          for try await _ in try await store.watch(fromRevision: 1) { count += 1 }
        } catch let error as StoreError where error.code == .cancelled {
          // Cancelled before `watch` returned (a slow machine): also fine.
        }
        return count
      }
      try await Task.sleep(for: .milliseconds(50))
      cancelled.cancel()
      #expect(try await cancelled.value == 0)
      await store.close()
      #expect(try await consumer.value == 1)
    }
  }

  @Test func kindFilterAndFutureRevision() async throws {
    try await withStore { store, _ in
      try await store.create(object("a", kind: "workers"))
      try await store.create(object("t", kind: "teams"))
      let teams = try await store.watch(kind: "teams", fromRevision: 0)
      let future = try await store.watch(fromRevision: 4)
      try await store.create(object("b", kind: "workers"))
      try await store.create(object("u", kind: "teams"))
      try await store.create(object("c", kind: "workers"))
      #expect(try await collect(teams) { $0.revision == 4 }.map(\.object.name) == ["t", "u"])
      #expect(try await collect(future) { $0.revision == 5 }.map(\.revision) == [5])
      #expect(await storeError { _ = try await store.watch(fromRevision: -1) }?.code == .invalid)
    }
  }

  /// List, then watch from the list's revision: exactly the later writes.
  @Test func listThenWatchContinuesExactly() async throws {
    try await withStore { store, _ in
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
          for index in 0..<300 { try await store.create(object("w\(index)")) }
        }
        try await Task.sleep(for: .milliseconds(5))
        let list = try await store.list(kind: "workers")
        let watch = try await store.watch(kind: "workers", fromRevision: list.resourceVersion)
        try await group.waitForAll()
        try await store.create(object("sentinel"))
        let events = try await collect(watch, until: { $0.object.name == "sentinel" }).dropLast()
        let names = Set(list.items.map(\.name)).union(events.map(\.object.name))
        #expect(names.count == 300)
        #expect(list.items.count + events.count == 300)
        #expect(events.first.map { $0.revision == list.resourceVersion + 1 } ?? true)
      }
    }
  }
}
