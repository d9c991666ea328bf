import Foundation
import HeapModule
import Synchronization

/// A de-duplicating work queue with per-key exponential backoff — client-go's `workqueue`
/// contract in Swift.
///
/// - A key added while it waits is queued once (de-duplication).
/// - A key is handed to one worker at a time: a key added while a worker holds it is queued
///   again only when that worker calls ``done(_:)`` (so two workers never reconcile one object
///   at once, and a change during a reconcile is never lost).
/// - ``addRateLimited(_:)`` re-adds after `base × 2^failures` (5 ms, 10 ms, … capped at 5 min);
///   ``forget(_:)`` resets the failure count after a success.
/// - ``add(_:after:)`` re-adds after a fixed delay (`requeueAfter`); of two delays pending for
///   one key, the earlier wins.
///
/// Threading: every method may be called from any thread or task; state is behind one lock,
/// and only ``next()`` suspends (while the queue is empty). Why not an actor: a reconcile
/// touched the queue five times (next, forget, add after, done, depth), each a hop onto the
/// actor's executor and back, and every converged object kept a sleeping task for its resync.
/// Delays are one min-heap served by one timer task, armed for the earliest deadline only.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
  /// A heap entry, ordered by deadline.
  private struct Delayed: Comparable {
    var deadline: ContinuousClock.Instant
    var key: Key

    static func < (lhs: Delayed, rhs: Delayed) -> Bool { lhs.deadline < rhs.deadline }
    static func == (lhs: Delayed, rhs: Delayed) -> Bool { lhs.deadline == rhs.deadline && lhs.key == rhs.key }
  }

  private struct State {
    var queue: [Key] = []
    var head = 0
    var dirty: Set<Key> = []
    var processing: Set<Key> = []
    var waiters: [CheckedContinuation<Key?, Never>] = []
    var failures: [Key: Int] = [:]
    var lastBackoff: [Key: Duration] = [:]
    /// The pending deadline of each delayed key; heap entries that disagree are stale.
    var deadlines: [Key: ContinuousClock.Instant] = [:]
    var heap = Heap<Delayed>()
    /// The timer task, the deadline it sleeps until and its number (a timer that fires after
    /// it was replaced must not forget its successor).
    var timer: (deadline: ContinuousClock.Instant, task: Task<Void, Never>, id: UInt64)?
    var timersArmed: UInt64 = 0
    var shuttingDown = false

    var depth: Int { queue.count - head }
  }

  private let state = Mutex(State())
  private let baseDelay: Duration
  private let maximumDelay: Duration

  /// - Parameters:
  ///   - baseDelay: the first retry delay (5 ms).
  ///   - maximumDelay: the cap on retry delays (5 min).
  public init(baseDelay: Duration = .milliseconds(5), maximumDelay: Duration = .seconds(300)) {
    self.baseDelay = baseDelay
    self.maximumDelay = maximumDelay
  }

  /// Keys waiting to be processed (not counting those being processed or delayed).
  public var depth: Int { state.withLock { $0.depth } }

  /// Keys waiting on a delay (backoff or `requeueAfter`).
  public var delayedCount: Int { state.withLock { $0.deadlines.count } }

  /// Queues `key` unless it is already waiting.
  public func add(_ key: Key) {
    let waiter = state.withLock { state in Self.add(key, to: &state) }
    waiter?.resume(returning: key)
  }

  /// Queues `key` in `state`; returns the waiter that must be handed `key` (outside the lock).
  private static func add(_ key: Key, to state: inout State) -> CheckedContinuation<Key?, Never>? {
    guard !state.shuttingDown, !state.dirty.contains(key) else { return nil }
    state.dirty.insert(key)
    // Held by a worker: done(_:) queues it again.
    if state.processing.contains(key) { return nil }
    if let waiter = state.waiters.popLast() {
      state.dirty.remove(key)
      state.processing.insert(key)
      return waiter
    }
    state.queue.append(key)
    return nil
  }

  /// Queues `key` after `delay`. An earlier pending delay for the same key wins.
  public func add(_ key: Key, after delay: Duration) {
    guard delay > .zero else { return add(key) }
    let deadline = ContinuousClock.now.advanced(by: delay)
    state.withLock { state in
      guard !state.shuttingDown else { return }
      if let pending = state.deadlines[key], pending <= deadline { return }
      state.deadlines[key] = deadline
      state.heap.insert(Delayed(deadline: deadline, key: key))
      // Stale entries (superseded by an earlier deadline) leave with a rebuild once they
      // outnumber the live ones.
      if state.heap.count > 64, state.heap.count > 2 * state.deadlines.count { Self.rebuild(&state) }
      armTimer(&state)
    }
  }

  /// Points the timer at the earliest live deadline, if it is not already sleeping until it.
  private func armTimer(_ state: inout State) {
    while let first = state.heap.min, state.deadlines[first.key] != first.deadline { state.heap.removeMin() }
    guard let earliest = state.heap.min?.deadline else {
      state.timer?.task.cancel()
      state.timer = nil
      return
    }
    if let timer = state.timer, timer.deadline <= earliest { return }
    state.timer?.task.cancel()
    state.timersArmed += 1
    let id = state.timersArmed
    let task = Task { [weak self] in
      try? await Task.sleep(until: earliest, clock: .continuous)
      guard !Task.isCancelled else { return }
      self?.fireDue(timer: id)
    }
    state.timer = (earliest, task, id)
  }

  /// Queues every key whose deadline has passed, then re-arms the timer for the rest.
  private func fireDue(timer: UInt64) {
    let now = ContinuousClock.now
    let handOffs: [(CheckedContinuation<Key?, Never>, Key)] = state.withLock { state in
      if state.timer?.id == timer { state.timer = nil }
      var handOffs: [(CheckedContinuation<Key?, Never>, Key)] = []
      while let first = state.heap.min, first.deadline <= now {
        state.heap.removeMin()
        guard state.deadlines[first.key] == first.deadline else { continue }
        state.deadlines[first.key] = nil
        if let waiter = Self.add(first.key, to: &state) { handOffs.append((waiter, first.key)) }
      }
      if !state.shuttingDown { armTimer(&state) }
      return handOffs
    }
    for (waiter, key) in handOffs { waiter.resume(returning: key) }
  }

  /// Queues `key` after its backoff delay, and counts one more failure for it.
  public func addRateLimited(_ key: Key) {
    let delay = state.withLock { state in
      let delay = nextBackoff(failures: &state.failures[key, default: 0])
      state.lastBackoff[key] = delay
      return delay
    }
    add(key, after: delay)
  }

  /// The delay of the last ``addRateLimited(_:)`` of `key` (tests and diagnostics).
  public func lastBackoffForTesting(_ key: Key) -> Duration { state.withLock { $0.lastBackoff[key] ?? .zero } }

  /// The delay after `count` failures in a row, counting one more.
  private func nextBackoff(failures count: inout Int) -> Duration {
    // 2^count overflows nothing: the exponent is capped well before Int64 limits.
    let factor = Int64(1) << Int64(min(count, 40))
    count += 1
    let base = baseDelay.components
    let nanos = base.seconds * 1_000_000_000 + base.attoseconds / 1_000_000_000
    let delay = Duration.nanoseconds(nanos.multipliedReportingOverflow(by: factor).overflow ? Int64.max : nanos * factor)
    return min(delay, maximumDelay)
  }

  /// How many times `key` failed in a row.
  public func failureCount(_ key: Key) -> Int { state.withLock { $0.failures[key, default: 0] } }

  /// Resets the failure count of `key` (call after a successful reconcile).
  public func forget(_ key: Key) {
    state.withLock { state in
      state.failures[key] = nil
      state.lastBackoff[key] = nil
    }
  }

  /// The next key to process; waits while the queue is empty. Returns nil once the queue is
  /// shut down. The caller owns the key until it calls ``done(_:)``.
  public func next() async -> Key? {
    let taken: Take<Key> = state.withLock { state in
      if let key = Self.take(&state) { return .key(key) }
      return state.shuttingDown ? .closed : .wait
    }
    switch taken {
    case .key(let key): return key
    case .closed: return nil
    case .wait: break
    }
    return await withCheckedContinuation { continuation in
      // Checked again under the lock: a key added (or a shutdown) since the check above must
      // not leave this waiter asleep.
      let outcome: Take<Key> = state.withLock { state in
        if let key = Self.take(&state) { return .key(key) }
        if state.shuttingDown { return .closed }
        state.waiters.insert(continuation, at: 0)
        return .wait
      }
      switch outcome {
      case .key(let key): continuation.resume(returning: key)
      case .closed: continuation.resume(returning: nil)
      case .wait: break
      }
    }
  }

  /// The first queued key, now held by the caller; nil if none is queued.
  private static func take(_ state: inout State) -> Key? {
    guard state.head < state.queue.count else { return nil }
    let key = state.queue[state.head]
    state.head += 1
    if state.head > 1024, state.head * 2 > state.queue.count {
      state.queue.removeFirst(state.head)
      state.head = 0
    }
    state.dirty.remove(key)
    state.processing.insert(key)
    return key
  }

  /// Marks `key` as processed; if it was added meanwhile, queues it again.
  public func done(_ key: Key) {
    let waiter: CheckedContinuation<Key?, Never>? = state.withLock { state in
      state.processing.remove(key)
      guard state.dirty.contains(key) else { return nil }
      state.dirty.remove(key)
      return Self.add(key, to: &state)
    }
    waiter?.resume(returning: key)
  }

  /// Stops handing out keys: waiting and future ``next()`` calls return nil, delays are
  /// dropped. Keys being processed may still call ``done(_:)``.
  public func shutDown() {
    let waiting: [CheckedContinuation<Key?, Never>] = state.withLock { state in
      state.shuttingDown = true
      state.timer?.task.cancel()
      state.timer = nil
      state.deadlines.removeAll()
      state.heap = Heap()
      let waiting = state.waiters
      state.waiters.removeAll()
      return waiting
    }
    for waiter in waiting { waiter.resume(returning: nil) }
  }

  /// The heap of the live deadlines only.
  private static func rebuild(_ state: inout State) {
    state.heap = Heap(state.deadlines.map { Delayed(deadline: $0.value, key: $0.key) })
  }
}

/// What ``WorkQueue/next()`` found under the lock.
private enum Take<Key> {
  case key(Key)
  case closed
  case wait
}
