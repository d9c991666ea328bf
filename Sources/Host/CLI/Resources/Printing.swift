import Foundation
import Model
import YAML

/// Writes a line to standard output unbuffered, so `get -w` and progress lines reach a pipe
/// as they happen.
func emit(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Lines for standard output written together, for commands that print one line per object
/// (`apply` of a thousand objects made a thousand writes). The owner calls ``flush()`` whenever
/// it is about to wait and at the end, so a line is never held back while nothing happens; error
/// messages flush it first, so standard output and standard error keep their order.
final class LineBatch {
  private var text: [UInt8] = []

  func add(_ line: String) {
    text.append(contentsOf: line.utf8)
    text.append(UInt8(ascii: "\n"))
    if text.count >= 1 << 16 { flush() }
  }

  func flush() {
    guard !text.isEmpty else { return }
    FileHandle.standardOutput.write(Data(text))
    text.removeAll(keepingCapacity: true)
  }
}

// MARK: YAML output

/// YAML for a JSON value with keys in the host's order (`apiVersion, kind, metadata, spec,
/// status`), multi-line text as literal blocks (souls and agent instructions stay readable), and
/// every string that YAML would read as something else quoted.
func yamlText(_ value: JSONValue) -> String {
  var lines: [String] = []
  appendYAML(value, indent: 0, into: &lines)
  return lines.joined(separator: "\n")
}

private func appendYAML(_ value: JSONValue, indent: Int, into lines: inout [String]) {
  let pad = String(repeating: " ", count: indent)
  switch value {
  case .object(let object) where !object.isEmpty:
    for (key, child) in object {
      let name = yamlScalar(key)
      switch child {
      case .object(let nested) where !nested.isEmpty:
        lines.append("\(pad)\(name):")
        appendYAML(child, indent: indent + 2, into: &lines)
      case .array(let items) where !items.isEmpty:
        // Sequences under a key sit at the key's indentation, as kubectl prints them.
        lines.append("\(pad)\(name):")
        appendYAML(child, indent: indent, into: &lines)
      case .string(let text) where isBlockCandidate(text):
        lines.append("\(pad)\(name): " + blockHeader(text))
        lines.append(contentsOf: blockLines(text, indent: indent + 2))
      default:
        lines.append("\(pad)\(name): \(inlineYAML(child))")
      }
    }
  case .array(let items) where !items.isEmpty:
    for item in items {
      switch item {
      case _ where isNonEmptyCollection(item):
        var nestedLines: [String] = []
        appendYAML(item, indent: indent + 2, into: &nestedLines)
        // The first line of the item goes after "- ".
        let first = nestedLines.removeFirst()
        lines.append("\(pad)- " + first.dropFirst(indent + 2))
        lines.append(contentsOf: nestedLines)
      case .string(let text) where isBlockCandidate(text):
        lines.append("\(pad)- " + blockHeader(text))
        lines.append(contentsOf: blockLines(text, indent: indent + 2))
      default:
        lines.append("\(pad)- \(inlineYAML(item))")
      }
    }
  default:
    lines.append(pad + inlineYAML(value))
  }
}

private func isNonEmptyCollection(_ value: JSONValue) -> Bool {
  switch value {
  case .object(let object): !object.isEmpty
  case .array(let items): !items.isEmpty
  default: false
  }
}

private func inlineYAML(_ value: JSONValue) -> String {
  switch value {
  case .null: "null"
  case .bool(let flag): flag ? "true" : "false"
  case .int(let number): String(number)
  case .double(let number): JSONValue.double(number).compactJSON
  case .string(let text): yamlScalar(text)
  case .array: "[]"
  case .object: "{}"
  }
}

/// Text with line breaks that a literal block can carry exactly.
private func isBlockCandidate(_ text: String) -> Bool {
  guard text.contains("\n") else { return false }
  // A first line starting with a space would need an indentation indicator; control characters
  // cannot appear in a block at all. Both are rare: quote those.
  if text.hasPrefix(" ") || text.hasPrefix("\n") { return false }
  return !text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }
}

/// `|` keeps one final newline, `|-` strips none-present, `|+` keeps several.
private func blockHeader(_ text: String) -> String {
  if text.hasSuffix("\n\n") { return "|+" }
  return text.hasSuffix("\n") ? "|" : "|-"
}

private func blockLines(_ text: String, indent: Int) -> [String] {
  let pad = String(repeating: " ", count: indent)
  var body = text
  if body.hasSuffix("\n") { body.removeLast() }
  return body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : pad + $0 }
}

// MARK: Tables

/// A kubectl-style table whose column widths only grow, so rows printed later (watch events) line
/// up with the ones before.
struct TablePrinter {
  var headers: [String]
  private var widths: [Int]
  private var printedHeader = false

  /// `minimumWidths` (by header) leave room for values that arrive later, such as a watch's
  /// `Terminating` phase.
  init(headers: [String], minimumWidths: [String: Int] = [:]) {
    self.headers = headers
    widths = headers.map { max($0.count, minimumWidths[$0] ?? 0) }
  }

  /// Prints the header (once) and the rows.
  mutating func print(_ rows: [[String]]) {
    for row in rows {
      for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
    }
    if !printedHeader {
      emit(line(headers))
      printedHeader = true
    }
    rows.forEach { emit(line($0)) }
  }

  private func line(_ cells: [String]) -> String {
    cells.enumerated().map { index, cell in
      index == cells.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
    }.joined()
  }
}

// MARK: Ages

/// How long ago `timestamp` was, the way kubectl prints ages (`45s`, `5m30s`, `3h`, `2d4h`, `1y`).
func age(of timestamp: String?, now: Date = Date()) -> String {
  guard let timestamp, let time = Timestamp(rfc3339: timestamp) else { return "<unknown>" }
  return humanDuration(now.timeIntervalSince(time.date))
}

func humanDuration(_ interval: TimeInterval) -> String {
  let seconds = max(0, Int(interval))
  let minutes = seconds / 60
  let hours = minutes / 60
  let days = hours / 24
  switch seconds {
  case ..<120: return "\(seconds)s"
  case ..<600: return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s"
  case ..<(3 * 3600): return "\(minutes)m"
  case ..<(8 * 3600): return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m"
  case ..<(48 * 3600): return "\(hours)h"
  case ..<(8 * 86400): return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h"
  case ..<(2 * 365 * 86400): return "\(days)d"
  default: return "\(days / 365)y"
  }
}
