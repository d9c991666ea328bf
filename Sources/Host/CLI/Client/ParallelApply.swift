import Foundation

/// Sends a group of independent objects with several clients at once and reports each result in
/// the group's order, as soon as it and everything before it are done (so output reads like a
/// one-at-a-time apply, without waiting for the whole group). `beforeWaiting` runs whenever the
/// reporting thread is about to block for the next result (the caller flushes its output there,
/// so lines can be written in batches without ever being held back while the CLI waits).
///
/// Threads, not tasks: the CLI's HTTP client blocks. Each thread has its own client (own
/// libcurl handle and keep-alive connection); the calling thread reports.
enum ParallelApply {
  static func run<Item, Outcome>(
    _ items: [Item], clients: Int, client: APIClient,
    _ body: @escaping (Item, APIClient) throws -> Outcome,
    report: (Item, Result<Outcome, any Error>) -> Void,
    beforeWaiting: () -> Void = {}
  ) -> [Result<Outcome, any Error>] {
    guard clients > 1 else {
      return items.map { item in
        let result = Result { try body(item, client) }
        report(item, result)
        return result
      }
    }
    let shared = SharedResults<Outcome>(count: items.count)
    let work = UncheckedSendable((items: items, body: body))
    for _ in 0..<clients {
      let own = UncheckedSendable(client.copy())
      Thread.detachNewThread {
        while let index = shared.claim() {
          shared.store(index, Result { try work.value.body(work.value.items[index], own.value) })
        }
      }
    }
    var results: [Result<Outcome, any Error>] = []
    results.reserveCapacity(items.count)
    for index in items.indices {
      let result = shared.wait(for: index, beforeBlocking: beforeWaiting)
      report(items[index], result)
      results.append(result)
    }
    return results
  }
}

/// Results by index, filled by the sending threads, read in order by the reporting one.
private final class SharedResults<Outcome>: @unchecked Sendable {
  private let condition = NSCondition()
  private var results: [Result<Outcome, any Error>?]
  private var next = 0
  /// The index the reporting thread sleeps on, if it does: only that result wakes it.
  private var awaited: Int?

  init(count: Int) { results = Array(repeating: nil, count: count) }

  /// The next index to send, or nil when all are taken.
  func claim() -> Int? {
    condition.lock()
    defer { condition.unlock() }
    guard next < results.count else { return nil }
    next += 1
    return next - 1
  }

  func store(_ index: Int, _ result: Result<Outcome, any Error>) {
    condition.lock()
    results[index] = result
    if awaited == index {
      awaited = nil
      condition.signal()
    }
    condition.unlock()
  }

  func wait(for index: Int, beforeBlocking: () -> Void) -> Result<Outcome, any Error> {
    condition.lock()
    defer { condition.unlock() }
    if results[index] == nil {
      // Not under the lock: the senders keep storing meanwhile.
      condition.unlock()
      beforeBlocking()
      condition.lock()
    }
    while results[index] == nil {
      awaited = index
      condition.wait()
    }
    return results[index]!
  }
}

/// Moves a value the compiler cannot prove sendable to another thread; the owner guarantees it
/// is used by one thread at a time (a client) or only read (the items and the body).
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
