import Foundation
import GRDB
import Synchronization

/// What one write sees while it runs on the writer queue: the connection (inside the batch's
/// transaction), the batch's timestamp, the revision counter, and the watch events to publish
/// once the batch commits.
///
/// Ownership and threading: created per batch by ``WriteQueue`` and used only by the thread
/// running that batch, while it holds GRDB's writer; never stored by a write.
final class WriteContext {
  let db: Database
  /// One timestamp per batch, truncated to milliseconds (the stored precision), so that the
  /// objects a write returns equal what a later read returns.
  let nowMillis: Int64
  var now: Date { Date(millis: nowMillis) }
  private(set) var revision: Int64
  private(set) var events: [WatchEvent] = []
  /// Writes of the batch that failed (and were undone).
  var failed = 0

  init(db: Database, revision: Int64, now: Date) {
    self.db = db
    self.revision = revision
    self.nowMillis = now.millis
  }

  /// Hands out the next revision. Only writes that append to the object log take one.
  func nextRevision() -> Int64 {
    revision += 1
    return revision
  }

  func publish(_ event: WatchEvent) { events.append(event) }

  /// Secrets written (a sealed value) or deleted (nil) by this batch, for the in-memory copy
  /// (``SealedSecrets``) once the batch commits.
  private(set) var secretChanges: [(name: String, sealed: Data?)] = []

  func recordSecret(_ name: String, sealed: Data?) { secretChanges.append((name, sealed)) }

  struct Mark {
    fileprivate let revision: Int64
    fileprivate let eventCount: Int
    fileprivate let secretCount: Int
  }

  func mark() -> Mark { Mark(revision: revision, eventCount: events.count, secretCount: secretChanges.count) }

  /// Forgets what a failed write did (its savepoint was rolled back).
  func reset(to mark: Mark) {
    revision = mark.revision
    events.removeSubrange(mark.eventCount...)
    secretChanges.removeSubrange(mark.secretCount...)
  }
}

/// The single writer, with group commit.
///
/// Every mutation of the database goes through ``submit(_:_:)``. Writes queue up here and are
/// committed in batches: everything pending (up to ``StoreConfiguration/maximumBatchSize``) runs
/// in **one** `BEGIN IMMEDIATE … COMMIT` transaction, and each caller resumes after that commit
/// with its own result or error. There is no timer: a batch is whatever arrived while the
/// previous one was committing, so batching never adds latency, and with many concurrent
/// writers one commit (the expensive part: WAL writes and locks) is shared by all of them.
///
/// Who runs a batch:
/// - A write that finds the writer idle, while writes are not concurrent (the last batch held
///   one write), becomes the *leader* and runs the batch itself, on its own thread, through
///   GRDB's synchronous `writeWithoutTransaction` (which executes on the caller's thread when the
///   writer queue is idle). A lone writer therefore pays no thread hop at all. The price: that
///   caller's thread is blocked for one commit (typically ~0.1 ms, a few ms when SQLite
///   checkpoints the WAL). Only one thread is ever blocked this way at a time. Under
///   concurrency (the last batch held several writes) the first write starts a drain on GRDB's
///   writer queue instead, leaving the cooperative threads free to resume callers.
/// - If more writes arrived meanwhile, the leader hands them to a drain on GRDB's writer queue
///   (`asyncWriteWithoutTransaction`) and returns; that drain runs batches until nothing is
///   pending. Writes that arrive while someone is draining just wait to be picked up.
///
/// Failure isolation: a write that fails (a conflict, say) must not take the others in its batch
/// down with it. Writes check their preconditions before changing anything, so a batch runs
/// optimistically without savepoints; a write that throws without having changed a row is simply
/// reported. Only if a write fails *after* changing rows (an SQLite error mid-write) is the
/// transaction rolled back and the batch re-run with one savepoint per write.
///
/// Watch events are published to the ``Broadcaster`` after the commit and before callers resume,
/// in revision order, by whichever thread ran the batch (batches never overlap).
///
/// Threading: `submit` may be called from any task. `WriteContext` and the operations' results
/// are only touched by the thread running the batch, while it holds GRDB's writer.
final class WriteQueue: Sendable {
  private struct State {
    var pending: [any PendingWrite] = []
    /// A leader or a drain owns the writer; new writes just queue.
    var draining = false
    var closed = false
  }

