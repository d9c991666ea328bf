import CSQLiteConfig
import Crypto
import Foundation
import GRDB

/// Settings of a ``Store``.
public struct StoreConfiguration: Sendable {
  /// The data directory. Created (mode 0700) if missing. Holds `store.sqlite` (with its `-wal`
  /// and `-shm` files), `secrets.key` and `store.lock`.
  public var directory: URL
  /// Most writes committed in one transaction by group commit.
  public var maximumBatchSize = 256
  /// Most live events queued for one watcher before it is ended with `watchTooSlow`.
  public var watchBufferLimit = 100_000
  /// Object-log rows read per replay query.
  public var watchReplayPageSize = 512
  /// Automatic compaction: keep this many revisions of object-log history (checked every 1,024
  /// revisions); `nil` keeps everything until ``Store/compact(before:)`` is called. A watcher
  /// that falls further behind than this gets ``StoreError/Code-swift.struct/revisionCompacted``
  /// and must list again.
  public var retainedRevisions: Int64? = 100_000
  /// How many Events are kept.
  public var eventRetention = EventRetention()
  /// How long a connection waits for a lock before SQLite reports `SQLITE_BUSY`. Within one
  /// process the store never waits on itself (one writer, WAL readers); this only matters if
  /// something outside hiclaw (a `sqlite3` shell, a backup tool) holds the file.
  public var busyTimeout: Duration = .seconds(30)
  /// Concurrent read connections.
  public var maximumReaderCount = 4
  /// New WAL pages after which the checkpoint thread copies the log back into the database file
  /// once writes pause (at 3 × without a pause; the writer itself at 4 ×; see ``Checkpointer``).
  public var checkpointPages: Int32 = 4000
  /// The wall clock (tests replace it).
  public var clock: @Sendable () -> Date = { Date() }

  /// Test hook: runs inside ``Store/watch(kind:fromRevision:)`` between subscribing to live
  /// events and reading the replay, to widen that window in tests.
  var afterWatchSubscribe: (@Sendable () async -> Void)?

  public init(directory: URL) { self.directory = directory }

  var databaseURL: URL { directory.appendingPathComponent("store.sqlite") }
  var keyURL: URL { directory.appendingPathComponent("secrets.key") }
  var lockURL: URL { directory.appendingPathComponent("store.lock") }
}

/// The hiclaw state store: generic objects with revisions, an append-only object log with
/// watch, Kubernetes-style Events, encrypted secrets and hashed API tokens, in one SQLite file.
///
/// The store knows nothing about Workers or Teams: an object is a key (kind, namespace, name),
/// store-owned metadata, labels, annotations, finalizers, and JSON `spec` and `status`. Every
/// create, update and delete takes the next global revision (shared by all kinds, strictly
/// increasing, never reused, persisted) and appends an `ADDED`/`MODIFIED`/`DELETED` row with the
/// object's snapshot to the log **in the same transaction**; ``watch(kind:fromRevision:)``
/// replays that log and then follows live writes (kine's design, with a current-state table
/// next to the log). Object reads (`get`, `find`, `list`) are served from memory: the current
/// state of every object is kept as the fold of that log (``ObjectCache``, the Kubernetes API
/// server's watch cache in miniature), updated after each commit and before its writers resume.
///
/// ## Two rules (GRDB's, adapted)
/// 1. **One store per data directory.** The store takes an exclusive lock on
///    `<directory>/store.lock`; a second `Store` (in this process or another) on the same
///    directory fails with ``StoreError/Code-swift.struct/locked`` instead of fighting over
///    the SQLite write lock.
/// 2. **A transaction is the unit of an invariant.** Each public method is one atomic write:
///    the object row and its log row change together or not at all.
///
/// ## Concurrency
/// A `DatabasePool` in WAL mode: reads run concurrently on reader connections and never wait
/// for writes; all writes go through one ``WriteQueue`` that batches concurrent writers into
/// one transaction (group commit), each caller still getting its own result or error. No
/// `SQLITE_BUSY` reaches callers: writes are serialised before they reach SQLite, and the
/// busy timeout covers outside processes. Every method may be called from any task.
///
/// ## Durability
/// `synchronous=NORMAL` in WAL mode: a commit is atomic and survives a crash of the process
/// (`kill -9`) — the WAL is in the OS page cache. After a power loss or kernel crash the
/// transactions committed since the last checkpoint may be rolled back (never half-applied,
/// never corrupting the file). That is the trade-off etcd-less control planes such as kine on
/// SQLite make; it buys a commit without an `fsync`. Writers that must survive a power loss
/// (none in hiclaw today) would need `synchronous=FULL`.
///
/// ## Lifetime
/// Open with ``init(configuration:)``; call ``close()`` before dropping the last reference to
/// end watches and release the directory lock deterministically.
public final class Store: Sendable {
  public let configuration: StoreConfiguration
  let pool: DatabasePool
  let writer: WriteQueue
  let broadcaster: Broadcaster
  /// Every object's current state, for reads (see ``ObjectCache``).
  let objects: ObjectCache
  /// Every secret, sealed, for reads (see ``SealedSecrets``).
  let sealedSecrets: SealedSecrets
  let secretsKey: SymmetricKey
  let verifiedTokens = VerifiedTokenCache()
  /// WAL checkpoints off the writer thread (see ``Checkpointer``).
  let checkpointer: Checkpointer
  private let lock: DirectoryLock

