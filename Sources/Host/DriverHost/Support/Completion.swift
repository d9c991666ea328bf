import Dispatch
import Synchronization

/// Delivers exactly one of several racing outcomes (a result, a deadline, a runner death).
final class CompletionOnce<Value: Sendable>: Sendable {
  private let body: Mutex<(@Sendable (Value) -> Void)?>

  init(_ body: @escaping @Sendable (Value) -> Void) {
    self.body = Mutex(body)
  }

  /// Delivers `value` if nothing was delivered yet; returns whether this call won.
  @discardableResult
  func complete(_ value: Value) -> Bool {
    guard let body = body.withLock({ body in
      defer { body = nil }
      return body
    }) else { return false }
    body(value)
    return true
  }

  /// Claims the right to deliver without delivering yet (to act before the receiver runs).
  /// Returns nil if something was already delivered or claimed.
  func claim() -> (@Sendable (Value) -> Void)? {
    body.withLock { body in
      defer { body = nil }
      return body
    }
  }

  var isCompleted: Bool { body.withLock { $0 == nil } }
}

/// Runs `action` after `delay` (see ``Deadlines``); the ticket withdraws it.
@discardableResult
func after(_ delay: Duration, _ action: @escaping @Sendable () -> Void) -> Deadlines.Ticket {
  Deadlines.shared.schedule(after: delay, action)
}

/// FIFO mutual exclusion per key: at most one holder per key at a time (the ABI promises drivers
/// at most one in-flight call per resource).
///
/// A lock, not an actor: acquiring a free key does not suspend, and releasing is synchronous, so
/// a driver's completion callback (any thread) hands the key on without starting a task.
/// Waiting is not cancellable (a waiter waits for the calls ahead of it, each bounded by its
/// deadline).
final class KeyedSerializer: Sendable {
  /// Held keys, with the continuations waiting for each, in order.
  private let held = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

  func acquire(_ key: String) async {
    if held.withLock({ held -> Bool in
      guard held[key] == nil else { return false }
      held[key] = []
      return true
    }) { return }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let acquired = held.withLock { held -> Bool in
        if held[key] == nil {
          held[key] = []
          return true
        }
        held[key]!.append(continuation)
        return false
      }
      if acquired { continuation.resume() }
    }
  }

  /// Callers waiting for `key` (tests).
  func waiterCount(_ key: String) -> Int { held.withLock { $0[key]?.count ?? 0 } }

  func release(_ key: String) {
    let next = held.withLock { held -> CheckedContinuation<Void, Never>? in
      guard var waiters = held[key], !waiters.isEmpty else {
        held[key] = nil
        return nil
      }
      let first = waiters.removeFirst()
      held[key] = waiters
      return first
    }
    next?.resume()
  }
}
