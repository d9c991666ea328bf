import ArgumentParser
import Foundation

/// `-o` formats, kubectl style.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case table, wide, json, yaml
}

/// Prints rows as a left-aligned table with upper-case headers (kubectl's look).
func printTable(_ headers: [String], _ rows: [[String]]) {
  var widths = headers.map(\.count)
  for row in rows {
    for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
  }
  func line(_ cells: [String]) -> String {
    cells.enumerated().map { index, cell in
      index == cells.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
    }.joined()
  }
  print(line(headers))
  rows.forEach { print(line($0)) }
}

/// Pretty JSON with sorted keys.
func printJSON(_ value: Any) {
  let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
  print(String(decoding: data, as: UTF8.self))
}

/// A small YAML emitter for JSON values (maps, arrays, strings, numbers, booleans, null).
func yaml(_ value: Any, indent: Int = 0) -> String {
  let pad = String(repeating: " ", count: indent)
  switch value {
  case let map as [String: Any]:
    if map.isEmpty { return "{}" }
    return map.keys.sorted().map { key in
      let child = map[key]!
      if let nested = child as? [String: Any], !nested.isEmpty { return "\(pad)\(yamlScalar(key)):\n\(yaml(nested, indent: indent + 2))" }
      if let list = child as? [Any], !list.isEmpty { return "\(pad)\(yamlScalar(key)):\n\(yaml(list, indent: indent))" }
      return "\(pad)\(yamlScalar(key)): \(yaml(child))"
    }.joined(separator: "\n")
  case let list as [Any]:
    if list.isEmpty { return "[]" }
    return list.map { item in
      if let nested = item as? [String: Any], !nested.isEmpty {
        let body = yaml(nested, indent: indent + 2)
        return "\(pad)- " + body.dropFirst(indent + 2)
      }
      return "\(pad)- \(yaml(item))"
    }.joined(separator: "\n")
  case let flag as Bool: return flag ? "true" : "false"
  case let number as NSNumber: return "\(number)"
  case let string as String: return yamlScalar(string)
  default: return "null"
  }
}

func yamlScalar(_ string: String) -> String {
  let plain = !string.isEmpty && string.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
    && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(string.lowercased())
    && Double(string) == nil
  if plain { return string }
  let escaped = string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    .replacingOccurrences(of: "\n", with: "\\n")
  return "\"\(escaped)\""
}

/// Prints to standard error.
func printError(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}
