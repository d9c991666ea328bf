import Foundation
import GRDB
import Synchronization

/// One entry of the object log: what happened to an object at one revision.
public struct WatchEvent: Sendable, Hashable {
  public enum EventType: String, Sendable, Hashable, Codable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
  }

  public var type: EventType
  /// The object after the change; for `DELETED`, its last state with `resourceVersion` set to
  /// the deletion's revision.
  public var object: StoredObject

  /// The revision of this event (the object's `resourceVersion`).
  public var revision: Int64 { object.resourceVersion }

  public init(type: EventType, object: StoredObject) {
    self.type = type
    self.object = object
  }
}

/// A watch: every event after a revision, first replayed from the object log, then live, in
/// revision order, with no gap and no duplicate. Returned by ``Store/watch(kind:fromRevision:)``.
///
/// Iterate it once, from one task (`for try await event in watch`). The sequence ends (returns
/// `nil`) when the store closes or the iterating task is cancelled; it throws
/// ``StoreError/Code-swift.struct/revisionCompacted`` if compaction removes history the replay
/// still needed, and ``StoreError/Code-swift.struct/watchTooSlow`` if the consumer falls more
/// than ``StoreConfiguration/watchBufferLimit`` events behind the writers. After either error,
/// or after the stream ends, resume with a new watch from the last revision processed: nothing
/// is lost.
///
/// Dropping the sequence and its iterator unsubscribes.
///
/// How the no-gap guarantee works: subscribing records the last revision published to live
/// watchers, `P`, under the broadcaster's lock; everything after `P` is queued for this watch
/// by the writer (which publishes only after commit, in revision order); the replay reads
/// `(fromRevision, P]` from the log, which is entirely committed. The two ranges meet exactly.
public struct Watch: AsyncSequence, Sendable {
  public typealias Element = WatchEvent
  public typealias Failure = StoreError

  let subscription: WatchSubscription

  public func makeAsyncIterator() -> Iterator { Iterator(subscription: subscription) }

  public struct Iterator: AsyncIteratorProtocol, Sendable {
    public typealias Element = WatchEvent
    public typealias Failure = StoreError

    let subscription: WatchSubscription
    private var buffer: [WatchEvent]
    private var index = 0

    init(subscription: WatchSubscription) {
      self.subscription = subscription
      self.buffer = subscription.takeFirstPage()
    }

    public mutating func next() async throws(StoreError) -> WatchEvent? {
      while true {
        if index < buffer.count {
          defer { index += 1 }
          return buffer[index]
        }
        buffer.removeAll(keepingCapacity: true)
        index = 0
        guard let more = try await subscription.nextEvents() else { return nil }
        buffer = more
      }
    }

    public mutating func next(isolation actor: isolated (any Actor)?) async throws(StoreError) -> WatchEvent? {
      try await next()
    }
  }
}

/// The state of one watch: the replay cursor, and the live queue the broadcaster fills.
///
/// Ownership: held by the ``Watch`` and its iterator; the ``Broadcaster`` holds only the
/// ``WatchSink``. Dropping the last reference unsubscribes.
final class WatchSubscription: Sendable {
  private struct Replay {
    var cursor: Int64
    var done: Bool
    var firstPage: [WatchEvent]
  }

  let sink: WatchSink
  private let broadcaster: Broadcaster
  private let reader: LogReader
  /// The replay covers `(fromRevision, upperBound]`; the sink gets everything after.
  private let upperBound: Int64
  private let replay: Mutex<Replay>

  init(sink: WatchSink, broadcaster: Broadcaster, reader: LogReader, fromRevision: Int64, upperBound: Int64,
    firstPage: [WatchEvent], replayDone: Bool)
  {
    self.sink = sink
    self.broadcaster = broadcaster
    self.reader = reader
    self.upperBound = upperBound
    self.replay = Mutex(Replay(cursor: firstPage.last?.revision ?? fromRevision, done: replayDone, firstPage: firstPage))
  }

  deinit { broadcaster.remove(sink) }

  func takeFirstPage() -> [WatchEvent] {
    replay.withLock { replay in
      defer { replay.firstPage = [] }
      return replay.firstPage
    }
  }

  /// The next events in order: a page of the replay while it lasts, then live batches; `nil`
  /// at the end of the stream.
  func nextEvents() async throws(StoreError) -> [WatchEvent]? {
    let (cursor, done) = replay.withLock { ($0.cursor, $0.done) }
    if !done {
      if Task.isCancelled || sink.isFinished { return nil }
      let page: LogReader.Page
      do throws(StoreError) {
        page = try await reader.page(kind: sink.kind, after: cursor, upTo: upperBound)
      } catch {
        if error.code == .cancelled { return nil }
        throw error
      }
      replay.withLock { replay in
        if let last = page.events.last { replay.cursor = last.revision }
        replay.done = page.isLast
      }
      if !page.events.isEmpty { return page.events }
      if !page.isLast { return [] }
    }
    return try await sink.take()
  }
}

/// Reads pages of the object log for replays.
struct LogReader: Sendable {
  let pool: DatabasePool
  let pageSize: Int

  struct Page {
    var events: [WatchEvent]
    var isLast: Bool
  }