  /// Opens (creating if needed) the store in `configuration.directory`, runs migrations and
  /// loads (or, on first start, generates) the secrets key.
  ///
  /// Blocks while it opens the file; call it once at startup.
  /// - Throws: ``StoreError/Code-swift.struct/locked`` if the directory is in use,
  ///   ``StoreError/Code-swift.struct/keyFile`` if `secrets.key` is unsafe or does not match,
  ///   ``StoreError/Code-swift.struct/database`` if SQLite cannot open or migrate the file.
  public init(configuration: StoreConfiguration) throws(StoreError) {
    Self.configureSQLite()
    self.configuration = configuration
    let directory = configuration.directory
    do {
      try FileManager.default.createDirectory(
        at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw StoreError(.database, "cannot create the data directory \(directory.path): \(error.localizedDescription)",
        fix: "create it yourself or choose a directory you can write to")
    }
    lock = try DirectoryLock(url: configuration.lockURL)

    var grdb = Configuration()
    grdb.label = "hiclaw.store"
    grdb.foreignKeysEnabled = true
    grdb.maximumReaderCount = max(1, configuration.maximumReaderCount)
    let seconds = configuration.busyTimeout.components
    grdb.busyMode = .timeout(Double(seconds.seconds) + Double(seconds.attoseconds) / 1e18)
    grdb.prepareDatabase { db in
      // DatabasePool already switches the file to WAL. NORMAL: see "Durability" above.
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
    }
    let pool: DatabasePool
    do {
      pool = try DatabasePool(path: configuration.databaseURL.path, configuration: grdb)
    } catch {
      throw StoreError(.database, "cannot open \(configuration.databaseURL.path)",
        fix: "check that the data directory is writable and the file is a hiclaw store", underlying: "\(error)")
    }
    let migrator = Schema.migrator
    let meta: (revision: Int64, keyCheck: Data?, objects: [StoredObject], secrets: [String: Data])
    do {
      if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
        throw StoreError(.database, "\(configuration.databaseURL.path) was written by a newer hiclaw (unknown schema migrations)",
          fix: "run the newer hiclaw-host, or restore a backup made by this version")
      }
      try migrator.migrate(pool)
      meta = try pool.read { db in
        let revision = try Int64.fetchOne(db, sql: Schema.currentRevisionSQL) ?? 0
        let check = try Data.fetchOne(db, sql: "SELECT secrets_key_check FROM store_meta WHERE id = 1")
        // Same read transaction as the revision: the cache starts exactly at it.
        let objects = try ObjectRow.decodeAll(RawStatement(db, "SELECT \(ObjectRow.columns) FROM objects"))
        var secrets: [String: Data] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, sealed FROM secrets") { secrets[row["name"]] = row["sealed"] }
        return (revision, check, objects, secrets)
      }
    } catch {
      try? pool.close()
      throw StoreError.database(error, while: "migrating \(configuration.databaseURL.path)")
    }

    let key: SymmetricKey
    do {
      key = try SecretsKey.loadOrCreate(at: configuration.keyURL, expectedCheck: meta.keyCheck)
      if meta.keyCheck == nil {
        try pool.write { db in
          try db.execute(sql: "UPDATE store_meta SET secrets_key_check = ? WHERE id = 1",
            arguments: [SecretsKey.check(key)])
        }
      }
    } catch {
      try? pool.close()
      throw StoreError.database(error, while: "recording the secrets key check")
    }

    let checkpointer = Checkpointer(path: configuration.databaseURL.path, thresholdPages: configuration.checkpointPages)
    do {
      try checkpointer.start(on: pool)
    } catch {
      try? pool.close()
      throw StoreError.database(error, while: "starting the checkpointer")
    }

    self.checkpointer = checkpointer
    self.pool = pool
    self.secretsKey = key
    self.broadcaster = Broadcaster(lastPublished: meta.revision)
    self.objects = ObjectCache(objects: meta.objects, revision: meta.revision)
    self.sealedSecrets = SealedSecrets(meta.secrets)
    self.writer = WriteQueue(pool: pool, objects: objects, secrets: sealedSecrets, broadcaster: broadcaster, revision: meta.revision,
      configuration: configuration)
  }

