import Foundation

/// Runs what follows each commit — the object cache and secrets update, the watch publish, the
/// callers' resumption — in commit order, on a thread of its own when writers are concurrent.
///
/// Why: with 16 concurrent writers the writer thread was the bottleneck (100 % of one core in
/// the store benchmark, BM4), and a fifth of its time went to this work — above all to resuming
/// callers, each a hand-off to the cooperative pool that often wakes a thread. Handing a
/// committed batch to this thread lets the writer start the next transaction at once, while the
/// other core finishes the last one. A lone writer that ran its batch on its own thread (the
/// write queue's leader path) still does this work in place when nothing is queued here, so it
/// pays no hop.
///
/// Order: one item at a time, first in first out, whichever thread runs it (the queue is
/// drained by one runner at a time), so caches and watchers see batches in revision order and a
/// caller resumes only after its batch is visible to reads (read-your-writes).
///
/// Threading: ``submit(_:inline:)`` from the thread that committed; ``waitUntilIdle()`` and
/// ``stop()`` from anywhere. The thread starts with the first item it is given and ends with
/// ``stop()``; it holds no reference to the write queue.
final class AfterCommit: @unchecked Sendable {
  // Guarded by `condition`.
  private let condition = NSCondition()
  private var pending: [@Sendable () -> Void] = []
  /// Someone (the thread, or a committing thread in place) is running items.
  private var running = false
  private var threadStarted = false
  private var stopping = false

  /// Queues `work` behind everything queued before it. With `inline`, and if no one is running
  /// items, runs it (and anything queued meanwhile) on the calling thread before returning;
  /// otherwise the thread runs it.
  func submit(_ work: @escaping @Sendable () -> Void, inline: Bool) {
    condition.lock()
    pending.append(work)
    if running {
      condition.unlock()
      return
    }
    if inline {
      running = true
      condition.unlock()
      runPending()
      return
    }
    if !threadStarted {
      threadStarted = true
      let thread = Thread { [self] in threadMain() }
      thread.name = "hc-after-commit"
      thread.start()
    }
    condition.broadcast()
    condition.unlock()
  }

  /// Runs items until none is left; the caller has set `running`.
  private func runPending() {
    while true {
      condition.lock()
      if pending.isEmpty {
        running = false
        condition.broadcast()
        condition.unlock()
        return
      }
      let items = pending
      pending = []
      condition.unlock()
      for item in items { item() }
    }
  }

  private func threadMain() {
    condition.lock()
    while true {
      if !running, !pending.isEmpty {
        running = true
        condition.unlock()
        runPending()
        condition.lock()
        continue
      }
      if stopping, pending.isEmpty, !running { break }
      condition.wait()
    }
    condition.unlock()
  }

  /// Whether nothing is queued or running.
  var isIdle: Bool {
    condition.lock()
    defer { condition.unlock() }
    return pending.isEmpty && !running
  }

  /// Ends the thread once everything queued has run. Idempotent.
  func stop() {
    condition.lock()
    stopping = true
    condition.broadcast()
    condition.unlock()
  }
}
