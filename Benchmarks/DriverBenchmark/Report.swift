// Result records (one JSON line each) and the human-readable tables.
import Foundation

/// One measured quantity. Every time is in nanoseconds.
struct Record: Codable, Sendable {
  var section: String
  var name: String
  var driver: String?
  /// Samples behind the statistics: child processes, repetitions or timed calls.
  var samples: Int?
  /// Calls per repetition, for loop-averaged numbers.
  var callsPerRep: Int?
  var medianNs: Double?
  var p99Ns: Double?
  var minNs: Double?
  var maxNs: Double?
  var meanNs: Double?
  var ratio: Double?
  var ratioTo: String?
  var targetNs: Double?
  var targetRatio: Double?
  var pass: Bool?
  var note: String?
  /// Free-form facts (machine description in the `meta` record).
  var facts: [String: String]?

  init(section: String, name: String, driver: String? = nil) {
    self.section = section
    self.name = name
    self.driver = driver
  }

  mutating func set(_ summary: Summary) {
    samples = summary.count
    medianNs = summary.median
    p99Ns = summary.p99
    minNs = summary.min
    maxNs = summary.max
    meanNs = summary.mean
  }
}

/// Collects records and prints tables as sections finish.
final class Report {
  private(set) var records: [Record] = []

  func add(_ record: Record) { records.append(record) }

  func heading(_ title: String) {
    print("")
    print(title)
    print(String(repeating: "-", count: title.count))
  }

  /// Prints rows with columns padded to their widest cell (first column left-aligned).
  func table(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for row in all {
      for (index, cell) in row.enumerated() where index < widths.count {
        widths[index] = max(widths[index], cell.count)
      }
    }
    func line(_ row: [String]) -> String {
      row.enumerated().map { index, cell in
        let pad = String(repeating: " ", count: max(0, widths[index] - cell.count))
        return index == 0 ? cell + pad : pad + cell
      }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    for row in rows { print(line(row)) }
  }

  func jsonLines() -> [String] {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return records.map { record in
      (try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
  }
}

/// `123 ns`, `1.23 µs`, `12.3 µs`, `1.23 ms`.
func formatTime(_ nanoseconds: Double?) -> String {
  guard let value = nanoseconds else { return "-" }
  if value < 10 { return String(format: "%.2f ns", value) }
  if value < 1_000 { return String(format: "%.0f ns", value) }
  if value < 10_000 { return String(format: "%.2f µs", value / 1_000) }
  if value < 1_000_000 { return String(format: "%.1f µs", value / 1_000) }
  return String(format: "%.2f ms", value / 1_000_000)
}

func formatRatio(_ ratio: Double?) -> String {
  guard let ratio else { return "-" }
  return String(format: "%.2fx", ratio)
}

func verdict(_ pass: Bool?) -> String {
  guard let pass else { return "" }
  return pass ? "PASS" : "FAIL"
}
