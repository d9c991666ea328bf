import Foundation
import Hummingbird
import Logging
import Model
import ResourceStore
import ServiceLifecycle
import Store
import Synchronization

extension APIServer {
  /// The longest `timeoutSeconds` a watch may ask for (a day).
  static let maximumWatchTimeout: Int64 = 86_400

  /// `GET /api/v1/{plural}?watch=1[&resourceVersion=N][&timeoutSeconds=S]`.
  ///
  /// Everything that can fail before the stream starts does so with a status code: a bad query
  /// is 400, a compacted `resourceVersion` 410 (the store checks the horizon when the watch is
  /// opened). After the 200, failures are `ERROR` lines and the stream ends.
  func watch(_ call: Call, kind: Kind) async throws -> Response {
    if call.query("labelSelector") != nil {
      throw APIError.badRequest("labelSelector is not supported with watch: watch everything and filter, or list with it",
        field: "labelSelector")
    }
    var timeout: Duration?
    if let text = call.query("timeoutSeconds") {
      guard let seconds = Int64(text), seconds > 0, seconds <= Self.maximumWatchTimeout else {
        throw APIError.badRequest("timeoutSeconds: expected 1 to \(Self.maximumWatchTimeout), got \(text.debugDescription)",
          field: "timeoutSeconds")
      }
      timeout = .seconds(seconds)
    }
    let watch: Watch
    let initial: [StoredObject]
    let start: Int64
    if let text = call.query("resourceVersion"), !text.isEmpty {
      guard let revision = Int64(text), revision >= 0, text.allSatisfy(\.isASCII) else {
        throw APIError.badRequest("resourceVersion: expected a revision the host returned (a decimal), got \(text.debugDescription)",
          field: "resourceVersion")
      }
      // 0 means "all the history there is": after compaction, from the oldest revision kept.
      let from = revision == 0 ? max(0, try await store.oldestAvailableRevision() - 1) : revision
      watch = try await store.watch(kind: kind.rawValue, fromRevision: from)
      initial = []
      start = from
    } else {
      // One ADDED per existing object, then the changes after the list: the list and the watch
      // meet at the list's revision, so nothing is missed or repeated.
      let list = try await store.list(kind: kind.rawValue, namespace: ObjectMeta.defaultNamespace)
      watch = try await store.watch(kind: kind.rawValue, fromRevision: list.resourceVersion)
      initial = list.items
      start = list.resourceVersion
    }
    let stream = WatchStream(
      watch: watch, initial: initial, startRevision: start, bookmarkInterval: configuration.bookmarkInterval,
      timeout: timeout, logger: call.logger, queueLimit: configuration.watchQueueLimit)
    var headers = HTTPFields()
    headers[.contentType] = WatchStream.contentType
    headers[.cacheControl] = "no-cache"
    return Response(status: .ok, headers: headers, body: ResponseBody { writer in try await stream.run(into: &writer) })
  }
}

/// One watch response: optional initial `ADDED` lines, then the store's events as JSON lines,
/// with a `BOOKMARK` after every ``bookmarkInterval`` of silence.
///
/// Threading: ``run(into:)`` runs in the task writing the response. Inside, one child task
/// drains the store's ``Watch`` into a queue, one sends bookmarks when the stream has been quiet,
/// one (optionally) ends the stream after the timeout; the calling task alone writes, so lines
/// never interleave.
///
/// Ends when: the client goes away (a write fails), the timeout passes, the store closes, the
/// server shuts down gracefully, or the watch fails (an `ERROR` line first: 410 `Expired` when
/// compaction overtook it, 503 `Unavailable` when the store ended a watcher that fell too far
/// behind the live events — reconnect with the last `resourceVersion` received; nothing is lost
/// either way).
///
/// Flow control: at most ``queueLimit`` events wait between the store and the writer; when that
/// many are queued, the drain waits for the writer. A replay of a long history (read from the
/// log page by page) therefore goes at the client's pace, however large it is, and only the
/// store's own bound on live events can end a slow client.
struct WatchStream: Sendable {
  static let contentType = "application/jsonl; charset=utf-8"
  /// Events queued between the store and the writer before the drain waits.
  static let defaultQueueLimit = 1_000

  let watch: Watch
  let initial: [StoredObject]
  /// The revision the stream starts after (the list's, or the client's `resourceVersion`).
  let startRevision: Int64
  let bookmarkInterval: Duration
  let timeout: Duration?
  let logger: Logger
  var queueLimit = WatchStream.defaultQueueLimit

  enum Item: Sendable {
    case event(WatchEvent)
    case bookmark
    case failed(APIError)
  }

