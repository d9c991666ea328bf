import Foundation

/// A de-duplicating work queue with per-key exponential backoff — client-go's `workqueue`
/// contract in Swift.
///
/// - A key added while it waits is queued once (de-duplication).
/// - A key is handed to one worker at a time: a key added while a worker holds it is queued
///   again only when that worker calls ``done(_:)`` (so two workers never reconcile one object
///   at once, and a change during a reconcile is never lost).
/// - ``addRateLimited(_:)`` re-adds after `base × 2^failures` (5 ms, 10 ms, … capped at 5 min);
///   ``forget(_:)`` resets the failure count after a success.
/// - ``add(_:after:)`` re-adds after a fixed delay (`requeueAfter`).
///
/// Threading: an actor; every method may be called from any task.
public actor WorkQueue<Key: Hashable & Sendable> {
  private var queue: [Key] = []
  private var head = 0
  private var dirty: Set<Key> = []
  private var processing: Set<Key> = []
  private var waiters: [CheckedContinuation<Key?, Never>] = []
  private var failures: [Key: Int] = [:]
  private var timers: [Key: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)] = [:]
  private var shuttingDown = false
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
  public var depth: Int { queue.count - head }

  /// Keys waiting on a delay (backoff or `requeueAfter`).
  public var delayedCount: Int { timers.count }

  /// Queues `key` unless it is already waiting.
  public func add(_ key: Key) {
    guard !shuttingDown, !dirty.contains(key) else { return }
    dirty.insert(key)
    // Held by a worker: done(_:) queues it again.
    if processing.contains(key) { return }
    if let waiter = waiters.popLast() {
      dirty.remove(key)
      processing.insert(key)
      waiter.resume(returning: key)
      return
    }
    queue.append(key)
  }

  /// Queues `key` after `delay`. An earlier pending delay for the same key wins.
  public func add(_ key: Key, after delay: Duration) {
    guard !shuttingDown else { return }
    guard delay > .zero else { return add(key) }
    let deadline = ContinuousClock.now.advanced(by: delay)
    if let existing = timers[key], existing.deadline <= deadline { return }
    timers[key]?.task.cancel()
    let task = Task { [weak self] in
      try? await Task.sleep(until: deadline, clock: .continuous)
      guard !Task.isCancelled else { return }
      await self?.fire(key, deadline: deadline)
    }
    timers[key] = (deadline, task)
  }

  private func fire(_ key: Key, deadline: ContinuousClock.Instant) {
    guard timers[key]?.deadline == deadline else { return }
    timers[key] = nil
    add(key)
  }

  /// Queues `key` after its backoff delay, and counts one more failure for it.
  public func addRateLimited(_ key: Key) {
    let delay = nextBackoff(for: key)
    lastBackoff[key] = delay
    add(key, after: delay)
  }

  private var lastBackoff: [Key: Duration] = [:]

  /// The delay of the last ``addRateLimited(_:)`` of `key` (tests and diagnostics).
  public func lastBackoffForTesting(_ key: Key) -> Duration { lastBackoff[key] ?? .zero }

  /// The delay the next ``addRateLimited(_:)`` of `key` waits (and counts the failure).
  func nextBackoff(for key: Key) -> Duration {
    let count = failures[key, default: 0]
    failures[key] = count + 1
    // 2^count overflows nothing: the exponent is capped well before Int64 limits.
    let factor = Int64(1) << Int64(min(count, 40))
    let base = baseDelay.components
    let nanos = base.seconds * 1_000_000_000 + base.attoseconds / 1_000_000_000
    let delay = Duration.nanoseconds(nanos.multipliedReportingOverflow(by: factor).overflow ? Int64.max : nanos * factor)
    return min(delay, maximumDelay)
  }

  /// How many times `key` failed in a row.
  public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

  /// Resets the failure count of `key` (call after a successful reconcile).
  public func forget(_ key: Key) {
    failures[key] = nil
    lastBackoff[key] = nil
  }

  /// The next key to process; waits while the queue is empty. Returns nil once the queue is
  /// shut down. The caller owns the key until it calls ``done(_:)``.
  public func next() async -> Key? {
    if head < queue.count {
      let key = queue[head]
      head += 1
      if head > 1024, head * 2 > queue.count {
        queue.removeFirst(head)
        head = 0
      }
      dirty.remove(key)
      processing.insert(key)
      return key
    }
    if shuttingDown { return nil }
    return await withCheckedContinuation { waiters.insert($0, at: 0) }
  }

  /// Marks `key` as processed; if it was added meanwhile, queues it again.
  public func done(_ key: Key) {
    processing.remove(key)
    if dirty.contains(key) {
      dirty.remove(key)
      add(key)
    }
  }

  /// Stops handing out keys: waiting and future ``next()`` calls return nil, timers are
  /// cancelled. Keys being processed may still call ``done(_:)``.
  public func shutDown() {
    shuttingDown = true
    for (_, timer) in timers { timer.task.cancel() }
    timers.removeAll()
    let waiting = waiters
    waiters.removeAll()
    for waiter in waiting { waiter.resume(returning: nil) }
  }
}
