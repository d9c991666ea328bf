/// Where a field path points in a document, for messages such as
/// `team.yaml:14:9: spec.workers[2].name: must match …`.
public struct YAMLLocation: Sendable, Hashable, CustomStringConvertible {
  public var file: String?
  public var mark: YAMLMark
  /// The part of the requested path that exists in the document (all of it when ``isExact``).
  public var resolvedPath: String
  /// Whether the whole path exists; otherwise ``mark`` is the nearest existing ancestor.
  public var isExact: Bool

  public var line: Int { mark.line }
  public var column: Int { mark.column }

  /// `team.yaml:14:9` (or `14:9` without a file).
  public var description: String { file.map { "\($0):\(mark)" } ?? mark.description }
}

extension YAMLDocument {
  /// The node at a field path (`spec.workers[2].name`), or nil when the path does not exist.
  public func node(at path: String) -> YAMLNode? {
    let found = lookup(path)
    return found.isExact ? found.node : nil
  }

  /// The position of a field path: for a mapping entry the key's position, for a sequence item
  /// the item's. When the path does not exist (a missing required field, say) it is the
  /// position of the nearest ancestor that does.
  ///
  /// Paths are keys separated by dots with `[i]` for sequence indexes (`spec.workers[2].name`);
  /// a key holding dots or brackets can be written `["app.kubernetes.io/name"]`, and an unquoted
  /// dotted key is found too when no shorter key matches (`metadata.labels.app.kubernetes.io/name`).
  public func location(of path: String) -> YAMLLocation {
    let found = lookup(path)
    return YAMLLocation(file: file, mark: found.mark, resolvedPath: found.resolved, isExact: found.isExact)
  }

  private func lookup(_ path: String) -> (node: YAMLNode, mark: YAMLMark, resolved: String, isExact: Bool) {
    let components = PathComponent.parse(path)
    var node = root
    var mark = root.mark
    var resolved = ""
    var index = 0
    while index < components.count {
      switch components[index] {
      case .index(let position):
        guard let item = node[position] else { return (node, mark, resolved, false) }
        node = item
        mark = item.mark
        resolved += "[\(position)]"
        index += 1
      case .key(let key):
        guard let pairs = node.pairs else { return (node, mark, resolved, false) }
        // The key itself, else the longest run of following keys joined with dots.
        var candidate = key
        var match = pairs.first { $0.name == candidate }
        var used = 1
        var extended = candidate
        var next = index + 1
        while match == nil, next < components.count, case .key(let more) = components[next] {
          extended += "." + more
          next += 1
          if let found = pairs.first(where: { $0.name == extended }) {
            match = found
            candidate = extended
            used = next - index
          }
        }
        guard let match else { return (node, mark, resolved, false) }
        node = match.value
        mark = match.key.mark
        resolved += PathComponent.render(key: candidate, first: resolved.isEmpty)
        index += used
      }
    }
    return (node, mark, resolved, true)
  }
}

enum PathComponent: Hashable {
  case key(String)
  case index(Int)

  /// `a.b[2]["c.d"]` → key a, key b, index 2, key "c.d". Lenient: never fails.
  static func parse(_ path: String) -> [PathComponent] {
    var components: [PathComponent] = []
    var current = ""
    let characters = Array(path)
    var index = 0
    func flush() {
      if !current.isEmpty { components.append(.key(current)) }
      current = ""
    }
    while index < characters.count {
      let character = characters[index]
      switch character {
      case ".":
        flush()
        index += 1
      case "[":
        flush()
        var end = index + 1
        var inside = ""
        if end < characters.count, characters[end] == "\"" || characters[end] == "'" {
          let quote = characters[end]
          end += 1
          while end < characters.count, characters[end] != quote {
            if characters[end] == "\\", end + 1 < characters.count { end += 1 }
            inside.append(characters[end])
            end += 1
          }
          end += 1  // the closing quote
          while end < characters.count, characters[end] != "]" { end += 1 }
          components.append(.key(inside))
        } else {
          while end < characters.count, characters[end] != "]" {
            inside.append(characters[end])
            end += 1
          }
          if let number = Int(inside), number >= 0 {
            components.append(.index(number))
          } else if !inside.isEmpty {
            components.append(.key(inside))
          }
        }
        index = end + 1
      default:
        current.append(character)
        index += 1
      }
    }
    flush()
    return components
  }

  static func render(key: String, first: Bool) -> String {
    if key.contains(where: { $0 == "." || $0 == "[" || $0 == "]" }) || key.isEmpty {
      return "[\"" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        + "\"]"
    }
    return first ? key : "." + key
  }
}