  private let pool: DatabasePool
  private let objects: ObjectCache
  private let secrets: SealedSecrets
  private let broadcaster: Broadcaster
  private let clock: @Sendable () -> Date
  private let maximumBatchSize: Int
  private let state = Mutex(State())
  private let afterCommit = AfterCommit()
  /// The last revision committed. Written only by the thread running batches, after a commit.
  private let committedRevision: Atomic<Int64>
  private let committedWrites = Atomic<Int>(0)
  private let committedTransactions = Atomic<Int>(0)
  /// Size of the last batch run: more than one means writers are concurrent.
  /// (Internal for tests: one that holds the writer sets it above 1 so that its write runs on
  /// GRDB's writer queue, not inline on a cooperative thread it would then block.)
  let lastBatchSize = Atomic<Int>(0)
  private let inlineWrites = Atomic<Int>(0)
  private let retainedRevisions: Int64?

  init(pool: DatabasePool, objects: ObjectCache, secrets: SealedSecrets, broadcaster: Broadcaster, revision: Int64,
    configuration: StoreConfiguration)
  {
    self.pool = pool
    self.objects = objects
    self.secrets = secrets
    self.broadcaster = broadcaster
    self.clock = configuration.clock
    self.maximumBatchSize = max(1, configuration.maximumBatchSize)
    self.committedRevision = Atomic(revision)
    self.retainedRevisions = configuration.retainedRevisions.map { max(1, $0) }
  }

  var revision: Int64 { committedRevision.load(ordering: .acquiring) }

  /// Writes waiting for the writer (tests).
  var pendingCount: Int { state.withLock { $0.pending.count } }

  var statistics: WriteStatistics {
    WriteStatistics(writes: committedWrites.load(ordering: .relaxed),
      transactions: committedTransactions.load(ordering: .relaxed))
  }

  /// Runs `body` in the next batch's transaction and returns its result once that commits.
  ///
  /// `body` runs while the writer is held and must not block on anything but the database. It
  /// must check its preconditions (and throw) before it changes rows, and may be run twice (the
  /// first run rolled back) if another write of its batch fails mid-way. A thrown `StoreError`
  /// is returned as is; anything else is wrapped as a ``StoreError/Code-swift.struct/database``
  /// error mentioning `action`. Writes are not cancellable: once submitted, a write commits or
  /// fails, whatever happens to the calling task.
  func submit<R: Sendable>(_ action: String, _ body: @escaping @Sendable (WriteContext) throws -> R)
    async throws(StoreError) -> R
  {
    var ledInline = false
    let result: Result<R, StoreError> = await withCheckedContinuation { continuation in
      // When this write leads, its batch runs (and resumes `continuation`) before the closure
      // returns, so the task continues without suspending.
      ledInline = enqueue(WriteOperation(action: action, body: body, completion: { continuation.resume(returning: $0) }))
    }
    // A task writing in a tight loop would otherwise never suspend (every write leads inline)
    // and could hold its cooperative thread indefinitely; give others a turn now and then.
    if ledInline, inlineWrites.add(1, ordering: .relaxed).newValue % 16 == 0 { await Task.yield() }
    return try result.get()
  }

  /// Queues `body` like ``submit(_:_:)`` but returns at once; `completion` gets the result, on
  /// the thread that ran the batch (keep it short). For writes whose caller does not need to
  /// wait (Events): no suspension and no resumption of the calling task. Writes commit in the
  /// order they were queued, so a later awaited write of the same caller commits with or after
  /// this one.
  func submitWithoutWaiting<R: Sendable>(_ action: String, _ body: @escaping @Sendable (WriteContext) throws -> R,
    completion: @escaping @Sendable (Result<R, StoreError>) -> Void)
  {
    enqueue(WriteOperation(action: action, body: body, completion: completion))
  }

