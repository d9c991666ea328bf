import Synchronization

/// The current state of every object, in memory: what ``Store/get(_:)``, ``Store/find(_:)`` and
/// ``Store/list(kind:namespace:labelSelector:)`` answer from.
///
/// Why: a point read through SQLite costs a hop to a reader connection's queue and back plus the
/// row decoding (≈ 80 µs for a 6 µs SQLite read, measured in `Benchmarks/RESULTS.md`, BM2), and
/// reads are the API's and the controllers' most frequent operation. The Kubernetes API server
/// keeps the same thing (its watch cache); hiclaw's scale is thousands of objects, a few MiB.
///
/// Consistency: the cache is the fold of the object log. It is loaded with the revision it was
/// read at when the store opens, and afterwards changed only by ``apply(_:revision:)``, which the
/// write queue calls with each committed batch's events **after the commit and before any
/// caller of the batch resumes** — so a write is visible to reads as soon as it returns
/// (read-your-writes), and a list's revision always matches its items exactly (watching from it
/// continues with no gap and no duplicate). Every object write appends a log row and publishes
/// its event in the same transaction (``Store``'s invariant), so no change can bypass it.
///
/// Threading: a mutex around the maps; readers copy out values (copy-on-write, no deep copy).
final class ObjectCache: Sendable {
  private struct State {
    /// kind → key → object: a list touches only its kind.
    var objects: [String: [ObjectKey: StoredObject]] = [:]
    /// The revision the maps reflect.
    var revision: Int64
  }

  private let state: Mutex<State>

  init(objects: [StoredObject], revision: Int64) {
    var state = State(revision: revision)
    for object in objects { state.objects[object.kind, default: [:]][object.key] = object }
    self.state = Mutex(state)
  }

  /// The revision the cache reflects.
  var revision: Int64 { state.withLock { $0.revision } }

  /// Applies one committed batch: `ADDED`/`MODIFIED` store the object, `DELETED` removes it.
  func apply(_ events: [WatchEvent], revision: Int64) {
    state.withLock { state in
      for event in events {
        let object = event.object
        switch event.type {
        case .added, .modified: state.objects[object.kind, default: [:]][object.key] = object
        case .deleted: state.objects[object.kind]?[object.key] = nil
        }
      }
      state.revision = max(state.revision, revision)
    }
  }

  func object(_ key: ObjectKey) -> StoredObject? {
    state.withLock { $0.objects[key.kind]?[key] }
  }

  /// Objects of `kind` (in `namespace` if given) matching `selector`, sorted by namespace then
  /// name in UTF-8 byte order (SQLite's `BINARY` collation, which the store used before), and
  /// the revision they reflect.
  func list(kind: String, namespace: String?, selector: LabelSelector?) -> ObjectList {
    let (candidates, revision) = state.withLock { state in
      (state.objects[kind].map { Array($0.values) } ?? [], state.revision)
    }
    var items = candidates.filter { object in
      (namespace == nil || object.namespace == namespace) && (selector?.matches(object.labels) ?? true)
    }
    items.sort { left, right in
      if left.namespace != right.namespace { return left.namespace.utf8.lexicographicallyPrecedes(right.namespace.utf8) }
      return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
    }
    return ObjectList(items: items, resourceVersion: revision)
  }
}
