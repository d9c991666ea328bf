import Foundation

/// Everything that can go wrong reading YAML, worded for a person and always (except for an
/// unreadable file) pointing at a line and column: `team.yaml:12:5: found a tab character where
/// indentation was expected`.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
  public enum Kind: Sendable, Hashable {
    /// libyaml rejected the text (bad indentation, tabs, unterminated quotes, invalid UTF-8 …).
    case syntax
    /// The same key twice in one mapping; ``YAMLError/related`` is the first one.
    case duplicateKey
    /// `*name` with no `&name` before it in the same document.
    case undefinedAlias
    /// `*name` inside the node anchored `&name`.
    case recursiveAlias
    /// The stream expands to more nodes than ``YAMLLimits/maxNodes`` (an alias bomb).
    case tooManyNodes
    /// Nesting deeper than ``YAMLLimits/maxDepth``.
    case tooDeep
    /// A merge key (`<<`) whose value is not a mapping or a list of mappings.
    case invalidMerge
    /// A value JSON cannot carry or a tag's content that does not fit the tag
    /// (`.inf`, `!!int abc`, an integer beyond 64 bits).
    case invalidValue
    /// A construct outside what hiclaw reads: unknown tags, mappings used as keys.
    case unsupported
    /// The file could not be read. The only kind without a position.
    case io
  }

  public var kind: Kind
  /// The file, as given to the parser; nil for text parsed without a name.
  public var file: String?
  /// Where the problem is; nil only for ``Kind/io``.
  public var mark: YAMLMark?
  /// What went wrong, without the position prefix.
  public var message: String
  /// A second position the message refers to (the first of two duplicate keys, the start of an
  /// unterminated string …).
  public var related: YAMLMark?

  public init(_ kind: Kind, file: String?, mark: YAMLMark?, _ message: String, related: YAMLMark? = nil) {
    self.kind = kind
    self.file = file
    self.mark = mark
    self.message = message
    self.related = related
  }

  /// `file:line:column` (or the parts of it that are known).
  public var location: String {
    switch (file, mark) {
    case (let file?, let mark?): "\(file):\(mark.line):\(mark.column)"
    case (nil, let mark?): "\(mark.line):\(mark.column)"
    case (let file?, nil): file
    case (nil, nil): "<input>"
    }
  }

  /// `team.yaml:12:5: found a tab character where indentation was expected`.
  public var description: String { "\(location): \(message)" }
  public var errorDescription: String? { description }
}

/// `line 3, column 7`, for messages that mention a second position.
func spelled(_ mark: YAMLMark) -> String { "line \(mark.line), column \(mark.column)" }

/// `!!int` for `tag:yaml.org,2002:int`; other tags as they are.
func shortTag(_ tag: String) -> String {
  let core = "tag:yaml.org,2002:"
  return tag.hasPrefix(core) ? "!!" + tag.dropFirst(core.count) : tag
}