  /// Process-wide SQLite settings, applied before the first connection opens (see CSQLiteConfig).
  private static let configureSQLiteOnce: Void = { _ = hc_sqlite_disable_memstatus() }()

  /// Applies the store's process-wide SQLite settings (no memory statistics: a global mutex on
  /// every SQLite allocation). Only effective before the process's first SQLite connection; the
  /// first ``init(configuration:)`` calls it, so call it yourself only if something else opens
  /// SQLite earlier. Idempotent.
  public static func configureSQLite() { configureSQLiteOnce }

  /// Ends every watch, waits for queued writes, closes the database and releases the directory
  /// lock. Later calls fail with ``StoreError/Code-swift.struct/closed``. Idempotent.
  public func close() async {
    await writer.close()
    broadcaster.close()
    checkpointer.stop(on: pool)
    try? pool.close()
    lock.release()
  }

  deinit {
    // Dropped without close(): end the checkpoint and after-commit threads, never touching the
    // pool (the last reference may go away on the pool's own writer thread).
    checkpointer.shutDown()
    writer.stopAfterCommit()
  }

  /// The last revision committed.
  public var currentRevision: Int64 { writer.revision }

  /// Group-commit counters since the store was opened.
  public var writeStatistics: WriteStatistics { writer.statistics }

  /// WAL pages (frames of `4 KiB + 24 B`) written by commits since the store opened: the I/O a
  /// workload costs, without the timing noise (the apply benchmark reports it per Worker).
  package var walPagesWritten: Int { checkpointer.pagesWritten }

  /// The oldest revision still in the object log (everything before it was compacted).
  public func oldestAvailableRevision() async throws(StoreError) -> Int64 {
    try await read("reading the compaction horizon") { db in
      try Int64.fetchOne(db, sql: "SELECT compacted_before FROM store_meta WHERE id = 1") ?? 1
    }
  }

  // MARK: Plumbing

  /// Throws ``StoreError/Code-swift.struct/closed`` once ``close()`` ran (reads served from
  /// memory check this themselves; database reads fail on the closed pool).
  func checkOpen() throws(StoreError) {
    if lock.isReleased { throw StoreError.closed }
  }

  func read<T: Sendable>(_ action: String, _ body: @escaping @Sendable (Database) throws -> T)
    async throws(StoreError) -> T
  {
    do {
      return try await pool.read(body)
    } catch {
      if lock.isReleased { throw StoreError.closed }
      throw StoreError.database(error, while: action)
    }
  }

  func write<R: Sendable>(_ action: String, _ body: @escaping @Sendable (WriteContext) throws -> R)
    async throws(StoreError) -> R
  {
    try await writer.submit(action, body)
  }
}
