// BM4: store create/update throughput with 1 and 16 concurrent writers vs raw SQLite (same
// schema, same pragmas, one commit per write), interleaved in every repetition.
import Foundation
import Store

enum StoreBench {
  static let spec = #"{"image":"hiclaw/worker:1.0","model":"qwen3-coder","runtime":"openclaw","skills":["github","matrix"]}"#
  static func updateSpec(_ index: Int) -> String { #"{"model":"qwen3-coder","replicas":\#(index)}"# }

  struct Rates {
    var creates: Double
    var updates: Double
    /// Writes per transaction (store only).
    var batch: Double?
  }

  /// The store with `writers` concurrent tasks: `count` creates (each task its own names), then
  /// `count` updates (each task rewrites the spec of one object of its own, with the resource
  /// version it got back as precondition).
  static func storeRates(root: URL, writers: Int, count: Int) async throws -> Rates {
    let directory = freshDirectory(root, "store\(writers)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try Store(configuration: benchStoreConfiguration(directory))
    let perWriter = count / writers
    let spec = try CanonicalJSON(parsing: Self.spec)
    // The inputs are built before the clock starts, as the raw floor gets its strings ready-made.
    let updateSpecs = try (0..<perWriter).map { try CanonicalJSON(parsing: updateSpec($0)) }
    let objects = (0..<writers).map { writer in
      (0..<perWriter).map { StoredObject(key: ObjectKey(kind: "workers", name: "w\(writer)-\($0)"), spec: spec) }
    }
    let before = store.writeStatistics
    let createStart = nowNanoseconds()
    let firsts = try await withThrowingTaskGroup(of: StoredObject.self) { group in
      for writer in 0..<writers {
        group.addTask {
          var first: StoredObject?
          for object in objects[writer] {
            let created = try await store.create(object)
            if first == nil { first = created }
          }
          return first!
        }
      }
      var firsts: [StoredObject] = []
      for try await object in group { firsts.append(object) }
      return firsts
    }
    let createSeconds = secondsSince(createStart)
    noteWindow("store, \(writers) writer(s): creates", createStart, nowNanoseconds())
    let updateStart = nowNanoseconds()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for first in firsts {
        group.addTask {
          var object = first
          for index in 0..<perWriter {
            object.spec = updateSpecs[index]
            object = try await store.update(object)
          }
        }
      }
      try await group.waitForAll()
    }
    let updateSeconds = secondsSince(updateStart)
    noteWindow("store, \(writers) writer(s): updates", updateStart, nowNanoseconds())
    let after = store.writeStatistics
    await store.close()
    let total = Double(perWriter * writers)
    let batch = Double(after.writes - before.writes) / Double(max(1, after.transactions - before.transactions))
    return Rates(creates: total / createSeconds, updates: total / updateSeconds, batch: batch)
  }

  static func rawRates(root: URL, writers: Int, count: Int) async throws -> Rates {
    let directory = freshDirectory(root, "raw\(writers)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = try await makeRawDatabase(in: directory)
    let rates = try await onThread("raw") {
      try rawThroughput(path: path, writers: writers, count: count, spec: Self.spec, updateSpec: Self.updateSpec)
    }
    return Rates(creates: rates.creates, updates: rates.updates)
  }

  /// Raw single-writer commit rate only (creates/s), for BM1's floor.
  static func rawCommitRate(root: URL, count: Int) async throws -> Double {
    try await rawRates(root: root, writers: 1, count: count).creates
  }

  static func run(root: URL, count: Int, repetitions: Int, report: Report) async throws {
    report.heading("BM4 store throughput: \(count) creates then \(count) updates per case, \(repetitions) repetitions (medians)")
    var raw1: [Rates] = []
    var raw16: [Rates] = []
    var store1: [Rates] = []
    var store16: [Rates] = []
    for repetition in 0..<repetitions {
      // Rotate the order so that no case always runs first (or right after a checkpoint-heavy one).
      let cases = [0, 1, 2, 3].map { ($0 + repetition) % 4 }
      for item in cases {
        switch item {
        case 0: raw1.append(try await rawRates(root: root, writers: 1, count: count))
        case 1: store1.append(try await storeRates(root: root, writers: 1, count: count))
        case 2: store16.append(try await storeRates(root: root, writers: 16, count: count))
        default: raw16.append(try await rawRates(root: root, writers: 16, count: count))
        }
      }
      note("BM4 repetition \(repetition + 1)/\(repetitions): raw1 \(Int(raw1.last!.creates))/\(Int(raw1.last!.updates)), "
        + "store1 \(Int(store1.last!.creates))/\(Int(store1.last!.updates)), "
        + "store16 \(Int(store16.last!.creates))/\(Int(store16.last!.updates)) (\(String(format: "%.1f", store16.last!.batch ?? 0)) per tx), "
        + "raw16 \(Int(raw16.last!.creates))/\(Int(raw16.last!.updates))")
    }

    var rows: [[String]] = []
    for (operation, pick) in [("create", \Rates.creates), ("update", \Rates.updates)] {
      let rawRates = raw1.map { $0[keyPath: pick] }
      let raw16Rates = raw16.map { $0[keyPath: pick] }
      // Ratios are paired per repetition (the cases of one repetition run back to back, so a
      // change in the machine's load between repetitions cancels out), then the median is taken.
      func pairedRatio(_ values: [Double], _ floors: [Double]) -> Double { median(zip(values, floors).map { $0 / $1 }) }
      func record(_ name: String, _ values: [Rates], ratioTo: String?, floor: [Double]?, target: Double?) -> Record {
        var record = Record(section: "store", name: "\(operation), \(name)", unit: "writes/s")
        record.set(values.map { $0[keyPath: pick] })
        if let floor {
          record.ratio = pairedRatio(record.values!, floor)
          record.ratioTo = ratioTo
        }
        if let target, let ratio = record.ratio {
          record.target = "≥ \(target)× raw SQLite, 1 writer"
          record.pass = ratio >= target
        }
        return record
      }
      var records = [
        record("raw SQLite, 1 writer (floor)", raw1, ratioTo: nil, floor: nil, target: nil),
        record("raw SQLite, 16 writers, 16 connections", raw16, ratioTo: "raw SQLite, 1 writer", floor: rawRates, target: nil),
        record("store, 1 writer", store1, ratioTo: "raw SQLite, 1 writer", floor: rawRates, target: 0.7),
        record("store, 16 writers", store16, ratioTo: "raw SQLite, 1 writer", floor: rawRates, target: 2),
      ]
      records[3].note = String(format: "%.2f× raw SQLite with 16 connections; %.1f writes per transaction (median)",
        pairedRatio(records[3].values!, raw16Rates), median(store16.compactMap(\.batch)))
      for record in records {
        report.add(record)
        rows.append([
          record.name, formatRate(record.median), range(record, formatRate), formatRatio(record.ratio),
          record.target ?? "", verdict(record.pass),
        ])
      }
    }
    report.table(["case", "median", "range", "vs raw 1 writer (paired)", "target", "result"], rows)
    print(String(format: "store, 16 writers: %.1f writes per transaction (group commit), median", median(store16.compactMap(\.batch))))
  }
}
