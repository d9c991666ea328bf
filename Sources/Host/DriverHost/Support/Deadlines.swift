import Dispatch
import Foundation
import HeapModule

/// Runs actions at deadlines: one min-heap and one thread for the whole process.
///
/// Why not `DispatchQueue.asyncAfter` per call: every driver call has a deadline that almost
/// never fires, and a Dispatch timer per call costs a registration with libdispatch's timer heap
/// plus a wake-up of its manager thread, and cannot be withdrawn (it fires later, into a no-op).
/// Measured on the apply benchmark: about 4 % of the host's CPU. Here, scheduling is a lock and a
/// heap push (the thread is woken only when the new deadline is the earliest one), cancelling is
/// a lock and a dictionary removal, and cancelled entries leave the heap lazily (it is rebuilt
/// when they outnumber the live ones, so memory follows the calls in flight).
///
/// Threading: any thread may schedule and cancel. Fired actions run on a global Dispatch queue,
/// never on the caller's thread or under the lock; an action may run after `cancel` returns only
/// if it had already fired (callers resolve that race with ``CompletionOnce``).
final class Deadlines: @unchecked Sendable {
  /// The process-wide scheduler (its thread starts with the first deadline).
  static let shared = Deadlines()

  /// A scheduled action, for ``cancel(_:)``.
  struct Ticket: Sendable, Hashable {
    fileprivate let id: UInt64
  }

  /// A heap entry, ordered by deadline (swift-collections' `Heap`).
  private struct Entry: Comparable {
    var deadline: UInt64
    var id: UInt64

    static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.deadline < rhs.deadline }
  }

  // All state below is guarded by `condition`.
  private let condition = NSCondition()
  private var heap = Heap<Entry>()
  private var actions: [UInt64: (deadline: UInt64, action: @Sendable () -> Void)] = [:]
  private var nextID: UInt64 = 1
  private var started = false
  private var thread: Int32?

  /// The kernel thread id of the scheduler's thread, once it runs: a host thread, which checks
  /// for threads a driver left running must not count.
  var threadIDs: Set<Int32> {
    condition.lock()
    defer { condition.unlock() }
    return thread.map { [$0] } ?? []
  }

  /// Runs `action` once `delay` has passed, unless cancelled first.
  @discardableResult
  func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Ticket {
    let deadline = Self.now() &+ Self.nanoseconds(delay)
    condition.lock()
    defer { condition.unlock() }
    let id = nextID
    nextID += 1
    actions[id] = (deadline, action)
    heap.insert(Entry(deadline: deadline, id: id))
    if !started {
      started = true
      let thread = Thread { [self] in run() }
      thread.name = "hc-deadlines"
      thread.start()
    } else if heap.min?.id == id {
      condition.signal()
    }
    return Ticket(id: id)
  }

  /// Withdraws a scheduled action; a no-op if it already fired or was cancelled.
  func cancel(_ ticket: Ticket) {
    condition.lock()
    defer { condition.unlock() }
    guard actions.removeValue(forKey: ticket.id) != nil else { return }
    if heap.count > 64 && heap.count > 4 * actions.count { rebuild() }
  }

  /// Actions waiting (tests).
  var pendingCount: Int {
    condition.lock()
    defer { condition.unlock() }
    return actions.count
  }

  /// Entries in the heap, cancelled ones included (tests).
  var heapCount: Int {
    condition.lock()
    defer { condition.unlock() }
    return heap.count
  }

  private func run() {
    condition.lock()
    thread = ThreadActivity.currentThreadID()
    while true {
      while let top = heap.min, actions[top.id] == nil { heap.removeMin() }
      guard let top = heap.min else {
        condition.wait()
        continue
      }
      let now = Self.now()
      if top.deadline > now {
        _ = condition.wait(until: Date(timeIntervalSinceNow: Double(top.deadline - now) / 1e9))
        continue
      }
      heap.removeMin()
      if let fired = actions.removeValue(forKey: top.id) {
        DispatchQueue.global().async(execute: fired.action)
      }
    }
  }

  private func rebuild() {
    heap = Heap(actions.map { Entry(deadline: $0.value.deadline, id: $0.key) })
  }

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

  private static func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0 else { return 0 }
    let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
    return overflow ? UInt64.max / 2 : whole &+ UInt64(max(0, attoseconds) / 1_000_000_000)
  }
}
