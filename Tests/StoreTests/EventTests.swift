import Foundation
import Synchronization
import Testing

@testable import Store

/// A clock tests move by hand.
final class ManualClock: Sendable {
  private let current = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
  var now: Date { current.withLock { $0 } }
  func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

@Suite struct EventTests {
  @Test func repeatedEventsAreCountedAndNewestIsLast() async throws {
    let clock = ManualClock()
    try await withStore({ $0.clock = { clock.now } }) { store, _ in
      let alice = key("alice")
      let first = try await store.recordEvent(for: alice, type: .normal, reason: "Created", message: "container started")
      #expect(first.count == 1)
      clock.advance(5)
      try await store.recordEvent(for: alice, type: .warning, reason: "BackendFailed", message: "docker: no such image")
      clock.advance(5)
      let repeated = try await store.recordEvent(for: alice, type: .normal, reason: "Created", message: "container started")
      #expect(repeated.count == 2)
      #expect(repeated.firstTimestamp == first.firstTimestamp)
      #expect(repeated.lastTimestamp.timeIntervalSince(first.firstTimestamp) == 10)
      clock.advance(5)
      let third = try await store.recordEvent(for: alice, type: .normal, reason: "Created", message: "container started")
      #expect(third.count == 3)
      // Same reason, other message: a new event.
      try await store.recordEvent(for: alice, type: .normal, reason: "Created", message: "container started again")
      // Other objects are separate.
      try await store.recordEvent(for: key("bob"), type: .normal, reason: "Created", message: "container started")

      let events = try await store.events(for: alice)
      #expect(events.map(\.reason) == ["BackendFailed", "Created", "Created"])
      #expect(events.map(\.count) == [1, 3, 1])
      #expect(events[1].message == "container started")
      #expect(events[1].lastTimestamp == clock.now)
      #expect(events[0].type == .warning)
      #expect(try await store.events(for: key("bob")).count == 1)
      // Events take no revisions.
      #expect(store.currentRevision == 0)
    }
  }

  @Test func retentionIsBounded() async throws {
    let clock = ManualClock()
    try await withStore({ configuration in
      configuration.clock = { clock.now }
      configuration.eventRetention.maximumPerObject = 5
      configuration.eventRetention.maximumTotal = 8
      configuration.eventRetention.maximumAge = .seconds(3600)
    }) { store, _ in
      for index in 0..<9 {
        clock.advance(1)
        try await store.recordEvent(for: key("alice"), type: .normal, reason: "Step", message: "step \(index)")
      }
      let kept = try await store.events(for: key("alice"))
      #expect(kept.map(\.message) == (4..<9).map { "step \($0)" })

      for index in 0..<5 {
        clock.advance(1)
        try await store.recordEvent(for: key("bob"), type: .normal, reason: "Step", message: "step \(index)")
      }
      // 10 events; the total cap is 8, applied by pruning.
      #expect(try await store.pruneEvents() == 2)
      #expect(try await store.events(for: key("alice")).map(\.message) == (6..<9).map { "step \($0)" })

      clock.advance(3601)
      try await store.recordEvent(for: key("carol"), type: .normal, reason: "Step", message: "fresh")
      #expect(try await store.pruneEvents() == 8)
      #expect(try await store.events(for: key("alice")).isEmpty)
      #expect(try await store.events(for: key("carol")).count == 1)
    }
  }

  @Test func longMessagesAreTruncatedAndReasonsRequired() async throws {
    try await withStore { store, _ in
      let event = try await store.recordEvent(for: key("a"), type: .normal, reason: "Big",
        message: String(repeating: "é", count: 5000))
      #expect(event.message.utf8.count <= Store.maximumEventMessageBytes)
      #expect(event.message.hasSuffix("…"))
      #expect(await storeError {
        try await store.recordEvent(for: key("a"), type: .normal, reason: "", message: "x")
      }?.code == .invalid)
    }
  }
  /// Reconcilers record Events without waiting: the Event must still commit no later than the
  /// caller's next awaited write (whoever sees that write sees the Event), and a refused Event
  /// is reported to the callback, not lost silently.
  @Test func anEventRecordedWithoutWaitingCommitsWithTheCallersNextWrite() async throws {
    try await withStore { store, _ in
      let failures = Shared<[StoreError]>([])
      for index in 0..<50 {
        store.recordEventWithoutWaiting(for: key("w\(index)"), type: .normal, reason: "Created", message: "instance \(index)") {
          error in failures.update { $0.append(error) }
        }
        try await store.create(object("w\(index)"))
        // The object is visible: so is its Event.
        let events = try await store.events(for: key("w\(index)"))
        #expect(events.map(\.reason) == ["Created"], "Worker \(index)")
      }
      store.recordEventWithoutWaiting(for: key("w0"), type: .normal, reason: "", message: "no reason") { error in
        failures.update { $0.append(error) }
      }
      #expect(failures.value.map(\.code) == [.invalid])
      await store.close()
      store.recordEventWithoutWaiting(for: key("w0"), type: .normal, reason: "Late", message: "after close") { error in
        failures.update { $0.append(error) }
      }
      #expect(failures.value.map(\.code) == [.invalid, .closed])
    }
  }
}
