/// Why a store operation failed: a ``Code`` to branch on, the object it concerns, what is wrong
/// (with both values where there are two, as in a conflict) and how to fix it.
///
/// Messages never contain secret values or token plaintexts; they may contain object keys,
/// secret names and revisions. ``description`` is `message; fix` and is what the API server
/// and the CLI print.
///
/// Branch with `error.code == .conflict`; new codes may be added, so a `switch` needs a default.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The kind of failure. A struct over a private enum so that codes can be added later without
  /// breaking exhaustive switches in callers.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Base: String, Sendable {
      case notFound, alreadyExists, conflict, invalid, revisionCompacted, watchTooSlow
      case keyFile, locked, closed, cancelled, database, `internal`
    }
    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// The object (or secret, or token) does not exist. HTTP 404.
    public static let notFound = Code(.notFound)
    /// `create` of a key that is already taken. HTTP 409.
    public static let alreadyExists = Code(.alreadyExists)
    /// The expected resourceVersion is stale: someone else wrote the object first. HTTP 409.
    /// ``StoreError/currentResourceVersion`` and ``StoreError/expectedResourceVersion`` are set.
    public static let conflict = Code(.conflict)
    /// Bad input: malformed JSON, an empty name, a finalizer added during deletion. HTTP 422.
    public static let invalid = Code(.invalid)
    /// A watch asked for history that compaction removed (etcd's "required revision has been
    /// compacted"). ``StoreError/oldestAvailableRevision`` is set. HTTP 410.
    public static let revisionCompacted = Code(.revisionCompacted)
    /// A watcher fell further behind than ``StoreConfiguration/watchBufferLimit``; nothing was
    /// lost, watch again from the last revision processed.
    public static let watchTooSlow = Code(.watchTooSlow)
    /// `secrets.key` is missing, unreadable, the wrong size, readable by others, or does not
    /// match the secrets in the database. The store refuses to open.
    public static let keyFile = Code(.keyFile)
    /// Another process holds the data directory.
    public static let locked = Code(.locked)
    /// The store was closed.
    public static let closed = Code(.closed)
    /// The calling task was cancelled before a read finished (writes are never cancelled).
    public static let cancelled = Code(.cancelled)
    /// SQLite failed (I/O error, disk full, corrupt file). ``StoreError/underlying`` has its text.
    public static let database = Code(.database)
    /// A broken invariant in stored data.
    public static let `internal` = Code(.internal)

    public var description: String { base.rawValue }
  }

  public var code: Code
  /// The object concerned, if any.
  public var key: ObjectKey?
  /// What went wrong, as a sentence.
  public var message: String
  /// How to fix it.
  public var fix: String
  /// For ``Code-swift.struct/conflict``: the object's resourceVersion in the store.
  public var currentResourceVersion: Int64?
  /// For ``Code-swift.struct/conflict``: the resourceVersion the caller sent.
  public var expectedResourceVersion: Int64?
  /// For ``Code-swift.struct/revisionCompacted``: the oldest revision the log still has (a
  /// watch may start from one before it).
  public var oldestAvailableRevision: Int64?
  /// For ``Code-swift.struct/database``: SQLite's own error text (never with statement arguments).
  public var underlying: String?

  public init(
    _ code: Code, key: ObjectKey? = nil, _ message: String, fix: String,
    currentResourceVersion: Int64? = nil, expectedResourceVersion: Int64? = nil,
    oldestAvailableRevision: Int64? = nil, underlying: String? = nil
  ) {
    self.code = code
    self.key = key
    self.message = message
    self.fix = fix
    self.currentResourceVersion = currentResourceVersion
    self.expectedResourceVersion = expectedResourceVersion
    self.oldestAvailableRevision = oldestAvailableRevision
    self.underlying = underlying
  }

  public var description: String { "\(message); \(fix)" }

  // MARK: Constructors used across the module

  static func notFound(_ key: ObjectKey) -> StoreError {
    StoreError(.notFound, key: key, "\(key) does not exist", fix: "check the kind, namespace and name, or create it first")
  }

  static func alreadyExists(_ key: ObjectKey) -> StoreError {
    StoreError(.alreadyExists, key: key, "\(key) already exists",
      fix: "update it instead (get it, change it, send it back with its resourceVersion), or delete it first")
  }

  static func conflict(_ key: ObjectKey, current: Int64, expected: Int64) -> StoreError {
    StoreError(.conflict, key: key, "\(key) was modified (resourceVersion \(current), you sent \(expected))",
      fix: "get it again and retry", currentResourceVersion: current, expectedResourceVersion: expected)
  }

  static func compacted(requested: Int64, oldest: Int64) -> StoreError {
    StoreError(.revisionCompacted,
      "required revision has been compacted: a watch from \(requested) needs revision \(requested + 1), "
        + "the oldest revision available is \(oldest)",
      fix: "list again and watch from the list's resourceVersion", oldestAvailableRevision: oldest)
  }

  static let closed = StoreError(.closed, "the store is closed", fix: "open it again; a closed store takes no calls")

  static func cancelled(while action: String) -> StoreError {
    StoreError(.cancelled, "the task was cancelled while \(action)", fix: "nothing to fix; retry if the result is still needed")
  }

  /// Wraps an error thrown by GRDB or SQLite.
  static func database(_ error: any Error, while action: String) -> StoreError {
    if let storeError = error as? StoreError { return storeError }
    if error is CancellationError { return .cancelled(while: action) }
    return StoreError(.database, "SQLite failed while \(action)",
      fix: "check free disk space and the permissions of the data directory; if the file is damaged, restore it from a backup",
      underlying: "\(error)")
  }
}
