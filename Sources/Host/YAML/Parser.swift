import CYAML
import Foundation

extension YAMLDocument {
  /// Parses a YAML stream into its non-empty documents (a `---` with nothing after it, or a
  /// stream of only comments, yields none).
  ///
  /// Aliases are expanded, merge keys applied and duplicate keys rejected; scalars are kept as
  /// written (see ``json()`` for their values). `file` names the source in every error.
  public static func parse(
    _ text: String, file: String? = nil, limits: YAMLLimits = .standard
  ) throws(YAMLError) -> [YAMLDocument] {
    try LibYAMLReader.parse(source: SourceText(utf8: Array(text.utf8)), file: file, limits: limits)
  }

  /// Parses YAML bytes: UTF-8, or UTF-16 with a byte-order mark.
  public static func parse(
    data: Data, file: String? = nil, limits: YAMLLimits = .standard
  ) throws(YAMLError) -> [YAMLDocument] {
    try LibYAMLReader.parse(source: SourceText(data: data), file: file, limits: limits)
  }

  /// Reads and parses a file; errors name it as `displayName` (default: `path` as given).
  public static func parse(
    contentsOfFile path: String, displayName: String? = nil, limits: YAMLLimits = .standard
  ) throws(YAMLError) -> [YAMLDocument] {
    let name = displayName ?? path
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
      throw YAMLError(.io, file: name, mark: nil, "cannot read the file: \(reason)")
    }
    return try parse(data: data, file: name, limits: limits)
  }
}

/// The input as UTF-8 bytes (what libyaml is given), with enough line bookkeeping to turn byte
/// offsets into positions and to look at the character an error points at.
struct SourceText {
  let bytes: [UInt8]

  init(utf8 bytes: [UInt8]) {
    // A UTF-8 byte-order mark is dropped so that columns on the first line start at 1.
    self.bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
  }

  init(data: Data) {
    if data.starts(with: [0xFE, 0xFF]) || data.starts(with: [0xFF, 0xFE]),
      let text = String(data: data, encoding: .utf16)
    {
      self.init(utf8: Array(text.utf8))
    } else {
      self.init(utf8: Array(data))
    }
  }

  /// Length of the line break at `index` (`\n`, `\r`, `\r\n`, NEL, LS, PS, as libyaml counts
  /// them), or 0.
  func breakLength(at index: Int) -> Int {
    let byte = bytes[index]
    let next = index + 1 < bytes.count ? bytes[index + 1] : 0
    switch byte {
    case UInt8(ascii: "\n"): return 1
    case UInt8(ascii: "\r"): return next == UInt8(ascii: "\n") ? 2 : 1
    case 0xC2 where next == 0x85: return 2
    case 0xE2 where next == 0x80 && index + 2 < bytes.count && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
      return 3
    default: return 0
    }
  }

  /// The position of a byte offset.
  func mark(atOffset offset: Int) -> YAMLMark {
    var line = 1
    var column = 1
    var index = 0
    let end = min(offset, bytes.count)
    while index < end {
      let length = breakLength(at: index)
      if length > 0 {
        line += 1
        column = 1
        index += length
        continue
      }
      if bytes[index] & 0xC0 != 0x80 { column += 1 }
      index += 1
    }
    return YAMLMark(line: line, column: column)
  }

  /// The byte range of a line's text (without its break); nil past the end.
  func lineRange(_ line: Int) -> Range<Int>? {
    var current = 1
    var index = 0
    while current < line {
      guard index < bytes.count else { return nil }
      let length = breakLength(at: index)
      if length > 0 {
        current += 1
        index += length
      } else {
        index += 1
      }
    }
    var end = index
    while end < bytes.count, breakLength(at: end) == 0 { end += 1 }
    return index..<end
  }

  /// The byte offset of a position, if it is inside the text.
  func offset(of mark: YAMLMark) -> Int? {
    guard let range = lineRange(mark.line) else { return nil }
    var index = range.lowerBound
    var column = 1
    while column < mark.column, index < range.upperBound {
      index += 1
      while index < range.upperBound, bytes[index] & 0xC0 == 0x80 { index += 1 }
      column += 1
    }
    return index
  }
}

