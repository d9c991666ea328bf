import Foundation
import Testing

@testable import Store

/// The WAL is copied back into the database file by the checkpoint thread, never by a commit
/// (Store/Checkpointer.swift).
@Suite struct CheckpointTests {
  static func walBytes(_ configuration: StoreConfiguration) -> Int {
    let path = configuration.databaseURL.path + "-wal"
    return ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
  }

  @Test func theCheckpointThreadKeepsTheLogNearItsThresholdAndNothingIsLost() async throws {
    try await withStore({ $0.checkpointPages = 16 }) { store, configuration in
      #expect(store.checkpointer.checkpointsCompleted == 0)
      for index in 0..<400 {
        var created = try await store.create(object("w\(index)", spec: #"{"model":"m","padding":"\#(String(repeating: "x", count: 900))"}"#))
        created.status = try json(#"{"phase":"Running"}"#)
        try await store.updateStatus(created)
      }
      // Without checkpoints 800 commits of 1–3 pages each leave several MB of log.
      #expect(await eventually { store.checkpointer.checkpointsCompleted > 0 })
      // On an open log: a checkpoint on a connection that never read the database is a no-op.
      #expect(await eventually { store.checkpointer.checkpointsWithLogOpen > 0 })
      // The thread's checkpoints (when the writer pauses, or at 3× the threshold) and the
      // writer's own at 4× keep the WAL bounded. A writer's checkpoint that meets the thread's is
      // retried by the next commit, so the log overshoots its limit a little (here 64 pages
      // ≈ 260 KB, by up to the commits of one thread checkpoint and its fsync).
      let wal = Self.walBytes(configuration)
      #expect(wal < 2 << 20, "the WAL grew to \(wal) bytes")
      // Every commit wrote at least one frame, the log restarts included, and a small write
      // only a few (the object's and the log's leaf pages, interior pages on a split).
      let pages = store.walPagesWritten
      #expect(pages >= 800, "\(pages) pages for 800 commits")
      #expect(pages <= 800 * 8, "\(pages) pages for 800 commits")
      #expect(pages * (4096 + 24) > 4 * wal, "far more was written than the log now holds: it restarted")
    }
  }

  @Test func walPagesWrittenCountsEachCommitsFrames() async throws {
    try await withStore { store, _ in
      let start = store.walPagesWritten
      try await store.create(object("one"))
      let afterOne = store.walPagesWritten
      // The object's leaf page, its unique index's, the log row's and the log index's; the
      // migrations' frames already in the log at open are not counted (the first commit after
      // open restarts the log: the file does not grow).
      #expect((1...8).contains(afterOne - start), "\(afterOne - start) pages")
      try await store.create(object("two"))
      #expect((1...8).contains(store.walPagesWritten - afterOne))
    }
  }

  @Test func aStoreWrittenWithCheckpointsReopensWithEverything() async throws {
    try await withTemporaryDirectory { directory in
      var configuration = StoreConfiguration(directory: directory.appendingPathComponent("data"))
      configuration.checkpointPages = 8
      let store = try Store(configuration: configuration)
      for index in 0..<200 { try await store.create(object("w\(index)")) }
      let revision = store.currentRevision
      await store.close()
      await store.close()  // idempotent, the checkpointer included

      let reopened = try Store(configuration: configuration)
      #expect(reopened.currentRevision == revision)
      #expect(try await reopened.list(kind: "workers").items.count == 200)
      await reopened.close()
    }
  }

  @Test func aStoreDroppedWithoutCloseEndsItsCheckpointThread() async throws {
    try await withTemporaryDirectory { directory in
      var configuration = StoreConfiguration(directory: directory.appendingPathComponent("data"))
      configuration.checkpointPages = 4
      weak var checkpointer: Checkpointer?
      do {
        let store = try Store(configuration: configuration)
        checkpointer = store.checkpointer
        for index in 0..<50 { try await store.create(object("w\(index)")) }
        #expect(await eventually { store.checkpointer.checkpointsCompleted > 0 })
        _ = store
      }
      // The hook still holds the checkpointer (the pool was never closed through the store),
      // but the store's deinit ended its thread.
      #expect(await eventually { checkpointer?.isStopped == true })
    }
  }
}

/// Polls `condition` for up to 5 s.
func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
  for _ in 0..<500 {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return try await condition()
}
