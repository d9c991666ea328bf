// The process-wide deadline scheduler and the per-resource serializer of driver calls.
@testable import DriverHost
import Foundation
import Synchronization
import Testing

@Suite("Deadlines and per-resource serialisation", .timeLimit(.minutes(1)))
struct DeadlinesTests {
  /// Fires in deadline order whatever the scheduling order, and only what was not cancelled.
  @Test func firesInOrderAndSkipsCancelled() async throws {
    let deadlines = Deadlines()
    let fired = Recorder()
    let done = AsyncStream<Void>.makeStream()
    let delays = [60, 20, 40, 10, 50, 30]
    var tickets: [Int: Deadlines.Ticket] = [:]
    for delay in delays {
      tickets[delay] = deadlines.schedule(after: .milliseconds(delay)) {
        fired.append(delay)
        let count = fired.values.count
        if count == delays.count - 2 { done.continuation.yield() }
      }
    }
    deadlines.cancel(tickets[40]!)
    deadlines.cancel(tickets[10]!)
    deadlines.cancel(tickets[10]!)  // twice is a no-op
    var iterator = done.stream.makeAsyncIterator()
    await iterator.next()
    try await Task.sleep(for: .milliseconds(30))
    // Each action runs on a global queue, so two close ones may finish out of order; the set
    // and the count are exact.
    #expect(Set(fired.values) == [20, 30, 50, 60])
    #expect(fired.values.count == 4)
    #expect(deadlines.pendingCount == 0)
  }

  /// A new earliest deadline wakes the thread that sleeps until a later one.
  @Test func anEarlierDeadlineIsNotDelayedByALaterOne() async throws {
    let deadlines = Deadlines()
    deadlines.schedule(after: .seconds(30)) {}
    let start = ContinuousClock.now
    await withCheckedContinuation { continuation in
      deadlines.schedule(after: .milliseconds(20)) { continuation.resume() }
    }
    #expect(ContinuousClock.now - start < .seconds(5))
    #expect(deadlines.pendingCount == 1)
  }

  /// Cancelled entries do not pile up: the heap is rebuilt when they outnumber the live ones.
  @Test func cancelledEntriesDoNotAccumulate() {
    let deadlines = Deadlines()
    for _ in 0..<10_000 {
      deadlines.cancel(deadlines.schedule(after: .seconds(60)) {})
    }
    #expect(deadlines.pendingCount == 0)
    #expect(deadlines.heapCount <= 64)
  }

  /// One holder per key, waiters in arrival order; other keys are not held up.
  @Test func serializerIsFIFOPerKey() async {
    let serializer = KeyedSerializer()
    await serializer.acquire("a")
    let order = Recorder()
    await withTaskGroup(of: Void.self) { group in
      for index in 0..<5 {
        group.addTask {
          await serializer.acquire("a")
          order.append(index)
          serializer.release("a")
        }
        // Let each waiter queue before the next one starts.
        while serializer.waiterCount("a") < index + 1 { await Task.yield() }
      }
      await serializer.acquire("b")  // another key: free at once
      serializer.release("b")
      #expect(order.values.isEmpty)
      serializer.release("a")
    }
    #expect(order.values == [0, 1, 2, 3, 4])
    #expect(serializer.waiterCount("a") == 0)
  }
}

final class Recorder: Sendable {
  private let recorded = Mutex<[Int]>([])
  func append(_ value: Int) { recorded.withLock { $0.append(value) } }
  var values: [Int] { recorded.withLock { $0 } }
}