/// Drives libyaml's event parser and hands each event to a ``Composer``.
enum LibYAMLReader {
  static func parse(source: SourceText, file: String?, limits: YAMLLimits) throws(YAMLError) -> [YAMLDocument] {
    guard !source.bytes.isEmpty else { return [] }
    let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    defer { parser.deallocate() }
    guard yaml_parser_initialize(parser) != 0 else {
      throw YAMLError(.syntax, file: file, mark: YAMLMark(line: 1, column: 1), "out of memory starting the YAML parser")
    }
    defer { yaml_parser_delete(parser) }
    // libyaml reads the input in place, so it gets a buffer that outlives the whole parse.
    let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: source.bytes.count)
    defer { input.deallocate() }
    _ = input.initialize(from: source.bytes)
    yaml_parser_set_input_string(parser, input.baseAddress, input.count)
    yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)

    var composer = Composer(file: file, limits: limits)
    var event = yaml_event_t()
    while true {
      guard yaml_parser_parse(parser, &event) != 0 else {
        throw syntaxError(parser.pointee, source: source, file: file)
      }
      let finished: Bool
      do {
        finished = try composer.handle(event)
      } catch {
        yaml_event_delete(&event)
        throw error
      }
      yaml_event_delete(&event)
      if finished { break }
    }
    return composer.documents
  }

  /// libyaml's error, worded for a person.
  static func syntaxError(_ parser: yaml_parser_t, source: SourceText, file: String?) -> YAMLError {
    let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
    switch parser.error {
    case YAML_MEMORY_ERROR:
      return YAMLError(.syntax, file: file, mark: YAMLMark(line: 1, column: 1), "out of memory while parsing")
    case YAML_READER_ERROR:
      // Reader errors carry a byte offset instead of a mark.
      let mark = source.mark(atOffset: parser.problem_offset)
      var message = problem
      if parser.problem_value != -1 {
        let utf8 = problem.contains("UTF-8")
        let hex = String(parser.problem_value, radix: 16, uppercase: true)
        let digits = String(repeating: "0", count: max(0, (utf8 ? 2 : 4) - hex.count)) + hex
        message += utf8 ? " (byte 0x\(digits))" : " (U+\(digits))"
      }
      if problem.contains("UTF-8") { message += "; YAML text must be UTF-8 (or UTF-16 with a byte-order mark)" }
      return YAMLError(.syntax, file: file, mark: mark, message)
    default:
      break
    }
    var mark = YAMLMark(parser.problem_mark)
    let context = parser.context.map { String(cString: $0) }
    let contextMark = context == nil ? nil : YAMLMark(parser.context_mark)

    // Tabs: libyaml says "found character that cannot start any token" or "found a tab character
    // that violates indentation"; the cause is nearly always a tab used to indent.
    if let tab = tabCausing(mark, in: source) {
      mark = tab.mark
      let message =
        tab.inIndentation
        ? "found a tab character where indentation was expected (YAML indents with spaces only)"
        : "found a tab character where YAML expects a space"
      return YAMLError(.syntax, file: file, mark: mark, message)
    }

    var message = problem
    switch (problem, context) {
    case ("found unexpected end of stream", "while scanning a quoted scalar"?):
      message =
        "reached the end of the file inside the quoted string that starts at \(spelled(contextMark!)); "
        + "is a closing quote missing?"
    case ("found character that cannot start any token", _):
      if let offset = source.offset(of: mark), offset < source.bytes.count {
        let character = String(decoding: source.bytes[offset...].prefix(4), as: UTF8.self).first.map(String.init) ?? "?"
        message = "found character '\(character)' that cannot start any token"
        if character == "@" || character == "`" { message += " (it is reserved in YAML; quote the value)" }
      }
    case ("mapping values are not allowed in this context", _):
      message += " (a ': ' inside a plain value: quote the value, or check the indentation)"
    case ("could not find expected ':'", "while scanning a simple key"?):
      message =
        "could not find the ':' after the key that starts at \(spelled(contextMark!)) "
        + "(a line in a mapping that is not `key: value`?)"
    case ("did not find expected <document start>", nil):
      message =
        "found more content after the document's top-level value; "
        + "start a new document with '---', or check the indentation"
    default:
      if let context, let contextMark {
        message += " (\(context) that starts at \(spelled(contextMark)))"
        if problem.hasPrefix("did not find expected"),
          context.contains("block mapping") || context.contains("block collection")
        {
          message += "; check this line's indentation"
        }
      }
    }
    return YAMLError(.syntax, file: file, mark: mark, message, related: contextMark)
  }

  /// A tab at `mark`, or one in the indentation of `mark`'s line when `mark` is inside or just
  /// after that indentation.
  static func tabCausing(_ mark: YAMLMark, in source: SourceText) -> (mark: YAMLMark, inIndentation: Bool)? {
    guard let range = source.lineRange(mark.line), let offset = source.offset(of: mark) else { return nil }
    let line = source.bytes[range]
    let indentationEnd = line.firstIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } ?? range.upperBound
    if offset <= indentationEnd, let tab = line[..<indentationEnd].firstIndex(of: UInt8(ascii: "\t")) {
      return (YAMLMark(line: mark.line, column: tab - range.lowerBound + 1), true)
    }
    if offset < range.upperBound, source.bytes[offset] == UInt8(ascii: "\t") { return (mark, false) }
    return nil
  }
}

extension YAMLMark {
  init(_ mark: yaml_mark_t) {
    self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
  }
}