  /// Refuses new writes and waits for the ones already queued to finish (their callers resumed,
  /// their events published); then ends the after-commit thread.
  func close() async {
    state.withLock { $0.closed = true }
    // GRDB serialises writer access: this runs after any batch in flight, and the drain that
    // owns the writer keeps going until nothing is pending.
    while state.withLock({ $0.draining }) {
      _ = try? await pool.writeWithoutTransaction { _ in }
      await Task.yield()
    }
    while !afterCommit.isIdle { try? await Task.sleep(for: .milliseconds(1)) }
    afterCommit.stop()
  }

  /// Ends the after-commit thread once its queue is empty (a store dropped without `close()`).
  func stopAfterCommit() { afterCommit.stop() }

  /// Queues `operation`; returns whether the calling thread ran its batch (led inline).
  @discardableResult
  private func enqueue(_ operation: any PendingWrite) -> Bool {
    enum Decision { case refuse, queued, lead }
    let decision: Decision = state.withLock { state in
      if state.closed { return .refuse }
      state.pending.append(operation)
      if state.draining { return .queued }
      state.draining = true
      return .lead
    }
    switch decision {
    case .refuse:
      operation.fail(.closed)
      operation.complete()
      return false
    case .queued:
      return false
    case .lead:
      // Under concurrency (the last batch had company) the drain on GRDB's queue does the work,
      // so that the cooperative threads stay free to resume callers and queue their next writes.
      if lastBatchSize.load(ordering: .relaxed) > 1 {
        pool.asyncWriteWithoutTransaction { db in self.drain(db) }
        return false
      }
      pool.writeWithoutTransaction { db in
        if let batch = takeBatch() { run(batch, db, inline: true) }
      }
      let more = state.withLock { state in
        if state.pending.isEmpty { state.draining = false }
        return state.draining
      }
      if more { pool.asyncWriteWithoutTransaction { db in self.drain(db) } }
      return true
    }
  }

  /// The next batch, or `nil` (and the writer released) if nothing is pending.
  private func takeBatch() -> [any PendingWrite]? {
    state.withLock { state in
      if state.pending.isEmpty {
        state.draining = false
        return nil
      }
      if state.pending.count <= maximumBatchSize {
        defer { state.pending = [] }
        return state.pending
      }
      defer { state.pending.removeFirst(maximumBatchSize) }
      return Array(state.pending.prefix(maximumBatchSize))
    }
  }

  private func drain(_ db: Database) {
    while let batch = takeBatch() { run(batch, db) }
  }

  /// Runs one batch. `inline`: on the thread of the write that leads (the after-commit work may
  /// then run in place, see ``AfterCommit``).
  private func run(_ batch: [any PendingWrite], _ db: Database, inline: Bool = false) {
    lastBatchSize.store(batch.count, ordering: .relaxed)
    let startRevision = committedRevision.load(ordering: .relaxed)
    let now = clock()
    var outcome = runOptimistically(batch, db, startRevision: startRevision, now: now)
    if case .retryWithSavepoints = outcome {
      outcome = runWithSavepoints(batch, db, startRevision: startRevision, now: now)
    }
    if case .readyToCommit(let context) = outcome {
      finish(batch, context, db, startRevision: startRevision, inline: inline)
    }
  }

  private enum BatchOutcome {
    /// Every write ran (some may have failed cleanly); the transaction is open.
    case readyToCommit(WriteContext)
    /// A write failed after changing rows; the transaction was rolled back.
    case retryWithSavepoints
    /// The batch failed as a whole and every caller has been told.
    case abandoned
  }

