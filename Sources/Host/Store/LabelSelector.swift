import Foundation

/// A Kubernetes-style label selector: every requirement must hold.
///
/// Text form (``init(parsing:)``): comma-separated `key=value`, `key==value`, `key!=value`,
/// `key` (has the label) and `!key` (does not have it). `key!=value` also matches objects
/// without the label, as in Kubernetes. Selection runs in SQL against an index of labels.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
  public enum Requirement: Sendable, Hashable {
    case equals(String, String)
    case notEquals(String, String)
    case exists(String)
    case doesNotExist(String)
  }

  public var requirements: [Requirement]

  public init(_ requirements: [Requirement] = []) { self.requirements = requirements }

  /// All of `labels` must match exactly.
  public init(matching labels: [String: String]) {
    requirements = labels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
  }

  /// Parses `app=web,tier!=db,canary,!legacy`.
  /// - Throws: ``StoreError/Code-swift.struct/invalid`` naming the bad requirement.
  public init(parsing text: String) throws(StoreError) {
    var requirements: [Requirement] = []
    for rawPart in text.split(separator: ",", omittingEmptySubsequences: false) {
      let part = rawPart.trimmingWhitespace()
      guard !part.isEmpty else {
        if text.trimmingWhitespace().isEmpty { break }
        throw Self.bad(text, "an empty requirement")
      }
      if let range = part.range(of: "!=") {
        requirements.append(.notEquals(try Self.key(part[..<range.lowerBound], text), Self.value(part[range.upperBound...])))
      } else if let range = part.range(of: "==") ?? part.range(of: "=") {
        requirements.append(.equals(try Self.key(part[..<range.lowerBound], text), Self.value(part[range.upperBound...])))
      } else if part.hasPrefix("!") {
        requirements.append(.doesNotExist(try Self.key(part.dropFirst(), text)))
      } else {
        requirements.append(.exists(try Self.key(Substring(part), text)))
      }
    }
    self.requirements = requirements
  }

  private static func key(_ raw: Substring, _ text: String) throws(StoreError) -> String {
    let key = String(raw).trimmingWhitespace()
    guard !key.isEmpty, !key.contains(where: { "=!, ".contains($0) }) else {
      throw bad(text, "a requirement without a valid key")
    }
    return key
  }

  private static func value(_ raw: Substring) -> String { String(raw).trimmingWhitespace() }

  private static func bad(_ text: String, _ what: String) -> StoreError {
    StoreError(.invalid, "the label selector \"\(text)\" has \(what)",
      fix: "write requirements like app=web,tier!=db,canary,!legacy separated by commas")
  }

  /// Whether `labels` satisfy every requirement (the same rule the SQL applies).
  public func matches(_ labels: [String: String]) -> Bool {
    requirements.allSatisfy { requirement in
      switch requirement {
      case .equals(let key, let value): labels[key] == value
      case .notEquals(let key, let value): labels[key] != value
      case .exists(let key): labels[key] != nil
      case .doesNotExist(let key): labels[key] == nil
      }
    }
  }

  public var description: String {
    requirements.map { requirement in
      switch requirement {
      case .equals(let key, let value): "\(key)=\(value)"
      case .notEquals(let key, let value): "\(key)!=\(value)"
      case .exists(let key): key
      case .doesNotExist(let key): "!\(key)"
      }
    }.joined(separator: ",")
  }
}

extension StringProtocol {
  func trimmingWhitespace() -> String { String(self).trimmingCharacters(in: .whitespacesAndNewlines) }
}
