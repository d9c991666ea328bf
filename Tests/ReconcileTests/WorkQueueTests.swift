import Reconcile
import Testing

@Suite struct WorkQueueTests {
  @Test func aKeyAddedTwiceWhileWaitingIsHandedOutOnce() async {
    let queue = WorkQueue<String>()
    queue.add("a")
    queue.add("b")
    queue.add("a")
    #expect(queue.depth == 2)
    #expect(await queue.next() == "a")
    #expect(await queue.next() == "b")
    #expect(queue.depth == 0)
  }

  @Test func aKeyAddedWhileProcessingIsQueuedAgainOnlyWhenDone() async {
    let queue = WorkQueue<String>()
    queue.add("a")
    let first = await queue.next()
    #expect(first == "a")
    // Changed while a worker holds it: not handed to a second worker.
    queue.add("a")
    #expect(queue.depth == 0)
    queue.done("a")
    #expect(queue.depth == 1)
    #expect(await queue.next() == "a")
    queue.done("a")
    #expect(queue.depth == 0)
  }

  @Test func backoffDoublesFromFiveMillisecondsToFiveMinutes() async {
    let queue = WorkQueue<String>()
    var delays: [Duration] = []
    for _ in 0..<20 {
      queue.addRateLimited("k")
      delays.append(queue.lastBackoffForTesting("k"))
    }
    #expect(delays[0] == .milliseconds(5))
    #expect(delays[1] == .milliseconds(10))
    #expect(delays[2] == .milliseconds(20))
    #expect(delays.last == .seconds(300))
    #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 })
    queue.forget("k")
    queue.addRateLimited("k")
    #expect(queue.lastBackoffForTesting("k") == .milliseconds(5))
    queue.shutDown()
  }

  @Test func aDelayedKeyArrivesAfterItsDelay() async {
    let queue = WorkQueue<String>()
    let start = ContinuousClock.now
    queue.add("late", after: .milliseconds(50))
    #expect(queue.depth == 0)
    let key = await queue.next()
    #expect(key == "late")
    #expect(ContinuousClock.now - start >= .milliseconds(50))
  }

  @Test func nextReturnsNilAfterShutDown() async {
    let queue = WorkQueue<String>()
    async let waiting = queue.next()
    try? await Task.sleep(for: .milliseconds(10))
    queue.shutDown()
    #expect(await waiting == nil)
    #expect(await queue.next() == nil)
  }
  @Test func delayedKeysArriveInDeadlineOrderAndAnEarlierDelayWins() async {
    let queue = WorkQueue<String>()
    queue.add("c", after: .milliseconds(60))
    queue.add("a", after: .seconds(300))
    queue.add("b", after: .milliseconds(30))
    // An earlier delay for a delayed key replaces the later one; a later one changes nothing.
    queue.add("a", after: .milliseconds(10))
    queue.add("b", after: .seconds(300))
    #expect(queue.delayedCount == 3)
    #expect(await queue.next() == "a")
    #expect(await queue.next() == "b")
    #expect(await queue.next() == "c")
    #expect(queue.delayedCount == 0)
    // Each key arrived once: the superseded deadlines left nothing behind.
    try? await Task.sleep(for: .milliseconds(80))
    #expect(queue.depth == 0)
  }

  @Test func manyDelayedKeysAllArriveOnceAndSupersededEntriesAreDropped() async {
    let queue = WorkQueue<Int>()
    // Far deadlines first, then earlier ones for the same keys: 200 stale heap entries.
    for key in 0..<200 { queue.add(key, after: .seconds(600)) }
    for key in 0..<200 { queue.add(key, after: .milliseconds(5 + key % 7)) }
    var seen = Set<Int>()
    for _ in 0..<200 {
      guard let key = await queue.next() else { break }
      seen.insert(key)
      queue.done(key)
    }
    #expect(seen == Set(0..<200))
    #expect(queue.delayedCount == 0)
    try? await Task.sleep(for: .milliseconds(30))
    #expect(queue.depth == 0)
  }

  @Test func aDelayedKeyIsDroppedAtShutDown() async {
    let queue = WorkQueue<String>()
    queue.add("late", after: .milliseconds(20))
    queue.shutDown()
    #expect(queue.delayedCount == 0)
    try? await Task.sleep(for: .milliseconds(40))
    #expect(queue.depth == 0)
    #expect(await queue.next() == nil)
  }
}