  /// Runs the batch without savepoints. Returns `.retryWithSavepoints` (with the transaction
  /// rolled back) if a write failed after changing rows.
  private func runOptimistically(_ batch: [any PendingWrite], _ db: Database, startRevision: Int64, now: Date)
    -> BatchOutcome
  {
    let context = WriteContext(db: db, revision: startRevision, now: now)
    do {
      try RawStatement(db, "BEGIN IMMEDIATE").run()
    } catch {
      fail(batch, with: .database(error, while: "starting a write transaction"))
      return .abandoned
    }
    for operation in batch {
      let mark = context.mark()
      let changes = db.totalChangesCount
      do {
        try operation.run(context)
      } catch {
        context.reset(to: mark)
        guard db.totalChangesCount == changes, db.isInsideTransaction else {
          Self.rollback(db)
          return .retryWithSavepoints
        }
        operation.fail(.database(error, while: operation.action))
        context.failed += 1
      }
    }
    return .readyToCommit(context)
  }

  /// Runs the batch with a savepoint per write, so that a failed write is undone alone.
  private func runWithSavepoints(_ batch: [any PendingWrite], _ db: Database, startRevision: Int64, now: Date)
    -> BatchOutcome
  {
    let context = WriteContext(db: db, revision: startRevision, now: now)
    do {
      try RawStatement(db, "BEGIN IMMEDIATE").run()
    } catch {
      fail(batch, with: .database(error, while: "starting a write transaction"))
      return .abandoned
    }
    for operation in batch {
      let mark = context.mark()
      do {
        try RawStatement(db, "SAVEPOINT hiclaw_write").run()
        try operation.run(context)
        try RawStatement(db, "RELEASE hiclaw_write").run()
      } catch {
        context.reset(to: mark)
        operation.fail(.database(error, while: operation.action))
        context.failed += 1
        do {
          guard db.isInsideTransaction else { throw error }
          try RawStatement(db, "ROLLBACK TO hiclaw_write").run()
          try RawStatement(db, "RELEASE hiclaw_write").run()
        } catch {
          // SQLite rolled the whole transaction back (I/O error, disk full): every write of the
          // batch is lost.
          Self.rollback(db)
          fail(batch, with: .database(error, while: "rolling back \(operation.action)"))
          return .abandoned
        }
      }
    }
    return .readyToCommit(context)
  }

  /// Commits, publishes the batch's events, then resumes every caller.
  private func finish(_ batch: [any PendingWrite], _ context: WriteContext, _ db: Database, startRevision: Int64,
    inline: Bool)
  {
    do {
      // No revision counter to update: the revision is the newest log row's (see Schema).
      try RawStatement(db, "COMMIT").run()
    } catch {
      Self.rollback(db)
      let lost = StoreError.database(error, while: "committing \(batch.count) write(s)")
      for operation in batch where !operation.hasFailed { operation.fail(lost) }
      for operation in batch { operation.complete() }
      return
    }
    committedRevision.store(context.revision, ordering: .releasing)
    committedWrites.add(batch.count - context.failed, ordering: .relaxed)
    committedTransactions.add(1, ordering: .relaxed)
    // Reads see the batch before any of its callers resumes (read-your-writes), and before
    // watchers hear of it; batches in commit order (``AfterCommit``). Under concurrency this
    // runs on the after-commit thread while the writer starts the next transaction.
    let events = context.events
    let revision = context.revision
    let secretChanges = context.secretChanges
    let (objects, secrets, broadcaster) = (self.objects, self.secrets, self.broadcaster)
    let completed = CompletedBatch(batch)
    afterCommit.submit({
      objects.apply(events, revision: revision)
      if !secretChanges.isEmpty { secrets.apply(secretChanges) }
      broadcaster.publish(events)
      completed.complete()
    }, inline: inline)
    compactIfDue(db, from: startRevision, to: context.revision)
  }