  /// Events with `after < revision <= upTo`, of `kind` if given, oldest first, at most a page.
  /// Fails with `revisionCompacted` if revision `after + 1` is gone, checked in the same read
  /// transaction as the rows.
  func page(kind: String?, after: Int64, upTo: Int64) async throws(StoreError) -> Page {
    let pageSize = self.pageSize
    do {
      return try await pool.read { db in
        let compactedBefore = try Int64.fetchOne(db.cachedStatement(sql: "SELECT compacted_before FROM store_meta")) ?? 1
        if after + 1 < compactedBefore { throw StoreError.compacted(requested: after, oldest: compactedBefore) }
        if after >= upTo { return Page(events: [], isLast: true) }
        let statement: RawStatement
        if let kind {
          statement = try RawStatement(db, """
            SELECT \(LogRow.columns) FROM object_log WHERE kind = ? AND revision > ? AND revision <= ?
            ORDER BY revision LIMIT ?
            """)
          statement.bind(1, kind)
          statement.bind(2, after)
          statement.bind(3, upTo)
          statement.bind(4, Int64(pageSize))
        } else {
          statement = try RawStatement(db,
            "SELECT \(LogRow.columns) FROM object_log WHERE revision > ? AND revision <= ? ORDER BY revision LIMIT ?")
          statement.bind(1, after)
          statement.bind(2, upTo)
          statement.bind(3, Int64(pageSize))
        }
        defer { statement.reset() }
        var events: [WatchEvent] = []
        while try statement.step() { events.append(try LogRow.decode(statement)) }
        return Page(events: events, isLast: events.count < pageSize)
      }
    } catch {
      throw StoreError.database(error, while: "reading the object log for a watch")
    }
  }
}

/// The live end of one watch: a queue the broadcaster appends to (under its lock, in revision
/// order) and the watch's iterator drains.
final class WatchSink: Sendable {
  private struct State {
    var queue: [WatchEvent] = []
    var waiter: CheckedContinuation<Void, Never>?
    var finished = false
    var failure: StoreError?
  }

  let id: Int
  let kind: String?
  /// Only events after this revision are queued.
  let after: Int64
  private let limit: Int
  private let state = Mutex(State())

  init(id: Int, kind: String?, after: Int64, limit: Int) {
    self.id = id
    self.kind = kind
    self.after = after
    self.limit = limit
  }

  /// Called by the broadcaster, under its lock, with events in revision order.
  func deliver(_ events: [WatchEvent]) {
    let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
      guard !state.finished, state.failure == nil else { return nil }
      var added = false
      for event in events where event.revision > after && (kind == nil || event.object.key.kind == kind) {
        state.queue.append(event)
        added = true
      }
      guard added else { return nil }
      if state.queue.count > limit {
        state.queue = []
        state.failure = StoreError(.watchTooSlow,
          "the watcher fell more than \(limit) events behind the writers",
          fix: "watch again from the last revision you processed (nothing was lost), and consume events faster")
      }
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// Whether the store closed.
  var isFinished: Bool { state.withLock { $0.finished } }

  /// Ends the stream after what is queued (store closed).
  func finish() {
    let waiter = state.withLock { state in
      state.finished = true
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume()
  }

  /// Waits for queued events; `nil` once finished or cancelled.
  func take() async throws(StoreError) -> [WatchEvent]? {
    while true {
      let outcome: Result<[WatchEvent]?, StoreError>? = state.withLock { state in
        if let failure = state.failure { return .failure(failure) }
        if !state.queue.isEmpty {
          defer { state.queue = [] }
          return .success(state.queue)
        }
        if state.finished { return .success(nil) }
        return nil
      }
      if let outcome { return try outcome.get() }
      if Task.isCancelled { return nil }
      await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
          let resumeNow = state.withLock { state in
            if state.failure != nil || !state.queue.isEmpty || state.finished || Task.isCancelled { return true }
            state.waiter = continuation
            return false
          }
          if resumeNow { continuation.resume() }
        }
      } onCancel: {
        let waiter = state.withLock { state in
          defer { state.waiter = nil }
          return state.waiter
        }
        waiter?.resume()
      }
      if Task.isCancelled { return nil }
    }
  }
}

/// Fans committed events out to live watchers.
///
/// Threading: ``publish(_:)`` is called only by the write queue's drain, after each commit, in
/// revision order; ``subscribe(kind:after:limit:)`` from any task. Both take the same lock, which
/// is what makes the replay/live hand-over exact (see ``Watch``).
final class Broadcaster: Sendable {
  private struct State {
    var lastPublished: Int64
    var sinks: [Int: WatchSink] = [:]
    var nextID = 0
    var closed = false
  }

  private let state: Mutex<State>

  init(lastPublished: Int64) { state = Mutex(State(lastPublished: lastPublished)) }

  func publish(_ events: [WatchEvent]) {
    guard let last = events.last else { return }
    state.withLock { state in
      state.lastPublished = last.revision
      for sink in state.sinks.values { sink.deliver(events) }
    }
  }

  /// Registers a sink for events after `max(after, P)` and returns it with `P`, the last
  /// revision published so far; `nil` once closed.
  func subscribe(kind: String?, after: Int64, limit: Int) -> (sink: WatchSink, lastPublished: Int64)? {
    state.withLock { state in
      guard !state.closed else { return nil }
      let sink = WatchSink(id: state.nextID, kind: kind, after: max(after, state.lastPublished), limit: limit)
      state.nextID += 1
      state.sinks[sink.id] = sink
      return (sink, state.lastPublished)
    }
  }

  func remove(_ sink: WatchSink) {
    _ = state.withLock { $0.sinks.removeValue(forKey: sink.id) }
  }

  /// Ends every watch (after the events already queued) and refuses new ones.
  func close() {
    let sinks = state.withLock { state in
      state.closed = true
      defer { state.sinks = [:] }
      return Array(state.sinks.values)
    }
    for sink in sinks { sink.finish() }
  }
}
