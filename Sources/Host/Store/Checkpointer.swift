import Foundation
import GRDB

#if canImport(GRDBSQLite)
  import GRDBSQLite
#else
  import SQLite3
#endif

/// Copies the write-ahead log back into the database file on a thread of its own, when writes
/// pause, so that no commit waits for it and no burst of writes shares the machine with it.
///
/// Why: by default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages —
/// on the store's one writer thread, with an `fdatasync` of the log and the database file. Every
/// write queued behind that commit waited too. Here the writer connection's WAL hook (which also
/// switches off SQLite's automatic checkpoint on that connection) asks this thread for a
/// checkpoint once the log holds ``thresholdPages`` more pages, and the thread runs a `PASSIVE`
/// checkpoint on its own connection as soon as the writer has been quiet for ``quietPeriod``
/// (a control plane writes in bursts: an apply, a reconcile storm), or at once when the log
/// reaches ``busyLimitPages`` (3 × the threshold) without a pause. A checkpoint's copying and,
/// above all, its syncing of a log that `synchronous=NORMAL` never synced cost as much as the
/// commits themselves: run in the middle of a burst on a two-core machine they took ~15 % of
/// its throughput (BM4, 16 writers).
///
/// A passive checkpoint that runs beside a busy writer is always a few frames behind, and
/// SQLite restarts the log from its beginning only when a write finds every frame copied; so
/// when the log reaches ``hardLimitPages`` (4 × the threshold) the hook checkpoints inline, on
/// the writer's thread, as SQLite's automatic checkpoint does — by then the thread has copied
/// most of it, so that stall is short and rare. The WAL stays below about the hard limit.
/// Durability is unchanged (``Store``, "Durability"): checkpoints sync the file as before.
///
/// Lifetime: ``start(on:)`` after the pool is open (it opens the connection and installs the
/// hook; the thread starts with the first checkpoint, so a small store never has one),
/// ``stop(on:)`` before the pool closes. Threading: the hook runs on the writer's thread and only
/// takes a lock; checkpoints run on the thread.
final class Checkpointer: @unchecked Sendable {
  /// A checkpoint is requested once the WAL holds this many pages (SQLite's default).
  let thresholdPages: Int32
  /// The thread checkpoints without waiting for a pause once the WAL holds this many pages.
  var busyLimitPages: Int32 { thresholdPages &* 3 }
  /// The writer checkpoints itself once the WAL holds this many pages.
  var hardLimitPages: Int32 { thresholdPages &* 4 }
  /// How long the writer must have committed nothing before a requested checkpoint runs.
  static let quietPeriod: TimeInterval = 0.02
  private let path: String
  // Guarded by `condition`.
  private let condition = NSCondition()
  private var requested = false
  private var stopping = false
  private var threadStarted = false
  private var finished = false
  private var completed = 0
  private var checkpointsWithLog = 0
  private var inline = 0
  private var written = 0
  /// Commits so far (the thread waits for a period in which this does not change).
  private var commits = 0
  private var busyNotified = false
  /// The WAL size at the last commit, and the size at which the next checkpoint is requested.
  private var lastPages: Int32 = 0
  private var nextRequestPages: Int32
  private var connection: OpaquePointer?

  init(path: String, thresholdPages: Int32 = 1000) {
    self.path = path
    self.thresholdPages = max(1, thresholdPages)
    nextRequestPages = self.thresholdPages
  }

  /// Whether ``shutDown()`` ran (tests).
  var isStopped: Bool {
    condition.lock()
    defer { condition.unlock() }
    return stopping
  }

  /// Checkpoints run so far (tests).
  var checkpointsCompleted: Int {
    condition.lock()
    defer { condition.unlock() }
    return completed
  }

  /// The thread's checkpoints that ran on an open log (SQLite reports -1 frames logged and
  /// copied when the connection has none: the checkpoint did nothing) (tests).
  var checkpointsWithLogOpen: Int {
    condition.lock()
    defer { condition.unlock() }
    return checkpointsWithLog
  }

