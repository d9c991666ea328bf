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

/// Runs `action` after `delay` on a Dispatch timer.
func after(_ delay: Duration, _ action: @escaping @Sendable () -> Void) {
  let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
  DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds)), execute: action)
}

/// FIFO mutual exclusion per key: at most one holder per key at a time (the ABI promises drivers
/// at most one in-flight call per resource).
actor KeyedSerializer {
  private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

  func acquire(_ key: String) async {
    if waiting[key] == nil {
      waiting[key] = []
      return
    }
    await withCheckedContinuation { waiting[key]!.append($0) }
  }

  func release(_ key: String) {
    guard var queue = waiting[key], !queue.isEmpty else {
      waiting[key] = nil
      return
    }
    let next = queue.removeFirst()
    waiting[key] = queue
    next.resume()
  }
}
