// Result records (one JSON line each) and the human-readable tables.
import Foundation

/// One measured quantity: the median over repetitions of a per-repetition value, with the
/// values themselves, and (when it has one) the ratio to its floor or peer from the same run.
struct Record: Codable, Sendable {
  var section: String
  var name: String
  /// `writes/s`, `s`, `ns`, `bytes`, `writes/worker`, …
  var unit: String?
  /// The median over repetitions.
  var median: Double?
  var min: Double?
  var max: Double?
  /// One value per repetition, in run order.
  var values: [Double]?
  /// For latency rows: the per-repetition p50 and p99 medians (ns), and samples per repetition.
  var p50Ns: Double?
  var p99Ns: Double?
  var samplesPerRep: Int?
  /// `median / floor` (or the quantity the target names), and what it is relative to.
  var ratio: Double?
  var ratioTo: String?
  /// The target in words (`≥ 0.7× raw`, `≤ 5 ms`), and whether the median meets it.
  var target: String?
  var pass: Bool?
  /// The value the target is checked on, formatted (for the summary table).
  var measured: String?
  var note: String?
  /// Free-form facts (the machine description in the `meta` record).
  var facts: [String: String]?

  init(section: String, name: String, unit: String? = nil) {
    self.section = section
    self.name = name
    self.unit = unit
  }

  /// Sets `median`, `min`, `max` and `values` from per-repetition values.
  mutating func set(_ values: [Double]) {
    let summary = Summary(values)
    self.values = values
    median = summary.median
    min = summary.min
    max = summary.max
  }
}

/// Collects records and prints tables as sections finish.
final class Report: @unchecked Sendable {
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
        widths[index] = Swift.max(widths[index], cell.count)
      }
    }
    func line(_ row: [String]) -> String {
      row.enumerated().map { index, cell in
        let pad = String(repeating: " ", count: Swift.max(0, widths[index] - cell.count))
        return index == 0 ? cell + pad : pad + cell
      }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    for row in rows { print(line(row)) }
    fflush(nil)
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

/// `123 ns`, `1.23 µs`, `12.3 µs`, `1.23 ms`, `1.23 s`.
func formatTime(_ nanoseconds: Double?) -> String {
  guard let value = nanoseconds else { return "-" }
  if value < 1_000 { return String(format: "%.0f ns", value) }
  if value < 10_000 { return String(format: "%.2f µs", value / 1_000) }
  if value < 1_000_000 { return String(format: "%.1f µs", value / 1_000) }
  if value < 1_000_000_000 { return String(format: "%.2f ms", value / 1_000_000) }
  return String(format: "%.2f s", value / 1_000_000_000)
}

func formatSeconds(_ seconds: Double?) -> String { formatTime(seconds.map { $0 * 1e9 }) }

/// `12,345/s`.
func formatRate(_ rate: Double?) -> String {
  guard let rate else { return "-" }
  let formatter = NumberFormatter()
  formatter.numberStyle = .decimal
  formatter.maximumFractionDigits = 0
  return (formatter.string(from: NSNumber(value: rate.rounded())) ?? "\(Int(rate))") + "/s"
}

func formatBytes(_ bytes: Double?) -> String {
  guard let bytes else { return "-" }
  return String(format: "%.1f MiB", bytes / 1_048_576)
}

func formatRatio(_ ratio: Double?) -> String {
  guard let ratio else { return "-" }
  return String(format: "%.2fx", ratio)
}

func verdict(_ pass: Bool?) -> String {
  guard let pass else { return "" }
  return pass ? "PASS" : "FAIL"
}

/// `a–b` of per-repetition values, formatted.
func range(_ record: Record, _ format: (Double?) -> String) -> String {
  guard let low = record.min, let high = record.max, record.values?.count ?? 0 > 1 else { return "" }
  return "\(format(low))–\(format(high))"
}

/// The rows of a "where the time goes" table, each step also recorded: the `summed` steps (named
/// `prefix` + step), their sum, then the `apart` ones (peers and floors, not summed).
/// `steps` holds one median per repetition for each name.
func stepRows(
  section: String, prefix: String, steps: [String: [Double]], summed: [String], apart: [String] = [], calls: Int,
  repetitions: Int, report: Report
) -> [[String]] {
  var rows: [[String]] = []
  var total: [Double] = Array(repeating: 0, count: repetitions)
  func add(_ name: String, recordName: String) {
    var record = Record(section: section, name: recordName, unit: "ns")
    record.set(steps[name]!)
    record.samplesPerRep = calls
    report.add(record)
    rows.append([name, formatTime(record.median), range(record, formatTime)])
  }
  for name in summed {
    add(name, recordName: prefix + name)
    for (index, value) in steps[name]!.enumerated() { total[index] += value }
  }
  rows.append(["sum of the steps", formatTime(median(total)), ""])
  for name in apart { add(name, recordName: name) }
  return rows
}
