import Model
import Store

/// What a reconcile asks of the engine afterwards.
public struct ReconcileResult: Sendable, Hashable {
  /// Reconcile this key again after this delay even if nothing changes (periodic re-check);
  /// nil waits for the next change.
  public var requeueAfter: Duration?

  public init(requeueAfter: Duration? = nil) { self.requeueAfter = requeueAfter }

  /// Nothing more to do until the object changes.
  public static let done = ReconcileResult()
}

/// An error that retrying cannot fix (invalid spec, a driver that refuses the request as
/// invalid): the engine records it and does not retry until the object changes.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
  public var reason: String
  public var message: String

  public init(reason: String, _ message: String) {
    self.reason = reason
    self.message = message
  }

  public var description: String { message }
}

/// A level-based reconciler for one kind, controller-runtime style.
///
/// `reconcile(_:)` is handed only a key: it reads the object's current state from the store
/// (never from the event that woke it), drives the world toward the spec, and writes `status`
/// back through the store. It must be idempotent: it may run any number of times for one state,
/// and it may be interrupted (a crash) at any point and run again from the top.
///
/// Errors: a thrown ``TerminalError`` is not retried; any other error is retried with
/// exponential backoff (5 ms → 5 min). Threading: the engine never runs two reconciles of one key
/// at once, but runs different keys concurrently.
public protocol Reconciler: Sendable {
  /// The kind this reconciler owns.
  var kind: Kind { get }
  /// Drives `key` toward its spec.
  func reconcile(_ key: ObjectKey) async throws -> ReconcileResult
}