/// Builds nodes from libyaml's events: one stack frame per open collection (no recursion, so
/// deep input cannot overflow the stack), anchors per document, aliases expanded as copies
/// counted against ``YAMLLimits/maxNodes``, merge keys applied when a mapping closes.
struct Composer {
  let file: String?
  let limits: YAMLLimits
  private(set) var documents: [YAMLDocument] = []

  /// A finished node with its size (nodes, counting alias copies) and height.
  struct Built {
    var node: YAMLNode
    var count: Int
    var height: Int
  }

  struct Entry {
    var key: YAMLNode
    var name: String
    var value: YAMLNode
    var isMerge: Bool
  }

  struct Frame {
    var isMapping: Bool
    var mark: YAMLMark
    var tag: String?
    var anchor: String?
    var style: YAMLCollectionStyle
    var items: [YAMLNode] = []
    var entries: [Entry] = []
    /// The key waiting for its value.
    var pendingKey: (node: YAMLNode, name: String, isMerge: Bool)?
    /// Where each explicit key is; merged keys never override these.
    var keyMarks: [String: YAMLMark] = [:]
    var mergeMark: YAMLMark?
    var count = 1
    var height = 1
  }

  private var stack: [Frame] = []
  private var anchors: [String: Built] = [:]
  private var documentRoot: YAMLNode?
  private var documentMark = YAMLMark(line: 1, column: 1)
  private var nodeCount = 0

  init(file: String?, limits: YAMLLimits) {
    self.file = file
    self.limits = limits
  }

  func error(_ kind: YAMLError.Kind, _ mark: YAMLMark, _ message: String, related: YAMLMark? = nil) -> YAMLError {
    YAMLError(kind, file: file, mark: mark, message, related: related)
  }

  /// Handles one event; true at the end of the stream.
  mutating func handle(_ event: yaml_event_t) throws(YAMLError) -> Bool {
    let mark = YAMLMark(event.start_mark)
    switch event.type {
    case YAML_STREAM_END_EVENT:
      return true
    case YAML_DOCUMENT_START_EVENT:
      anchors.removeAll()  // anchors never reach across documents
      documentMark = mark
      documentRoot = nil
    case YAML_DOCUMENT_END_EVENT:
      if let root = documentRoot, !root.isEmptyPlainScalar {
        documents.append(YAMLDocument(root: root, file: file, index: documents.count, mark: documentMark))
      }
      documentRoot = nil
    case YAML_SCALAR_EVENT:
      let scalar = event.data.scalar
      let text = string(scalar.value, length: scalar.length) ?? ""
      let style: YAMLScalarStyle =
        switch scalar.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
      try countNodes(1, at: mark, alias: nil)
      let anchor = string(scalar.anchor)
      let node = YAMLNode(.scalar(text, style), tag: string(scalar.tag), anchor: anchor, mark: mark)
      try complete(Built(node: node, count: 1, height: 1), anchor: anchor)
    case YAML_ALIAS_EVENT:
      let name = string(event.data.alias.anchor) ?? ""
      guard let target = anchors[name] else {
        if stack.contains(where: { $0.anchor == name }) {
          throw error(
            .recursiveAlias, mark,
            "alias *\(name) is inside the node anchored &\(name); recursive aliases are not supported")
        }
        throw error(
          .undefinedAlias, mark, "undefined alias *\(name): no anchor &\(name) comes before it in this document")
      }
      try countNodes(target.count, at: mark, alias: name)
      try checkDepth(stack.count + target.height, at: mark)
      var copy = target.node
      copy.mark = mark
      copy.anchor = nil
      copy.alias = name
      try complete(Built(node: copy, count: target.count, height: target.height), anchor: nil)
    case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
      let isMapping = event.type == YAML_MAPPING_START_EVENT
      let (anchor, tag, flow) =
        isMapping
        ? (
          event.data.mapping_start.anchor, event.data.mapping_start.tag,
          event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
        )
        : (
          event.data.sequence_start.anchor, event.data.sequence_start.tag,
          event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
        )
      try countNodes(1, at: mark, alias: nil)
      try checkDepth(stack.count + 1, at: mark)
      stack.append(
        Frame(isMapping: isMapping, mark: mark, tag: string(tag), anchor: string(anchor), style: flow ? .flow : .block))
    case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
      guard let frame = stack.popLast() else { break }
      let content: YAMLNode.Content =
        frame.isMapping ? .mapping(mergedPairs(frame), frame.style) : .sequence(frame.items, frame.style)
      let node = YAMLNode(content, tag: frame.tag, anchor: frame.anchor, mark: frame.mark)
      try complete(Built(node: node, count: frame.count, height: frame.height), anchor: frame.anchor)
    default:
      break
    }
    return false
  }

