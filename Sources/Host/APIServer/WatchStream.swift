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
      timeout: timeout, logger: call.logger)
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
/// compaction overtook it, 503 `Unavailable` when the client reads too slowly — reconnect with
/// the last `resourceVersion` received; nothing is lost either way).
struct WatchStream: Sendable {
  static let contentType = "application/jsonl; charset=utf-8"
  /// Most events queued between the store and a slow client before the stream is ended with an
  /// `ERROR` (so memory stays bounded, as the store bounds its own watch queues).
  static let maximumQueuedEvents = 10_000

  let watch: Watch
  let initial: [StoredObject]
  /// The revision the stream starts after (the list's, or the client's `resourceVersion`).
  let startRevision: Int64
  let bookmarkInterval: Duration
  let timeout: Duration?
  let logger: Logger

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
    let shared = Shared()
    let interval = bookmarkInterval
    let timeout = self.timeout
    let watch = self.watch

    try await withGracefulShutdownHandler {
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
          do {
            for try await event in watch {
              if shared.queued.add(1, ordering: .relaxed).newValue > Self.maximumQueuedEvents {
                continuation.yield(.failed(APIError(.unavailable,
                  "the client read the watch too slowly (more than \(Self.maximumQueuedEvents) events queued); "
                    + "watch again from the last resourceVersion received: nothing was lost")))
                break
              }
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
            shared.queued.subtract(1, ordering: .relaxed)
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
    /// Events taken from the store and not yet written.
    let queued = Atomic<Int>(0)
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
