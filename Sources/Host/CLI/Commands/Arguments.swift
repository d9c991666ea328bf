import ArgumentParser
import Model
import YAML

/// Parses a kind as the user types it (`worker`, `workers`, `wk`, `Worker` …); anything else is a
/// usage error naming the accepted spellings.
func parseKind(_ text: String) throws -> Kind {
  guard let kind = Kind(parsing: text) else {
    throw ValidationError("unknown kind \"\(text)\"; use one of \(Kind.choices)")
  }
  return kind
}

/// `--dry-run` values, as kubectl spells them.
enum DryRunMode: String, ExpressibleByArgument, CaseIterable {
  case none, client, server

  /// The suffix of each printed line.
  var suffix: String {
    switch self {
    case .none: ""
    case .client: " (dry run)"
    case .server: " (server dry run)"
    }
  }

  /// The query that makes the host write nothing.
  var query: [(String, String)] { self == .server ? [("dryRun", "All")] : [] }
}

/// A label selector: `key=value`, `key==value`, `key!=value`, `key` (has the label) and `!key`
/// (lacks it), comma-separated — the subset the host's `labelSelector` understands. Parsed here
/// so a typo is a usage error before anything is sent, and so watch events (which the host does
/// not filter) can be filtered the same way.
struct LabelSelector: CustomStringConvertible {
  enum Requirement {
    case equals(String, String)
    case notEquals(String, String)
    case exists(String)
    case missing(String)
  }

  var requirements: [Requirement]
  var description: String

  init(_ text: String) throws {
    description = text
    requirements = []
    for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      guard !part.isEmpty else { continue }
      if let range = part.range(of: "!=") {
        requirements.append(.notEquals(try Self.key(part[..<range.lowerBound]), String(part[range.upperBound...])))
      } else if let range = part.range(of: "==") ?? part.range(of: "=") {
        requirements.append(.equals(try Self.key(part[..<range.lowerBound]), String(part[range.upperBound...])))
      } else if part.hasPrefix("!") {
        requirements.append(.missing(try Self.key(part.dropFirst())))
      } else {
        requirements.append(.exists(try Self.key(Substring(part))))
      }
    }
    guard !requirements.isEmpty else { throw ValidationError("empty label selector; write key=value") }
  }

  private static func key(_ text: Substring) throws -> String {
    let key = text.trimmingCharacters(in: .whitespaces)
    guard !key.isEmpty, !key.contains(where: { " ()!=".contains($0) }) else {
      throw ValidationError(
        "invalid label selector part \"\(text)\"; use key=value, key!=value, key or !key, separated by commas")
    }
    return key
  }

  func matches(_ labels: [String: String]) -> Bool {
    requirements.allSatisfy { requirement in
      switch requirement {
      case .equals(let key, let value): labels[key] == value
      case .notEquals(let key, let value): labels[key] != value
      case .exists(let key): labels[key] != nil
      case .missing(let key): labels[key] == nil
      }
    }
  }
}

extension JSONValue {
  /// `metadata.labels` as a dictionary.
  var labels: [String: String] {
    var labels: [String: String] = [:]
    for (key, value) in self[path: "metadata.labels"]?.objectValue ?? JSONObject() {
      if let text = value.stringValue { labels[key] = text }
    }
    return labels
  }
}
