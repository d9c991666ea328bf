import Foundation
import Synchronization
import Testing

@testable import Store

/// A fresh directory under the system temp dir, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-store-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: url) }
  return try await body(url)
}

/// A store in a fresh data directory (`<tmp>/data`), closed afterwards.
func withStore<T>(
  _ configure: (inout StoreConfiguration) -> Void = { _ in },
  _ body: (Store, StoreConfiguration) async throws -> T
) async throws -> T {
  try await withTemporaryDirectory { directory in
    var configuration = StoreConfiguration(directory: directory.appendingPathComponent("data"))
    configure(&configuration)
    let store: Store
    do {
      store = try Store(configuration: configuration)
    } catch let error as StoreError {
      Issue.record("opening the store failed: \(error) [\(error.underlying ?? "")]")
      throw error
    }
    do {
      let result = try await body(store, configuration)
      await store.close()
      return result
    } catch {
      await store.close()
      throw error
    }
  }
}

func key(_ name: String, kind: String = "workers", namespace: String = "default") -> ObjectKey {
  ObjectKey(kind: kind, namespace: namespace, name: name)
}

func json(_ text: String) throws -> CanonicalJSON { try CanonicalJSON(parsing: text) }

func object(
  _ name: String, kind: String = "workers", namespace: String = "default", spec: String = #"{"model":"qwen"}"#,
  labels: [String: String] = [:], finalizers: [String] = []
) throws -> StoredObject {
  StoredObject(key: key(name, kind: kind, namespace: namespace), labels: labels, finalizers: finalizers, spec: try json(spec))
}

/// Runs `body` and returns the `StoreError` it throws; records an issue if it does not throw one.
func storeError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async
  -> StoreError?
{
  do {
    try await body()
    Issue.record("expected a StoreError, nothing was thrown", sourceLocation: sourceLocation)
    return nil
  } catch let error as StoreError {
    return error
  } catch {
    Issue.record("expected a StoreError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// Collects watch events until `stop` says so, failing the test (instead of hanging) after
/// `timeout`.
func collect(
  _ watch: Watch, timeout: Duration = .seconds(60), until stop: @escaping @Sendable (WatchEvent) -> Bool
) async throws -> [WatchEvent] {
  try await withThrowingTaskGroup(of: [WatchEvent]?.self) { group in
    group.addTask {
      var events: [WatchEvent] = []
      for try await event in watch {
        events.append(event)
        if stop(event) { return events }
      }
      return events
    }
    group.addTask {
      try await Task.sleep(for: timeout)
      return nil
    }
    let first = try await group.next()!
    group.cancelAll()
    guard let events = first else {
      Issue.record("the watch did not deliver the expected events within \(timeout)")
      return []
    }
    return events
  }
}

/// Every byte of every file in `directory` (the database, its WAL, the key …).
func allBytes(in directory: URL) throws -> [(String, Data)] {
  try FileManager.default.contentsOfDirectory(atPath: directory.path).map { name in
    (name, try Data(contentsOf: directory.appendingPathComponent(name)))
  }
}

extension Data {
  func contains(_ needle: Data) -> Bool { range(of: needle) != nil }
}

/// A value shared between test tasks.
final class Shared<Value: Sendable>: Sendable {
  private let storage: Mutex<Value>
  init(_ value: Value) { storage = Mutex(value) }
  var value: Value { storage.withLock { $0 } }
  func update(_ body: (inout Value) -> Void) { storage.withLock { body(&$0) } }
}

/// Compares revision sequences and reports the first difference briefly (a full dump of two
/// 1,600-element arrays helps nobody).
func expectRevisions(
  _ received: [Int64], _ expected: [Int64], _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  guard received != expected else { return }
  let index = (0..<min(received.count, expected.count)).first { received[$0] != expected[$0] }
    ?? min(received.count, expected.count)
  let got = index < received.count ? "\(received[index])" : "the end"
  let wanted = index < expected.count ? "\(expected[index])" : "the end"
  Issue.record(
    "\(context): \(received.count) events, expected \(expected.count); first difference at position \(index): got \(got), expected \(wanted) (previous: \(index > 0 ? "\(received[index - 1])" : "none"))",
    sourceLocation: sourceLocation)
}
