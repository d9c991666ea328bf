import Foundation
import Hummingbird
import Logging
import Model
import Store
import Testing

@testable import APIServer

/// Collects a streamed response body line by line.
struct LineWriter: ResponseBodyWriter {
  let continuation: AsyncStream<String>.Continuation
  var pending = ""

  mutating func write(_ buffer: ByteBuffer) async throws {
    pending += String(buffer: buffer)
    while let newline = pending.firstIndex(of: "\n") {
      continuation.yield(String(pending[..<newline]))
      pending = String(pending[pending.index(after: newline)...])
    }
  }

  consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
    continuation.finish()
  }
}

/// Lines a slow client received.
final class SlowLineCollector: @unchecked Sendable {
  private let lock = NSLock()
  private var collected: [String] = []
  var lines: [String] { lock.withLock { collected } }
  func append(_ line: String) -> Int { lock.withLock { collected.append(line); return collected.count } }
}

struct StopWriting: Error {}

/// A client that takes a millisecond per line and hangs up after `stopAfter` lines.
struct SlowLineWriter: ResponseBodyWriter {
  let collector: SlowLineCollector
  let stopAfter: Int
  var pending = ""

  mutating func write(_ buffer: ByteBuffer) async throws {
    pending += String(buffer: buffer)
    while let newline = pending.firstIndex(of: "\n") {
      let line = String(pending[..<newline])
      pending = String(pending[pending.index(after: newline)...])
      try await Task.sleep(for: .milliseconds(1))
      // An ERROR line ends the stream by itself; so does a hang-up after the expected lines.
      if collector.append(line) >= stopAfter || line.contains(#""type":"ERROR""#) { throw StopWriting() }
    }
  }

  consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// A watch running in the background; its lines arrive as they are written.
struct LiveWatch {
  let response: Response
  let task: Task<Void, any Error>
  var lines: AsyncStream<String>.AsyncIterator

  /// Opens `path` on the server directly (the router test client only returns whole bodies).
  init(_ api: Harness, _ path: String) async throws {
    var fields = HTTPFields()
    fields[.authorization] = "Bearer \(api.admin)"
    let request = Request(
      head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: path, headerFields: fields),
      body: RequestBody(buffer: ByteBuffer()))
    var logger = Logger(label: "watch-test")
    logger.logLevel = .critical
    let response = await api.server.handle(request, logger: logger)
    let (stream, continuation) = AsyncStream<String>.makeStream()
    self.response = response
    self.lines = stream.makeAsyncIterator()
    let body = response.body
    task = Task { try await body.write(LineWriter(continuation: continuation)) }
  }

  /// The next line as JSON; `nil` when the stream ended.
  mutating func next() async -> JSONNode? {
    guard let line = await lines.next() else { return nil }
    return try? JSONNode.parse(Data(line.utf8))
  }

  func stop() { task.cancel() }
}

extension JSONNode {
  /// `TYPE name@revision` of a watch line, for compact expectations.
  var event: String {
    let type = self["type"]?.stringValue ?? "?"
    let object = self["object"]
    if type == "BOOKMARK" || type == "ERROR" { return type }
    return "\(type) \(object?["metadata"]?["name"]?.stringValue ?? "?")@\(object?.resourceVersion ?? -1)"
  }
}

@Suite("Watch", .timeLimit(.minutes(1)))
struct WatchTests {
  @Test("from a revision: exactly the later events, in order, then live ones")
  func replayThenLive() async throws {
    try await withAPI { api in
      let a = try await api.post("/api/v1/workers", Doc.worker("a")).json.resourceVersion!
      let b = try await api.post("/api/v1/workers", Doc.worker("b")).json.resourceVersion!
      _ = try await api.post("/api/v1/teams", Doc.team("t"))  // another kind: not in the stream
      let c = try await api.post("/api/v1/workers", Doc.worker("c")).json.resourceVersion!
      let a2 = try await api.put("/api/v1/workers/a", Doc.worker("a", model: "m2")).json.resourceVersion!
      #expect(a < b && b < c && c < a2)

      var watch = try await LiveWatch(api, "/api/v1/workers?watch=1&resourceVersion=\(b)")
      defer { watch.stop() }
      #expect(watch.response.status == .ok)
      #expect(watch.response.headers[.contentType]?.hasPrefix("application/jsonl") == true)
      #expect(await watch.next()?.event == "ADDED c@\(c)")
      #expect(await watch.next()?.event == "MODIFIED a@\(a2)")

      let d = try await api.post("/api/v1/workers", Doc.worker("d")).json.resourceVersion!
      #expect(await watch.next()?.event == "ADDED d@\(d)")
      let deleted = try await api.delete("/api/v1/workers/d")
      let marked = try #require(deleted.json.resourceVersion)
      #expect(await watch.next()?.event == "MODIFIED d@\(marked)")
      let removed = try await api.store.removeFinalizer(ObjectKey(.worker, "d"), ObjectMeta.cleanupFinalizer)
      let line = await watch.next()
      #expect(line?.event == "DELETED d@\(removed.object.resourceVersion)")
      #expect(line?["object"]?["kind"]?.stringValue == "Worker")
    }
  }