  /// Writes the stream to `writer` until it ends (see the type's documentation).
  func run(into writer: inout any ResponseBodyWriter) async throws {
    var lastRevision = startRevision
    for object in initial {
      try await writer.write(try Self.line(type: "ADDED", object))
    }
    let (items, continuation) = AsyncStream<Item>.makeStream()
    let shared = Shared(limit: queueLimit)
    let interval = bookmarkInterval
    let timeout = self.timeout
    let watch = self.watch

    try await withGracefulShutdownHandler {
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
          do {
            for try await event in watch {
              guard await shared.reserve() else { break }
              continuation.yield(.event(event))
            }
          } catch {
            continuation.yield(.failed(APIError(error)))
          }
          continuation.finish()
        }
        group.addTask {
          while !Task.isCancelled {
            let deadline = shared.lastWrite.withLock { $0 } + interval
            do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
            let due = shared.lastWrite.withLock { last in
              let now = ContinuousClock.now
              guard now - last >= interval else { return false }
              last = now
              return true
            }
            if due { continuation.yield(.bookmark) }
          }
        }
        if let timeout {
          group.addTask {
            do { try await Task.sleep(for: timeout) } catch { return }
            continuation.finish()
          }
        }
        stream: for await item in items {
          switch item {
          case .event(let event):
            shared.release()
            // The API serves the default namespace only (as list and get do).
            guard event.object.namespace == ObjectMeta.defaultNamespace else { continue }
            try await writer.write(try Self.line(type: event.type.rawValue, event.object))
            lastRevision = event.revision
          case .bookmark:
            try await writer.write(try Self.line(
              WatchLine(type: "BOOKMARK", object: Bookmark(metadata: .init(resourceVersion: String(lastRevision))))))
          case .failed(let error):
            logger.debug("watch ended: \(error.message)")
            try await writer.write(try Self.line(WatchLine(type: "ERROR", object: error.body)))
            break stream
          }
          shared.lastWrite.withLock { $0 = ContinuousClock.now }
        }
        group.cancelAll()
      }
    } onGracefulShutdown: {
      continuation.finish()
    }
    try await writer.finish(nil)
  }

  /// State shared by the writing task and its helpers.
  final class Shared: Sendable {
    /// When a line was last written (bookmarks are due an interval after it).
    let lastWrite = Mutex(ContinuousClock.now)
    private struct Queue {
      /// Events taken from the store and not yet written.
      var queued = 0
      /// The drain, waiting for room.
      var waiter: CheckedContinuation<Bool, Never>?
      var cancelled = false
    }
    private let queue = Mutex(Queue())
    private let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// Counts one more queued event, waiting while the queue is full; false once the stream is
    /// ending (the drain task was cancelled), so the drain stops.
    func reserve() async -> Bool {
      await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
          let answer: Bool? = queue.withLock { queue in
            if queue.cancelled { return false }
            if queue.queued < limit {
              queue.queued += 1
              return true
            }
            queue.waiter = continuation
            return nil
          }
          if let answer { continuation.resume(returning: answer) }
        }
      } onCancel: {
        let waiter = queue.withLock { queue in
          queue.cancelled = true
          defer { queue.waiter = nil }
          return queue.waiter
        }
        waiter?.resume(returning: false)
      }
    }

    /// One queued event was written: room for the waiting drain, if any.
    func release() {
      let waiter = queue.withLock { queue -> CheckedContinuation<Bool, Never>? in
        guard let waiter = queue.waiter else {
          queue.queued -= 1
          return nil
        }
        // The room goes straight to the waiting drain: the count stays.
        queue.waiter = nil
        return waiter
      }
      waiter?.resume(returning: true)
    }
  }

  struct WatchLine<Object: Encodable>: Encodable {
    var type: String
    var object: Object
  }

  /// The `BOOKMARK` object: the revision of the last event sent (or the start revision). Only
  /// that revision is known to be complete for this stream, so it is what a client may
  /// reconnect from.
  struct Bookmark: Encodable {
    struct Metadata: Encodable { var resourceVersion: String }
    var metadata: Metadata
  }

  /// `{"object":…,"type":…}` and a newline (keys sorted like every response).
  static func line(type: String, _ object: StoredObject) throws -> ByteBuffer {
    var out: [UInt8] = []
    out.append(contentsOf: #"{"object":"#.utf8)
    out.append(contentsOf: try object.apiJSON())
    out.append(contentsOf: #","type":"#.utf8)
    CanonicalJSON.appendString(type, to: &out)
    out.append(contentsOf: "}\n".utf8)
    return ByteBuffer(bytes: out)
  }

  static func line(_ value: some Encodable) throws -> ByteBuffer {
    var data = try JSONResponse.encode(value)
    data.append(UInt8(ascii: "\n"))
    return ByteBuffer(bytes: data)
  }
}
