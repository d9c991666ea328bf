import Foundation
import GRDB
import Testing

@testable import Store

/// Object reads are served from memory (`ObjectCache`); these tests hold it to the database.
@Suite("Object cache")
struct ObjectCacheTests {
  /// Every object as the `objects` table holds it, sorted like `list`.
  static func databaseObjects(_ store: Store, kind: String) async throws -> [StoredObject] {
    try await store.read("test") { db in
      let statement = try RawStatement(db, "SELECT \(ObjectRow.columns) FROM objects WHERE kind = ? ORDER BY namespace, name")
      statement.bind(1, kind)
      return try ObjectRow.decodeAll(statement)
    }
  }

  @Test("under concurrent writers, every write is readable when it returns and memory ends equal to the database")
  func concurrentWritersReadTheirWrites() async throws {
    try await withStore { store, configuration in
      let names = (0..<12).map { "w\($0)" }
      try await withThrowingTaskGroup(of: Int.self) { group in
        for writer in 0..<8 {
          group.addTask {
            var random = SystemRandomNumberGenerator()
            var checked = 0
            for step in 0..<60 {
              let key = key(names.randomElement(using: &random)!, namespace: step % 5 == 0 ? "other" : "default")
              do {
                let written: StoredObject?
                switch Int.random(in: 0..<6, using: &random) {
                case 0, 1:
                  written = try await store.create(
                    object(key.name, namespace: key.namespace, spec: #"{"n":\#(step)}"#, finalizers: ["f"]))
                case 2:
                  var current = try await store.get(key)
                  current.spec = try json(#"{"n":\#(step),"by":\#(writer)}"#)
                  current.labels = ["writer": "\(writer)"]
                  written = try await store.update(current)
                case 3:
                  var current = try await store.get(key)
                  current.status = try json(#"{"phase":"Running","step":\#(step)}"#)
                  written = try await store.updateStatus(current)
                case 4:
                  written = try await store.delete(key).object
                default:
                  written = try await store.removeFinalizer(key, "f").object
                }
                // Read-your-writes: the object is at least as new as this write (another writer
                // may have written it since), or gone after a write that could delete it.
                if let written {
                  if let read = try await store.find(key) {
                    #expect(read.resourceVersion >= written.resourceVersion)
                  } else {
                    #expect(store.currentRevision >= written.resourceVersion)
                  }
                  checked += 1
                }
              } catch let error as StoreError where [.notFound, .alreadyExists, .conflict, .invalid].contains(error.code) {
                continue  // lost a race with another writer: expected
              }
            }
            return checked
          }
        }
        var total = 0
        for try await checked in group { total += checked }
        #expect(total > 60)
      }
      let listed = try await store.list(kind: "workers")
      #expect(listed.resourceVersion == store.currentRevision)
      #expect(listed.items == (try await Self.databaseObjects(store, kind: "workers")))
      #expect(try await store.list(kind: "workers", namespace: "other").items == listed.items.filter { $0.namespace == "other" })
      for item in listed.items { #expect(try await store.get(item.key) == item) }

      // Reopened, the cache is loaded from the file and answers the same.
      await store.close()
      let reopened = try Store(configuration: configuration)
      let again = try await reopened.list(kind: "workers")
      await reopened.close()
      #expect(again == listed)
    }
  }

  @Test("a failed write leaves memory as it was")
  func failedWritesChangeNothing() async throws {
    try await withStore { store, _ in
      let first = try await store.create(object("a", labels: ["x": "1"]))
      _ = await storeError { try await store.create(object("a", spec: #"{"other":true}"#)) }
      var stale = first
      stale.spec = try json(#"{"model":"changed"}"#)
      _ = try await store.update(stale)
      _ = await storeError { try await store.update(stale) }  // stale resourceVersion: conflict
      let list = try await store.list(kind: "workers")
      #expect(list.items.count == 1)
      #expect(list.items == (try await Self.databaseObjects(store, kind: "workers")))
      #expect(list.items.first?.spec == (try json(#"{"model":"changed"}"#)))
    }
  }

  @Test("lists sort by namespace then name in byte order, and filter by label")
  func listOrderAndSelectors() async throws {
    try await withStore { store, _ in
      for (name, namespace) in [("b", "default"), ("B", "default"), ("a", "zeta"), ("é", "default"), ("a-1", "alpha")] {
        _ = try await store.create(object(name, namespace: namespace, labels: name == "b" ? ["tier": "x"] : [:]))
      }
      let all = try await store.list(kind: "workers")
      #expect(all.items.map { "\($0.namespace)/\($0.name)" } == ["alpha/a-1", "default/B", "default/b", "default/é", "zeta/a"])
      #expect(all.items == (try await Self.databaseObjects(store, kind: "workers")))
      #expect(try await store.list(kind: "workers", labelSelector: LabelSelector(parsing: "tier=x")).items.map(\.name) == ["b"])
      #expect(try await store.list(kind: "teams").items.isEmpty)
    }
  }
}

/// Stores written before the label index was dropped open, migrate and answer the same.
@Suite("Schema migration")
struct MigrationTests {
  /// A store in `directory` as the migrations up to `version` left it, with `seed` written.
  static func store(in directory: URL, migratedUpTo version: String, seed: @escaping @Sendable (Database) throws -> Void)
    async throws -> StoreConfiguration
  {
    var configuration = StoreConfiguration(directory: directory.appendingPathComponent("data"))
    configuration.maximumReaderCount = 1
    try FileManager.default.createDirectory(at: configuration.directory, withIntermediateDirectories: true)
    let queue = try DatabaseQueue(path: configuration.databaseURL.path)
    try Schema.migrator.migrate(queue, upTo: version)
    try await queue.write(seed)
    try queue.close()
    return configuration
  }

  @Test("a v1 store (with its label index) migrates to v2: the index is gone, objects and labels read the same")
  func v1StoreMigrates() async throws {
    try await withTemporaryDirectory { directory in
      // A store as v1 left it: the v1 schema, one labelled object with its index row.
      let configuration = try await Self.store(in: directory, migratedUpTo: "v1") { db in
        try db.execute(sql: """
          INSERT INTO objects (kind, namespace, name, uid, resource_version, generation, creation_timestamp,
            deletion_timestamp, labels, annotations, finalizers, spec, status)
          VALUES ('workers', 'default', 'old', '8F1C0E52-5C1B-4C51-9D53-1D5C2B8E4A11', 1, 1, 0, NULL,
            '{"tier":"x"}', '{}', '[]', '{"model":"qwen"}', '{}');
          INSERT INTO object_labels (object_id, key, value) VALUES (1, 'tier', 'x');
          INSERT INTO object_log (revision, type, kind, namespace, name, uid, generation, creation_timestamp,
            deletion_timestamp, labels, annotations, finalizers, spec, status)
          VALUES (1, 'ADDED', 'workers', 'default', 'old', '8F1C0E52-5C1B-4C51-9D53-1D5C2B8E4A11', 1, 0, NULL,
            '{"tier":"x"}', '{}', '[]', '{"model":"qwen"}', '{}');
          """)
      }
      let store = try Store(configuration: configuration)
      do {
        let tables = try await store.read("test") { db in
          try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(!tables.contains("object_labels"))
        let selected = try await store.list(kind: "workers", labelSelector: LabelSelector(parsing: "tier=x"))
        #expect(selected.items.map(\.name) == ["old"])
        #expect(selected.resourceVersion == 1)
        var old = try await store.get(key("old"))
        old.labels = ["tier": "y"]
        let updated = try await store.update(old)
        #expect(updated.resourceVersion == 2)
        #expect(try await store.list(kind: "workers", labelSelector: LabelSelector(parsing: "tier=x")).items.isEmpty)
      } catch {
        await store.close()
        throw error
      }
      await store.close()
    }
  }

  @Test("a v2 store migrates to v3: secrets keyed by name, tokens indexed by hash only, and both still answer")
  func v2TokensAndSecretsMigrate() async throws {
    try await withTemporaryDirectory { directory in
      let tokens = ["hct_first", "hct_second", "hct_third"]
      let configuration = try await Self.store(in: directory, migratedUpTo: "v2-drop-object-labels") { db in
        for (index, token) in tokens.enumerated() {
          try db.execute(sql: "INSERT INTO api_tokens (id, hash, role, subject, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: ["tok_\(index)", Store.tokenHash(token), "worker", "w\(index)", 1_000 + index])
        }
        try db.execute(sql: "INSERT INTO secrets (name, sealed, updated_at) VALUES ('kept', x'00010203', 7)")
      }
      let store = try Store(configuration: configuration)
      do {
        let (secretsTable, tokenIndexes) = try await store.read("test") { db in
          (try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'secrets'") ?? "",
           try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'api_tokens'"))
        }
        #expect(secretsTable.contains("WITHOUT ROWID"), "\(secretsTable)")
        #expect(tokenIndexes == ["api_tokens_by_hash"], "only the index every request uses")
        for (index, token) in tokens.enumerated() {
          #expect(try await store.verifyToken(token)?.id == "tok_\(index)")
        }
        #expect(try await store.tokens().map(\.id) == ["tok_0", "tok_1", "tok_2"])
        #expect(try await store.revokeToken(id: "tok_1"))
        #expect(try await store.verifyToken("hct_second") == nil)
        #expect(try await store.tokens().map(\.id) == ["tok_0", "tok_2"])
        let kept = try await store.read("test") { db -> (Data, Int64)? in
          guard let row = try Row.fetchOne(db, sql: "SELECT sealed, updated_at FROM secrets WHERE name = 'kept'") else { return nil }
          return (row["sealed"], row["updated_at"])
        }
        #expect(kept?.0 == Data([0, 1, 2, 3]))
        #expect(kept?.1 == 7)
        // New writes go to the new tables.
        let minted = try await store.createToken(role: "worker", subject: "new", keptIn: "agent-token/new")
        #expect(try await store.verifyToken(minted.token)?.subject == "new")
        #expect(try await store.tokens().last?.id == minted.identity.id)
      } catch {
        await store.close()
        throw error
      }
      await store.close()
    }
  }
}