  @Test("without resourceVersion: one ADDED per object, then changes")
  func initialList() async throws {
    try await withAPI { api in
      _ = try await api.post("/api/v1/humans", Doc.human("x"))
      _ = try await api.post("/api/v1/humans", Doc.human("y"))
      var watch = try await LiveWatch(api, "/api/v1/humans?watch=true")
      defer { watch.stop() }
      #expect(await watch.next()?.event.hasPrefix("ADDED x@") == true)
      #expect(await watch.next()?.event.hasPrefix("ADDED y@") == true)
      let z = try await api.post("/api/v1/humans", Doc.human("z")).json.resourceVersion!
      #expect(await watch.next()?.event == "ADDED z@\(z)")
    }
  }

  /// A replay longer than the stream's queue goes at the reader's pace: a client that reads
  /// slowly gets every event, not an ERROR (it used to be cut off after 10,000 queued events).
  @Test("a long replay to a slow reader is paced, not cut off")
  func slowReaderGetsTheWholeReplay() async throws {
    try await withAPI(configure: { $0.watchQueueLimit = 4 }) { api in
      let names = (0..<120).map { "w\($0)" }
      for name in names { _ = try await api.post("/api/v1/workers", Doc.worker(name)) }
      var fields = HTTPFields()
      fields[.authorization] = "Bearer \(api.admin)"
      let request = Request(
        head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/api/v1/workers?watch=1&resourceVersion=0",
          headerFields: fields),
        body: RequestBody(buffer: ByteBuffer()))
      var logger = Logger(label: "watch-test")
      logger.logLevel = .critical
      let response = await api.server.handle(request, logger: logger)
      let lines = SlowLineCollector()
      let writing = Task { try await response.body.write(SlowLineWriter(collector: lines, stopAfter: names.count)) }
      await #expect(throws: StopWriting.self) { try await writing.value }
      let events = lines.lines.map { (try? JSONNode.parse(Data($0.utf8)))?.event ?? "?" }
      #expect(events.count == names.count, "\(events.suffix(3))")
      #expect(events.map { $0.split(separator: " ").dropFirst().first.map { String($0.split(separator: "@")[0]) } ?? "" } == names)
      #expect(!events.contains("ERROR"))
    }
  }

  @Test("a BOOKMARK with the last revision after a quiet interval")
  func bookmark() async throws {
    try await withAPI(configure: { $0.bookmarkInterval = .milliseconds(50) }) { api in
      let a = try await api.post("/api/v1/workers", Doc.worker("a")).json.resourceVersion!
      var watch = try await LiveWatch(api, "/api/v1/workers?watch=1&resourceVersion=0")
      defer { watch.stop() }
      #expect(await watch.next()?.event == "ADDED a@\(a)")
      let bookmark = await watch.next()
      #expect(bookmark?["type"]?.stringValue == "BOOKMARK")
      #expect(bookmark?["object"]?.resourceVersion == a)
    }
  }

  @Test("closing the store ends open streams")
  func endsOnClose() async throws {
    try await withAPI { api in
      let a = try await api.post("/api/v1/workers", Doc.worker("a")).json.resourceVersion!
      var watch = try await LiveWatch(api, "/api/v1/workers?watch=1&resourceVersion=0")
      #expect(await watch.next()?.event == "ADDED a@\(a)")
      await api.store.close()
      #expect(await watch.next() == nil)
      try await watch.task.value
    }
  }

  @Test("over HTTP: timeoutSeconds ends the stream; the body is JSON lines")
  func overHTTP() async throws {
    try await withAPI { api in
      let a = try await api.post("/api/v1/managers", Doc.manager("m")).json.resourceVersion!
      let reply = try await api.get("/api/v1/managers?watch=1&resourceVersion=\(a - 1)&timeoutSeconds=1")
      #expect(reply.code == 200)
      let lines = reply.text.split(separator: "\n").map { (try? JSONNode.parse(Data($0.utf8))) ?? .null }
      #expect(lines.map(\.event) == ["ADDED m@\(a)"])
    }
  }

  @Test("a compacted revision is 410 Expired before the stream starts")
  func expired() async throws {
    try await withAPI { api in
      for name in ["a", "b", "c"] { _ = try await api.post("/api/v1/workers", Doc.worker(name)) }
      try await api.store.compact(keepingLast: 1)
      let reply = try await api.get("/api/v1/workers?watch=1&resourceVersion=1")
      #expect(reply.code == 410, "\(reply)")
      #expect(reply.reason == "Expired")
      // 0 means "all the history there is": from the oldest revision kept.
      #expect(try await api.get("/api/v1/workers?watch=1&resourceVersion=0&timeoutSeconds=1").code == 200)
      // Watching from the current revision is fine.
      let current = api.store.currentRevision
      #expect(try await api.get("/api/v1/workers?watch=1&resourceVersion=\(current)&timeoutSeconds=1").code == 200)
    }
  }

  @Test("bad watch queries are 400", arguments: [
    "watch=maybe", "watch=1&resourceVersion=abc", "watch=1&resourceVersion=-1", "watch=1&labelSelector=a%3Db",
    "watch=1&timeoutSeconds=0", "watch=1&timeoutSeconds=x",
  ])
  func badQueries(query: String) async throws {
    try await withAPI { api in
      let reply = try await api.get("/api/v1/workers?\(query)")
      #expect(reply.code == 400, "\(query): \(reply)")
    }
  }
}