  /// Rolls back if a transaction is open. Transaction control goes through ``RawStatement`` like
  /// the rest of the batch, so GRDB's per-statement bookkeeping never sees half of it.
  private static func rollback(_ db: Database) {
    if db.isInsideTransaction { try? RawStatement(db, "ROLLBACK").run() }
  }

  private func fail(_ batch: [any PendingWrite], with error: StoreError) {
    for operation in batch {
      operation.fail(error)
      operation.complete()
    }
  }

  /// Automatic compaction (``StoreConfiguration/retainedRevisions``): each time the revision
  /// crosses a multiple of 1,024, drops log rows older than the retained window. Runs after the
  /// callers of the batch have resumed, in its own small transaction.
  private func compactIfDue(_ db: Database, from start: Int64, to end: Int64) {
    guard let retained = retainedRevisions, end / 1024 != start / 1024, end > retained else { return }
    let horizon = end - retained + 1
    do {
      try RawStatement(db, "BEGIN IMMEDIATE").run()
      let delete = try RawStatement(db, "DELETE FROM object_log WHERE revision < ?")
      delete.bind(1, horizon)
      try delete.run()
      let horizonUpdate = try RawStatement(db,
        "UPDATE store_meta SET compacted_before = max(compacted_before, ?) WHERE id = 1")
      horizonUpdate.bind(1, horizon)
      try horizonUpdate.run()
      try RawStatement(db, "COMMIT").run()
    } catch {
      // Harmless: the next crossing tries again.
      Self.rollback(db)
    }
  }
}

/// Counters of the write queue since the store was opened, e.g. for `/metrics`.
public struct WriteStatistics: Sendable, Hashable {
  /// Writes that committed (including those that changed nothing).
  public var writes: Int
  /// Transactions committed; `writes / transactions` is the average group-commit batch.
  public var transactions: Int
}

/// A queued write, type-erased.
protocol PendingWrite: AnyObject, Sendable {
  var action: String { get }
  /// Runs the write; the result is kept until ``complete()``.
  func run(_ context: WriteContext) throws
  /// Replaces the result with a failure (the write, or its whole batch, was rolled back).
  func fail(_ error: StoreError)
  /// Whether the current result is a failure.
  var hasFailed: Bool { get }
  /// Resumes the caller with the result. Called exactly once.
  func complete()
}

/// Ownership and threading: `result` is written by `run`/`fail` and read by `complete`, all by
/// the thread running the batch while it holds the writer (or, for a refused write, by the
/// submitting thread before anyone else sees the operation), so the unchecked `Sendable` is
/// sound.
final class WriteOperation<R: Sendable>: PendingWrite, @unchecked Sendable {
  let action: String
  private let body: @Sendable (WriteContext) throws -> R
  /// Gets the result once the batch committed or failed (resumes the caller, or a callback for
  /// writes nobody waits for).
  private let completion: @Sendable (Result<R, StoreError>) -> Void
  private var result: Result<R, StoreError>?

  init(action: String, body: @escaping @Sendable (WriteContext) throws -> R,
    completion: @escaping @Sendable (Result<R, StoreError>) -> Void)
  {
    self.action = action
    self.body = body
    self.completion = completion
  }

  func run(_ context: WriteContext) throws { result = .success(try body(context)) }

  func fail(_ error: StoreError) { result = .failure(error) }

  var hasFailed: Bool {
    if case .failure = result { return true }
    return false
  }

  func complete() {
    completion(result ?? .failure(StoreError(.internal,
      "\(action) finished without a result", fix: "report this as a bug in the hiclaw store")))
  }
}

extension Date {
  init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
  var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}

/// A committed batch's operations, handed to the after-commit thread (each operation's result
/// was set by the writer before the hand-off, whose lock orders the two).
private struct CompletedBatch: @unchecked Sendable {
  let operations: [any PendingWrite]

  init(_ operations: [any PendingWrite]) { self.operations = operations }

  func complete() { for operation in operations { operation.complete() } }
}
