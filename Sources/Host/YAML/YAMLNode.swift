// YAML: a thin wrapper over libyaml's event parser (system library, see CYAML) for hiclaw's
// resource files.
//
//   YAMLDocument.parse(_:file:) / parse(data:file:) / parse(contentsOfFile:)  → [YAMLDocument]
//     a stream of documents (empty ones skipped) of YAMLNodes with 1-based line/column marks;
//     aliases expanded (bounded by YAMLLimits), merge keys applied, duplicate keys rejected.
//   YAMLDocument.json() / jsonData(keyOrder:prettyPrinted:)                    → JSONValue / Data
//     YAML 1.2 core-schema scalar resolution (ScalarResolution.swift has the rules).
//   YAMLDocument.location(of: "spec.workers[2].name")                          → YAMLLocation
//     the source position of a field path, for `team.yaml:14:9: spec.workers[2].name: …`.
//
// Every failure is a YAMLError carrying file, line and column and a message meant for a person.

/// A position in a YAML source: 1-based line and column. Columns count characters (Unicode
/// scalars), not bytes, the way libyaml counts them.
public struct YAMLMark: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var line: Int
  public var column: Int

  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }

  public static func < (lhs: YAMLMark, rhs: YAMLMark) -> Bool {
    (lhs.line, lhs.column) < (rhs.line, rhs.column)
  }

  /// `"12:5"`.
  public var description: String { "\(line):\(column)" }
}

/// How a scalar was written. Only `.plain` scalars are resolved to null, booleans and numbers;
/// every other style is a string (unless an explicit tag says otherwise).
public enum YAMLScalarStyle: Sendable, Hashable {
  case plain
  case singleQuoted
  case doubleQuoted
  /// `|` block scalar.
  case literal
  /// `>` block scalar.
  case folded
}

/// How a sequence or mapping was written: indentation (`block`) or brackets/braces (`flow`).
public enum YAMLCollectionStyle: Sendable, Hashable {
  case block
  case flow
}

/// One node of a composed YAML document.
///
/// Aliases are already expanded (an alias is a copy of its anchored node, with ``mark`` moved to
/// the `*alias` and ``alias`` set) and merge keys (`<<`) already applied, so the tree is exactly the
/// data the document describes. Nodes inside an alias copy keep the positions where they were
/// written, under the anchor.
public struct YAMLNode: Sendable, Hashable {
  public enum Content: Sendable, Hashable {
    /// The scalar's text as written (after YAML's quoting, escaping and folding rules).
    case scalar(String, YAMLScalarStyle)
    case sequence([YAMLNode], YAMLCollectionStyle)
    /// Entries in document order; keys are unique by ``YAMLPair/name``.
    case mapping([YAMLPair], YAMLCollectionStyle)
  }

  public var content: Content
  /// The explicit tag in full form (`"tag:yaml.org,2002:int"` for `!!int`, `"!"` for the
  /// non-specific tag, `"!foo"` for a local tag); nil when the node has none.
  public var tag: String?
  /// The node's anchor (`&name`), if it has one.
  public var anchor: String?
  /// The alias this node was expanded from (`*name`), if any.
  public var alias: String?
  /// Where the node starts (for an alias copy: where the `*alias` is).
  public var mark: YAMLMark

  public init(
    _ content: Content, tag: String? = nil, anchor: String? = nil, alias: String? = nil,
    mark: YAMLMark = YAMLMark(line: 1, column: 1)
  ) {
    self.content = content
    self.tag = tag
    self.anchor = anchor
    self.alias = alias
    self.mark = mark
  }

  /// The scalar's text, or nil for a collection.
  public var scalar: String? {
    if case .scalar(let text, _) = content { return text }
    return nil
  }

  /// The sequence's items, or nil.
  public var items: [YAMLNode]? {
    if case .sequence(let items, _) = content { return items }
    return nil
  }

  /// The mapping's entries, or nil.
  public var pairs: [YAMLPair]? {
    if case .mapping(let pairs, _) = content { return pairs }
    return nil
  }

  /// The entry of a mapping whose key reads as `name` (see ``YAMLPair/name``).
  public func pair(named name: String) -> YAMLPair? {
    pairs?.first { $0.name == name }
  }

  /// The value of a mapping entry (`node["spec"]`), or nil.
  public subscript(key: String) -> YAMLNode? { pair(named: key)?.value }

  /// The item of a sequence (`node[2]`), or nil when out of range or not a sequence.
  public subscript(index: Int) -> YAMLNode? {
    guard let items, items.indices.contains(index) else { return nil }
    return items[index]
  }

  /// What a document holding nothing (`---` alone, or only comments) is made of.
  var isEmptyPlainScalar: Bool {
    if case .scalar("", .plain) = content, tag == nil, anchor == nil, alias == nil { return true }
    return false
  }
}

/// One entry of a mapping.
public struct YAMLPair: Sendable, Hashable {
  public var key: YAMLNode
  public var value: YAMLNode
  /// The key as a JSON object key: the resolved scalar as text (`"1"` for the int key `1`,
  /// `"true"` for `true`, `"null"` for `~`). Duplicate detection and path lookup use it.
  public var name: String

  public init(key: YAMLNode, value: YAMLNode, name: String) {
    self.key = key
    self.value = value
    self.name = name
  }
}

/// One document of a YAML stream.
public struct YAMLDocument: Sendable, Hashable {
  public var root: YAMLNode
  /// The file it was read from, as given to the parser (used in every error and location).
  public var file: String?
  /// 0-based position among the non-empty documents of its stream.
  public var index: Int
  /// Where the document starts (its `---`, or its first node).
  public var mark: YAMLMark

  public init(root: YAMLNode, file: String? = nil, index: Int = 0, mark: YAMLMark? = nil) {
    self.root = root
    self.file = file
    self.index = index
    self.mark = mark ?? root.mark
  }
}

/// Limits that keep hostile input from exhausting memory or the stack.
public struct YAMLLimits: Sendable, Hashable {
  /// Nodes a whole stream may expand to, counting every node an alias copies; stops
  /// "billion laughs" alias bombs.
  public var maxNodes: Int
  /// Nesting depth (collections inside collections, aliases included).
  public var maxDepth: Int

  public init(maxNodes: Int = 1_000_000, maxDepth: Int = 256) {
    self.maxNodes = maxNodes
    self.maxDepth = maxDepth
  }

  public static let standard = YAMLLimits()
}
