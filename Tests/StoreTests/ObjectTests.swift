import Foundation
import Testing

@testable import Store

@Suite struct ObjectTests {
  @Test func createGetListDelete() async throws {
    try await withStore { store, _ in
      let created = try await store.create(object("alice", labels: ["team": "a"]))
      #expect(created.resourceVersion == 1)
      #expect(created.generation == 1)
      #expect(created.deletionTimestamp == nil)
      #expect(created.spec.text == #"{"model":"qwen"}"#)
      #expect(created.status == .emptyObject)

      let fetched = try await store.get(key("alice"))
      #expect(fetched == created)
      #expect(try await store.find(key("nobody")) == nil)

      let bob = try await store.create(object("bob"))
      #expect(bob.resourceVersion == 2)
      #expect(bob.uid != created.uid)
      let list = try await store.list(kind: "workers")
      #expect(list.items.map(\.name) == ["alice", "bob"])
      #expect(list.resourceVersion == 2)
      #expect(try await store.list(kind: "teams").items.isEmpty)

      let outcome = try await store.delete(key("alice"))
      #expect(outcome.isDeleted)
      #expect(outcome.object.resourceVersion == 3)
      #expect(try await store.find(key("alice")) == nil)
      #expect(try await store.list(kind: "workers").items.map(\.name) == ["bob"])
      #expect(store.currentRevision == 3)

      // Re-creating gets a new uid and the next revision.
      let again = try await store.create(object("alice"))
      #expect(again.uid != created.uid)
      #expect(again.resourceVersion == 4)
    }
  }

  @Test func createTwiceFailsWithAlreadyExists() async throws {
    try await withStore { store, _ in
      try await store.create(object("alice"))
      let error = await storeError { try await store.create(object("alice")) }
      #expect(error?.code == .alreadyExists)
      #expect(error?.description.hasPrefix("workers/alice already exists; update it instead") == true)
      // The failed create took no revision.
      #expect(store.currentRevision == 1)
      // Same name, other namespace or kind: fine.
      try await store.create(object("alice", namespace: "team-a"))
      try await store.create(object("alice", kind: "humans"))
    }
  }

  @Test func missingObjects() async throws {
    try await withStore { store, _ in
      #expect(await storeError { _ = try await store.get(key("ghost")) }?.code == .notFound)
      #expect(await storeError { try await store.update(object("ghost")) }?.code == .notFound)
      #expect(await storeError { try await store.delete(key("ghost")) }?.code == .notFound)
      #expect(await storeError { try await store.removeFinalizer(key("ghost"), "x") }?.code == .notFound)
      let error = await storeError { _ = try await store.get(key("ghost", namespace: "ns1")) }
      #expect(error?.message == "workers/ghost in namespace ns1 does not exist")
    }
  }

