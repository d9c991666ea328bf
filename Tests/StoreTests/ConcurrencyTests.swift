import Foundation
import Synchronization
import Testing

@testable import Store

@Suite struct ConcurrencyTests {
  /// 16 writers creating and updating, plus readers listing, watching and verifying tokens, all
  /// at once: the only errors anyone may see are the conflicts the test provokes on purpose.
  @Test func sixteenWritersNeverSeeBusyErrors() async throws {
    try await withStore { store, _ in
      let token = try await store.createToken(role: "admin")
      try await store.create(object("shared"))
      let unexpected = Shared<[String]>([])
      let conflicts = Shared(0)
      let before = store.writeStatistics

      try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<16 {
          group.addTask {
            for index in 0..<60 {
              do {
                // Everyone fights over one object, read before this writer's other writes so
                // that others update it in between (a stale version: conflicts).
                var shared = try await store.get(key("shared"))
                var created = try await store.create(object("w\(writer)-\(index)", labels: ["writer": "\(writer)"]))
                created.spec = try json(#"{"index":\#(index),"updated":true}"#)
                try await store.update(created)
                shared.labels = ["last": "\(writer)-\(index)"]
                try await store.update(shared)
                try await store.recordEvent(for: created.key, type: .normal, reason: "Made", message: "by \(writer)")
              } catch let error as StoreError where error.code == .conflict {
                conflicts.update { $0 += 1 }
              } catch {
                unexpected.update { $0.append("\(error)") }
              }
            }
          }
        }
        for _ in 0..<4 {
          group.addTask {
            for _ in 0..<40 {
              do {
                _ = try await store.list(kind: "workers", labelSelector: LabelSelector(parsing: "writer=3"))
                _ = try await store.get(key("shared"))
                _ = try await store.verifyToken(token.token)
              } catch {
                unexpected.update { $0.append("reader: \(error)") }
              }
            }
          }
        }
        try await group.waitForAll()
      }
      #expect(unexpected.value.isEmpty, "\(unexpected.value.prefix(5))")
      #expect(try await store.list(kind: "workers").items.count == 16 * 60 + 1)

      let after = store.writeStatistics
      #expect(after.writes > before.writes)

      // Failed writes took no revision: the log is gap-free.
      let watch = try await store.watch(fromRevision: 0)
      let current = store.currentRevision
      let revisions = try await collect(watch) { $0.revision == current }.map(\.revision)
      expectRevisions(revisions, Array(1...current), "the object log")
      #expect(conflicts.value > 0)
    }
  }

  /// Writes that queue while the writer is busy are committed together, each with its own result.
  @Test func writesQueuedBehindABusyWriterShareOneTransaction() async throws {
    try await withStore { store, _ in
      let before = store.writeStatistics
      // The blocker holds the writer until all 20 creates are queued behind it (however slowly
      // a loaded machine schedules them; at most 20 s). It runs as a drain on GRDB's writer
      // queue (as under concurrency), not inline: busy-waiting on a cooperative thread would
      // take one of the two this machine has from every other test.
      store.writer.lastBatchSize.store(2, ordering: .relaxed)
      let holding = Shared(false)
      let blocker = Task {
        try await store.write("holding the writer") { _ in
          holding.update { $0 = true }
          let deadline = ContinuousClock.now.advanced(by: .seconds(20))
          while store.writer.pendingCount < 20, ContinuousClock.now < deadline { _ = usleep(1000) }
        }
      }
      while !holding.value { try await Task.sleep(for: .milliseconds(1)) }
      let created = try await withThrowingTaskGroup(of: StoredObject.self) { group in
        for index in 0..<20 { group.addTask { try await store.create(object("queued-\(index)")) } }
        var created: [StoredObject] = []
        for try await object in group { created.append(object) }
        return created
      }
      try await blocker.value
      let after = store.writeStatistics
      #expect(Set(created.map(\.resourceVersion)) == Set(1...20))
      #expect(after.writes - before.writes == 21)
      #expect(after.transactions - before.transactions <= 3,
        "21 writes took \(after.transactions - before.transactions) transactions")
    }
  }

  /// A conflicting write in a batch is rolled back alone; the others in its transaction commit.
  @Test func aFailingWriteInABatchDoesNotAffectTheOthers() async throws {
    try await withStore { store, _ in
      let original = try await store.create(object("contended"))
      let results = try await withThrowingTaskGroup(of: Result<StoredObject, StoreError>.self) { group in
        for index in 0..<32 {
          group.addTask {
            if index % 2 == 0 {
              var stale = original
              stale.spec = try json(#"{"by":\#(index)}"#)
              do { return .success(try await store.update(stale)) } catch let error as StoreError { return .failure(error) }
            }
            do { return .success(try await store.create(object("new-\(index)"))) } catch let error as StoreError {
              return .failure(error)
            }
          }
        }
        var results: [Result<StoredObject, StoreError>] = []
        for try await result in group { results.append(result) }
        return results
      }
      let updates = results.compactMap { try? $0.get() }.filter { $0.name == "contended" }
      let creates = results.compactMap { try? $0.get() }.filter { $0.name.hasPrefix("new-") }
      let failures = results.compactMap { result -> StoreError? in
        if case .failure(let error) = result { return error }
        return nil
      }
      #expect(updates.count == 1)
      #expect(creates.count == 16)
      #expect(failures.count == 15)
      #expect(failures.allSatisfy { $0.code == .conflict && $0.expectedResourceVersion == 1 })
      #expect(store.currentRevision == 1 + 1 + 16)
      #expect(try await store.get(key("contended")).generation == 2)
    }
  }
}

@Suite struct BatchFailureTests {
  /// Writes that fail after changing rows force the batch to be rolled back and re-run with
  /// savepoints: their changes vanish, everyone else's commit.
  @Test func aWriteFailingAfterChangingRowsIsUndoneAlone() async throws {
    try await withStore { store, _ in
      let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
        for index in 0..<40 {
          group.addTask {
            if index % 4 == 0 {
              do {
                try await store.write("a write that fails half-way") { context in
                  try context.db.execute(
                    sql: "INSERT INTO secrets (name, sealed, updated_at) VALUES (?, x'00', 0)", arguments: ["bad-\(index)"])
                  _ = context.nextRevision()
                  throw StoreError(.invalid, "failing on purpose", fix: "none")
                }
                return (index, true)
              } catch let error as StoreError {
                #expect(error.message == "failing on purpose")
                return (index, false)
              }
            }
            try await store.create(object("good-\(index)"))
            return (index, true)
          }
        }
        var outcomes: [Int: Bool] = [:]
        for try await (index, succeeded) in group { outcomes[index] = succeeded }
        return outcomes
      }
      #expect(outcomes.filter { $0.value }.count == 30)
      #expect(outcomes.filter { !$0.value }.keys.allSatisfy { $0 % 4 == 0 })
      #expect(try await store.secretNames().isEmpty)
      #expect(try await store.list(kind: "workers").items.count == 30)
      #expect(store.currentRevision == 30)
      let watch = try await store.watch(fromRevision: 0)
      expectRevisions(try await collect(watch) { $0.revision == 30 }.map(\.revision), Array(1...30), "the object log")
    }
  }
}