  /// Opens the checkpoint connection and installs the hook on the pool's writer connection.
  func start(on pool: DatabasePool) throws {
    var db: OpaquePointer?
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
    guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else {
      let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
      sqlite3_close(db)
      throw StoreError(.database, "cannot open a checkpoint connection to \(path): \(message)",
        fix: "check that the data directory is writable")
    }
    sqlite3_busy_timeout(db, 5_000)
    // A connection checkpoints only a log its pager has opened, which happens on its first read;
    // without one, every checkpoint it ran was a no-op (log and copied frames -1) and the WAL
    // grew to the writer's hard limit, then copied inline in one long stall.
    var statement: OpaquePointer?
    let primed = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &statement, nil) == SQLITE_OK
      && sqlite3_step(statement) == SQLITE_ROW
    sqlite3_finalize(statement)
    guard primed else {
      let message = String(cString: sqlite3_errmsg(db))
      sqlite3_close(db)
      throw StoreError(.database, "cannot read \(path) from the checkpoint connection: \(message)",
        fix: "check that the data directory is readable and the file is a hiclaw store")
    }
    connection = db
    // The hook holds a reference of its own, released when ``stop(on:)`` removes it.
    let context = Unmanaged.passRetained(self).toOpaque()
    try pool.writeWithoutTransaction { writer in
      // The log may hold frames already (the migrations', a previous run's): start counting
      // from its current size. On the writer, so no commit comes between this and the hook.
      var logPages: Int32 = 0
      var copiedPages: Int32 = 0
      if sqlite3_wal_checkpoint_v2(writer.sqliteConnection, nil, SQLITE_CHECKPOINT_PASSIVE, &logPages, &copiedPages) == SQLITE_OK {
        condition.lock()
        lastPages = max(0, logPages)
        condition.unlock()
      }
      _ = sqlite3_wal_hook(writer.sqliteConnection, { context, connection, database, pages in
        guard let context else { return SQLITE_OK }
        let checkpointer = Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue()
        if pages >= checkpointer.hardLimitPages {
          // SQLITE_BUSY here means the thread is checkpointing: the next commit tries again.
          let status = sqlite3_wal_checkpoint_v2(connection, database, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
          checkpointer.countInline(pages: pages, ran: status == SQLITE_OK)
        } else {
          checkpointer.walGrew(to: pages)
        }
        return SQLITE_OK
      }, context)
    }
  }

  /// Removes the hook, ends the thread after any checkpoint in progress and closes the
  /// connection. Idempotent. Not from the pool's writer thread.
  func stop(on pool: DatabasePool) {
    guard shutDown() else { return }
    if (try? pool.writeWithoutTransaction({ writer in _ = sqlite3_wal_hook(writer.sqliteConnection, nil, nil) })) != nil {
      Unmanaged.passUnretained(self).release()
    }
  }

  /// Ends the thread and closes the connection, leaving the hook (and the reference it holds)
  /// in place: for a store dropped without `close()`, whose pool may not be usable any more.
  /// Returns false if it had already run.
  @discardableResult
  func shutDown() -> Bool {
    condition.lock()
    defer { condition.unlock() }
    guard !stopping else { return false }
    stopping = true
    condition.broadcast()
    if threadStarted {
      while !finished { condition.wait() }
    } else {
      sqlite3_close_v2(connection)
      connection = nil
    }
    return true
  }

  /// Checkpoints the writer ran itself, not counting those that met the thread's (tests).
  var inlineCheckpoints: Int {
    condition.lock()
    defer { condition.unlock() }
    return inline
  }

  private func countInline(pages: Int32, ran: Bool) {
    condition.lock()
    commits += 1
    if ran { inline += 1 }
    countWritten(pages)
    lastPages = pages
    condition.unlock()
  }

  /// WAL pages (frames) the commits have written since the store opened: a deterministic
  /// measure of the I/O a workload costs (benchmarks report it per object).
  var pagesWritten: Int {
    condition.lock()
    defer { condition.unlock() }
    return written
  }

  /// Adds one commit's frames: the growth since the last commit, or the whole log if this
  /// commit restarted it. Under the lock.
  private func countWritten(_ pages: Int32) {
    written += Int(pages >= lastPages ? pages - lastPages : pages)
  }

  /// Called by SQLite on the writer's thread after each commit, with the WAL's size in pages.
  private func walGrew(to pages: Int32) {
    condition.lock()
    defer { condition.unlock() }
    commits += 1
    countWritten(pages)
    // A requested checkpoint that waits for a pause runs now if the log got this long.
    if requested, pages >= busyLimitPages, !busyNotified {
      busyNotified = true
      condition.signal()
    }
    // The log restarted (a write found it all copied): count from its beginning again.
    if pages < lastPages { nextRequestPages = thresholdPages }
    lastPages = pages
    // One checkpoint per `thresholdPages` new pages, not one per commit: until the log restarts
    // its size never falls below the threshold again.
    guard pages >= nextRequestPages, !stopping else { return }
    nextRequestPages = pages &+ thresholdPages
    guard !requested else { return }
    requested = true
    if !threadStarted {
      threadStarted = true
      let thread = Thread { [self] in run() }
      thread.name = "hc-checkpoint"
      thread.start()
    } else {
      condition.signal()
    }
  }

  private func run() {
    condition.lock()
    while true {
      while !requested && !stopping { condition.wait() }
      // Until the writer pauses, or the log reaches the busy limit.
      while !stopping && lastPages < busyLimitPages {
        let seen = commits
        _ = condition.wait(until: Date(timeIntervalSinceNow: Self.quietPeriod))
        if commits == seen { break }
      }
      if stopping { break }
      requested = false
      busyNotified = false
      condition.unlock()
      var logFrames: Int32 = 0
      var copied: Int32 = 0
      // SQLITE_BUSY (another checkpoint running, say from an outside `sqlite3` shell) is fine:
      // the next commit past the threshold asks again.
      let status = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copied)
      condition.lock()
      completed += 1
      if status == SQLITE_OK && copied >= 0 { checkpointsWithLog += 1 }
    }
    sqlite3_close_v2(connection)
    connection = nil
    finished = true
    condition.broadcast()
    condition.unlock()
  }
}