  @Test func generationBumpsOnlyWhenTheCanonicalSpecChanges() async throws {
    try await withStore { store, _ in
      var alice = try await store.create(object("alice", spec: #"{"model":"qwen","replicas":1}"#))
      #expect(alice.generation == 1)

      // Same JSON, other key order, whitespace and number spelling: nothing written.
      var same = alice
      same.spec = try json(#" { "replicas" : 1.0, "model" : "qwen" } "#)
      let unchanged = try await store.update(same)
      #expect(unchanged.resourceVersion == alice.resourceVersion)
      #expect(unchanged.generation == 1)
      #expect(store.currentRevision == 1)

      // Labels only: new revision, same generation.
      alice.labels = ["tier": "gold"]
      alice = try await store.update(alice)
      #expect(alice.resourceVersion == 2)
      #expect(alice.generation == 1)

      // Spec change: generation 2.
      alice.spec = try json(#"{"model":"qwen","replicas":2}"#)
      alice = try await store.update(alice)
      #expect(alice.resourceVersion == 3)
      #expect(alice.generation == 2)

      // Status: new revision, same generation, spec untouched even if the caller changed it.
      var withStatus = alice
      withStatus.status = try json(#"{"phase":"Running","observedGeneration":2}"#)
      withStatus.spec = try json(#"{"model":"other"}"#)
      let statusUpdated = try await store.updateStatus(withStatus)
      #expect(statusUpdated.resourceVersion == 4)
      #expect(statusUpdated.generation == 2)
      #expect(statusUpdated.spec == alice.spec)
      #expect(statusUpdated.status.text == #"{"observedGeneration":2,"phase":"Running"}"#)

      // Same status again: nothing written.
      let again = try await store.updateStatus(statusUpdated)
      #expect(again.resourceVersion == 4)

      // A spec update does not touch the status.
      var specUpdate = statusUpdated
      specUpdate.status = .emptyObject
      specUpdate.spec = try json(#"{"model":"qwen","replicas":3}"#)
      let afterSpec = try await store.update(specUpdate)
      #expect(afterSpec.generation == 3)
      #expect(afterSpec.status == statusUpdated.status)
      #expect(try await store.get(key("alice")) == afterSpec)
    }
  }

  @Test func staleResourceVersionIsAConflictCarryingBothVersions() async throws {
    try await withStore { store, _ in
      for index in 0..<8 { try await store.create(object("filler-\(index)")) }
      let alice = try await store.create(object("alice"))  // revision 9
      var first = alice
      first.spec = try json(#"{"model":"a"}"#)
      for revision in 0..<3 {
        first.labels = ["n": "\(revision)"]
        first = try await store.update(first)
      }
      #expect(first.resourceVersion == 12)

      var stale = alice
      stale.spec = try json(#"{"model":"b"}"#)
      let error = await storeError { try await store.update(stale) }
      #expect(error?.code == .conflict)
      #expect(error?.currentResourceVersion == 12)
      #expect(error?.expectedResourceVersion == 9)
      #expect(error?.key == key("alice"))
      #expect(error?.description == "workers/alice was modified (resourceVersion 12, you sent 9); get it again and retry")

      // The same applies to status and delete preconditions.
      #expect(await storeError { try await store.updateStatus(stale) }?.code == .conflict)
      #expect(await storeError { try await store.delete(key("alice"), expectedResourceVersion: 9) }?.code == .conflict)
      #expect(try await store.get(key("alice")).spec.text == #"{"model":"a"}"#)

      // resourceVersion 0 means unconditional.
      stale.resourceVersion = 0
      let forced = try await store.update(stale)
      #expect(forced.spec.text == #"{"model":"b"}"#)
      #expect(forced.resourceVersion == 13)
    }
  }

  @Test func labelSelectors() async throws {
    try await withStore { store, _ in
      try await store.create(object("web-1", labels: ["app": "web", "tier": "front"]))
      try await store.create(object("web-2", labels: ["app": "web"]))
      try await store.create(object("db-1", labels: ["app": "db", "tier": "back"]))
      try await store.create(object("plain"))
      try await store.create(object("web-9", namespace: "other", labels: ["app": "web"]))
      try await store.create(object("team-web", kind: "teams", labels: ["app": "web"]))

      func names(_ selector: String, namespace: String? = "default") async throws -> [String] {
        try await store.list(kind: "workers", namespace: namespace, labelSelector: LabelSelector(parsing: selector))
          .items.map(\.name)
      }
      #expect(try await names("app=web") == ["web-1", "web-2"])
      #expect(try await names("app==web") == ["web-1", "web-2"])
      #expect(try await names("app=web", namespace: nil) == ["web-1", "web-2", "web-9"])
      #expect(try await names("app=web,tier=front") == ["web-1"])
      #expect(try await names("app!=web") == ["db-1", "plain"])
      #expect(try await names("tier") == ["db-1", "web-1"])
      #expect(try await names("!tier") == ["plain", "web-2"])
      #expect(try await names("app=nothing").isEmpty)
      #expect(try await names("") == ["db-1", "plain", "web-1", "web-2"])
      #expect(LabelSelector(matching: ["app": "web"]).matches(["app": "web", "x": "y"]))

      // The index follows updates and deletes.
      var web2 = try await store.get(key("web-2"))
      web2.labels = ["app": "api"]
      try await store.update(web2)
      #expect(try await names("app=web") == ["web-1"])
      #expect(try await names("app=api") == ["web-2"])
      try await store.delete(key("web-1"))
      #expect(try await names("app=web").isEmpty)
      #expect(try await names("tier") == ["db-1"])

      #expect(await storeError { _ = try LabelSelector(parsing: "app=web,,x") }?.code == .invalid)
      #expect(await storeError { _ = try LabelSelector(parsing: "=web") }?.code == .invalid)
    }
  }

  @Test func finalizersHoldDeletionUntilTheLastOneIsRemoved() async throws {
    try await withStore { store, _ in
      let created = try await store.create(object("alice", finalizers: ["hiclaw.io/cleanup", "example.com/other"]))
      let watch = try await store.watch(kind: "workers", fromRevision: 0)

      let first = try await store.delete(key("alice"))
      guard case .remains(let marked) = first else {
        Issue.record("an object with finalizers must not be removed")
        return
      }
      #expect(marked.deletionTimestamp != nil)
      #expect(marked.isBeingDeleted)
      #expect(marked.resourceVersion == 2)
      #expect(marked.generation == created.generation)
      #expect(try await store.get(key("alice")).isBeingDeleted)

      // Deleting again changes nothing.
      let second = try await store.delete(key("alice"))
      #expect(second == .remains(marked))
      #expect(store.currentRevision == 2)

      // No new finalizers on an object being deleted.
      var adding = marked
      adding.finalizers.append("late/finalizer")
      #expect(await storeError { try await store.update(adding) }?.code == .invalid)
      #expect(await storeError { try await store.addFinalizer(key("alice"), "late/finalizer") }?.code == .invalid)

      // Spec updates are still allowed while being deleted.
      var edited = marked
      edited.spec = try json(#"{"model":"bye"}"#)
      let afterEdit = try await store.update(edited)
      #expect(afterEdit.generation == 2)

      // Removing one finalizer keeps it; removing an absent one is a no-op.
      let partial = try await store.removeFinalizer(key("alice"), "example.com/other")
      #expect(!partial.isDeleted)
      #expect(partial.object.finalizers == ["hiclaw.io/cleanup"])
      #expect(try await store.removeFinalizer(key("alice"), "not/there") == .remains(partial.object))

      // The last one removes it.
      let last = try await store.removeFinalizer(key("alice"), "hiclaw.io/cleanup")
      #expect(last.isDeleted)
      #expect(last.object.finalizers.isEmpty)
      #expect(try await store.find(key("alice")) == nil)

      let events = try await collect(watch) { $0.type == .deleted }
      #expect(events.map(\.type) == [.added, .modified, .modified, .modified, .deleted])
      #expect(events.map(\.revision) == [1, 2, 3, 4, 5])
      #expect(events.last?.object.resourceVersion == 5)
      #expect(events.last?.object.uid == created.uid)
    }
  }

  @Test func updateRemovingTheLastFinalizerOfAMarkedObjectDeletesIt() async throws {
    try await withStore { store, _ in
      try await store.create(object("alice"))
      let withFinalizer = try await store.addFinalizer(key("alice"), "hiclaw.io/cleanup")
      #expect(withFinalizer.finalizers == ["hiclaw.io/cleanup"])
      #expect(try await store.addFinalizer(key("alice"), "hiclaw.io/cleanup") == withFinalizer)
      let marked = try await store.delete(key("alice")).object
      var cleared = marked
      cleared.finalizers = []
      let final = try await store.update(cleared)
      #expect(final.finalizers.isEmpty)
      #expect(try await store.find(key("alice")) == nil)

      // Without a deletion mark, removing the last finalizer just updates.
      try await store.create(object("bob", finalizers: ["f"]))
      let outcome = try await store.removeFinalizer(key("bob"), "f")
      #expect(!outcome.isDeleted)
      #expect(try await store.get(key("bob")).finalizers.isEmpty)
    }
  }

  @Test func invalidInputIsRejectedWithoutWriting() async throws {
    try await withStore { store, _ in
      #expect(await storeError { try await store.create(object("")) }?.code == .invalid)
      #expect(await storeError { try await store.create(object("a", spec: "[1,2]")) }?.code == .invalid)
      #expect(await storeError { try await store.create(object("a", labels: ["": "x"])) }?.code == .invalid)
      #expect(await storeError { try await store.create(object("a", finalizers: ["f", "f"])) }?.code == .invalid)
      #expect(await storeError { try await store.create(object("a\n")) }?.code == .invalid)
      #expect(store.currentRevision == 0)
      let items = try await store.list(kind: "workers").items
      #expect(items.isEmpty)
    }
  }

  @Test func metadataRoundTrips() async throws {
    try await withStore { store, _ in
      var input = try object("alice", labels: ["app": "web", "ünïcode": "välue \"quoted\""])
      input.annotations = ["note": "line1\nline2", "empty": ""]
      input.finalizers = ["b", "a"]
      input.status = try json(#"{"phase":"Pending"}"#)
      let created = try await store.create(input)
      let fetched = try await store.get(key("alice"))
      #expect(fetched.labels == input.labels)
      #expect(fetched.annotations == input.annotations)
      #expect(fetched.finalizers == ["b", "a"])
      #expect(fetched.status == input.status)
      #expect(fetched == created)
      #expect(abs(fetched.creationTimestamp.timeIntervalSinceNow) < 60)
    }
  }

  @Test func secondStoreOnTheSameDirectoryIsRefused() async throws {
    try await withStore { store, configuration in
      #expect(throws: StoreError.self) { _ = try Store(configuration: configuration) }
      do {
        _ = try Store(configuration: configuration)
      } catch let error as StoreError {
        #expect(error.code == .locked)
        #expect(error.message.contains("pid \(getpid())"))
      }
      _ = store
    }
  }

  @Test func closedStoreRefusesCalls() async throws {
    try await withTemporaryDirectory { directory in
      let store = try Store(configuration: StoreConfiguration(directory: directory))
      try await store.create(object("alice"))
      await store.close()
      #expect(await storeError { try await store.create(object("bob")) }?.code == .closed)
      #expect(await storeError { _ = try await store.get(key("alice")) }?.code == .closed)
      #expect(await storeError { _ = try await store.watch(fromRevision: 0) }?.code == .closed)
      await store.close()
      // The lock is released: it opens again.
      let reopened = try Store(configuration: StoreConfiguration(directory: directory))
      #expect(try await reopened.get(key("alice")).resourceVersion == 1)
      await reopened.close()
    }
  }
}
