import Foundation
import Testing

@testable import DriverHost

@Suite("Driver state on disk")
struct FileStateStoreTests {
  static func withDirectory(_ body: (URL) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-state-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory)
  }

  static func size(_ url: URL) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
  }

  @Test("puts survive a reopen; drivers are kept apart; files are 0600")
  func reopen() throws {
    try Self.withDirectory { directory in
      do {
        let store = FileStateStore(directory: directory)
        try store.put(driver: "a", key: "k", value: "1")
        try store.put(driver: "a", key: "k", value: "2 \"ü\"\n")
        try store.put(driver: "b", key: "k", value: "other")
        #expect(store.get(driver: "a", key: "k") == "2 \"ü\"\n")
      }
      let reopened = FileStateStore(directory: directory)
      #expect(reopened.get(driver: "a", key: "k") == "2 \"ü\"\n")
      #expect(reopened.get(driver: "b", key: "k") == "other")
      #expect(reopened.get(driver: "a", key: "missing") == nil)
      let journal = directory.appendingPathComponent("a.state.log")
      let mode = try FileManager.default.attributesOfItem(atPath: journal.path)[.posixPermissions] as? Int
      #expect(mode == 0o600)
    }
  }

  @Test("a put appends one line, whatever the size of the rest of the state")
  func putCostDoesNotGrowWithTheState() throws {
    try Self.withDirectory { directory in
      let store = FileStateStore(directory: directory)
      let journal = directory.appendingPathComponent("a.state.log")
      for index in 0..<1000 { try store.put(driver: "a", key: "instance/\(index)", value: String(repeating: "x", count: 200)) }
      let before = Self.size(journal)
      try store.put(driver: "a", key: "instance/1", value: "changed")
      let grew = Self.size(journal) - before
      #expect(grew > 0 && grew < 100, "one put wrote \(grew) bytes")
    }
  }

  @Test("the journal is compacted into the snapshot, and the state reads the same after it")
  func compaction() throws {
    try Self.withDirectory { directory in
      let store = FileStateStore(directory: directory, minimumCompactionBytes: 4096)
      var expected: [String: String] = [:]
      for round in 0..<50 {
        for key in 0..<10 {
          let value = "r\(round)-k\(key)"
          try store.put(driver: "a", key: "k\(key)", value: value)
          expected["k\(key)"] = value
        }
      }
      let journal = directory.appendingPathComponent("a.state.log")
      let snapshot = directory.appendingPathComponent("a.state.json")
      #expect(Self.size(snapshot) > 0, "never compacted")
      #expect(Self.size(journal) <= 4096 + 100)
      let reopened = FileStateStore(directory: directory)
      for (key, value) in expected { #expect(reopened.get(driver: "a", key: key) == value) }
    }
  }

  @Test("a torn last line (a crash mid-write) is dropped, and later puts are read back")
  func tornLine() throws {
    try Self.withDirectory { directory in
      do {
        let store = FileStateStore(directory: directory)
        try store.put(driver: "a", key: "kept", value: "1")
      }
      let journal = directory.appendingPathComponent("a.state.log")
      let handle = try FileHandle(forWritingTo: journal)
      try handle.seekToEnd()
      try handle.write(contentsOf: Data(#"{"k":"torn","v":"hal"#.utf8))
      try handle.close()
      do {
        let store = FileStateStore(directory: directory)
        #expect(store.get(driver: "a", key: "kept") == "1")
        #expect(store.get(driver: "a", key: "torn") == nil)
        try store.put(driver: "a", key: "after", value: "2")
      }
      let reopened = FileStateStore(directory: directory)
      #expect(reopened.get(driver: "a", key: "kept") == "1")
      #expect(reopened.get(driver: "a", key: "after") == "2")
    }
  }
}