  private mutating func countNodes(_ count: Int, at mark: YAMLMark, alias: String?) throws(YAMLError) {
    nodeCount += count
    guard nodeCount > limits.maxNodes else { return }
    if let alias {
      throw error(
        .tooManyNodes, mark,
        "expanding alias *\(alias) would take the stream past the limit of \(limits.maxNodes) nodes (an alias bomb?)")
    }
    throw error(.tooManyNodes, mark, "the stream has more than the limit of \(limits.maxNodes) nodes")
  }

  private func checkDepth(_ depth: Int, at mark: YAMLMark) throws(YAMLError) {
    guard depth > limits.maxDepth else { return }
    throw error(.tooDeep, mark, "collections are nested deeper than the limit of \(limits.maxDepth) levels")
  }

  /// A finished node goes to its anchor (if any) and to its parent (or becomes the root).
  private mutating func complete(_ built: Built, anchor: String?) throws(YAMLError) {
    if let anchor { anchors[anchor] = built }  // a later anchor of the same name replaces it
    guard var parent = stack.popLast() else {
      documentRoot = built.node
      return
    }
    defer { stack.append(parent) }
    parent.count += built.count
    parent.height = max(parent.height, built.height + 1)
    guard parent.isMapping else {
      parent.items.append(built.node)
      return
    }
    guard let key = parent.pendingKey else {
      parent.pendingKey = try admitKey(built.node, into: &parent)
      return
    }
    parent.pendingKey = nil
    if key.isMerge { try checkMergeValue(built.node) }
    parent.entries.append(Entry(key: key.node, name: key.name, value: built.node, isMerge: key.isMerge))
  }

  /// Checks a key, records it for duplicate detection and returns it with its name.
  private func admitKey(
    _ node: YAMLNode, into frame: inout Frame
  ) throws(YAMLError) -> (
    node: YAMLNode, name: String, isMerge: Bool
  ) {
    guard case .scalar(let text, let style) = node.content else {
      let what = node.items != nil ? "a sequence" : "a mapping"
      throw error(
        .unsupported, node.mark, "\(what) cannot be a mapping key; keys must be scalars (text, numbers, booleans)")
    }
    if (node.tag == nil && style == .plain && text == "<<") || node.tag == ScalarResolution.corePrefix + "merge" {
      if let first = frame.mergeMark {
        throw error(
          .duplicateKey, node.mark, "duplicate merge key \"<<\" (the first is at \(spelled(first)))", related: first)
      }
      frame.mergeMark = node.mark
      return (node, "<<", true)
    }
    let name: String
    switch ScalarResolution.resolve(text, style: style, tag: node.tag) {
    case .success(let value): name = ScalarResolution.keyName(value)
    case .failure(let problem): throw error(problem.kind, node.mark, "mapping key: " + problem.message)
    }
    if let first = frame.keyMarks[name] {
      throw error(
        .duplicateKey, node.mark, "duplicate key \"\(name)\" (first defined at \(spelled(first)))", related: first)
    }
    frame.keyMarks[name] = node.mark
    return (node, name, false)
  }

  /// `<<` takes a mapping or a sequence of mappings (usually aliases: `<<: *base`, `<<: [*a, *b]`).
  private func checkMergeValue(_ value: YAMLNode) throws(YAMLError) {
    switch value.content {
    case .mapping: return
    case .sequence(let items, _):
      for (index, item) in items.enumerated() where item.pairs == nil {
        throw error(
          .invalidMerge, item.mark,
          "item \(index) of the merge key's list is not a mapping; `<<` merges mappings such as `<<: [*base, *extra]`")
      }
    case .scalar:
      throw error(
        .invalidMerge, value.mark,
        "the value of a merge key `<<` must be a mapping or a list of mappings (usually an alias such as `<<: *base`)")
    }
  }

  /// YAML 1.1 merge: a mapping's own keys win over merged ones wherever they appear; among the
  /// merged mappings the earlier one wins. Merged entries take the place of the `<<` entry, so
  /// the result keeps document order, and keep their own positions (under the anchor).
  private func mergedPairs(_ frame: Frame) -> [YAMLPair] {
    guard frame.mergeMark != nil else {
      return frame.entries.map { YAMLPair(key: $0.key, value: $0.value, name: $0.name) }
    }
    var pairs: [YAMLPair] = []
    var merged: Set<String> = []
    for entry in frame.entries {
      guard entry.isMerge else {
        pairs.append(YAMLPair(key: entry.key, value: entry.value, name: entry.name))
        continue
      }
      let sources = entry.value.items ?? [entry.value]
      for source in sources {
        for pair in source.pairs ?? [] where frame.keyMarks[pair.name] == nil && merged.insert(pair.name).inserted {
          pairs.append(pair)
        }
      }
    }
    return pairs
  }

  private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int? = nil) -> String? {
    guard let pointer else { return nil }
    let count = length ?? strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
  }
}
