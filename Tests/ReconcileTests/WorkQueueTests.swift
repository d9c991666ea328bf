import Reconcile
import Testing

@Suite struct WorkQueueTests {
  @Test func aKeyAddedTwiceWhileWaitingIsHandedOutOnce() async {
    let queue = WorkQueue<String>()
    await queue.add("a")
    await queue.add("b")
    await queue.add("a")
    #expect(await queue.depth == 2)
    #expect(await queue.next() == "a")
    #expect(await queue.next() == "b")
    #expect(await queue.depth == 0)
  }

  @Test func aKeyAddedWhileProcessingIsQueuedAgainOnlyWhenDone() async {
    let queue = WorkQueue<String>()
    await queue.add("a")
    let first = await queue.next()
    #expect(first == "a")
    // Changed while a worker holds it: not handed to a second worker.
    await queue.add("a")
    #expect(await queue.depth == 0)
    await queue.done("a")
    #expect(await queue.depth == 1)
    #expect(await queue.next() == "a")
    await queue.done("a")
    #expect(await queue.depth == 0)
  }

  @Test func backoffDoublesFromFiveMillisecondsToFiveMinutes() async {
    let queue = WorkQueue<String>()
    var delays: [Duration] = []
    for _ in 0..<20 {
      await queue.addRateLimited("k")
      delays.append(await queue.lastBackoffForTesting("k"))
    }
    #expect(delays[0] == .milliseconds(5))
    #expect(delays[1] == .milliseconds(10))
    #expect(delays[2] == .milliseconds(20))
    #expect(delays.last == .seconds(300))
    #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 <= $1 })
    await queue.forget("k")
    await queue.addRateLimited("k")
    #expect(await queue.lastBackoffForTesting("k") == .milliseconds(5))
    await queue.shutDown()
  }

  @Test func aDelayedKeyArrivesAfterItsDelay() async {
    let queue = WorkQueue<String>()
    let start = ContinuousClock.now
    await queue.add("late", after: .milliseconds(50))
    #expect(await queue.depth == 0)
    let key = await queue.next()
    #expect(key == "late")
    #expect(ContinuousClock.now - start >= .milliseconds(50))
  }

  @Test func nextReturnsNilAfterShutDown() async {
    let queue = WorkQueue<String>()
    async let waiting = queue.next()
    try? await Task.sleep(for: .milliseconds(10))
    await queue.shutDown()
    #expect(await waiting == nil)
    #expect(await queue.next() == nil)
  }
}
