/// Where in a document a field lives: `spec.workers[2].model`, `metadata.labels["app"]`.
///
/// Struct members render as `.name`, array elements as `[index]`, map entries (env, labels,
/// annotations) as `["key"]` so a key containing dots or slashes stays unambiguous.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
  public enum Component: Sendable, Hashable {
    /// A struct member (a field name of the schema).
    case key(String)
    /// An array element.
    case index(Int)
    /// An entry of a map with user-chosen keys (`env`, `labels`, `annotations`).
    case mapKey(String)
  }

  public var components: [Component]

  public init(_ components: [Component] = []) { self.components = components }

  /// A path from its dotted form; only for `.key` components (`"spec.model"`).
  public init(stringLiteral value: String) {
    components = value.isEmpty ? [] : value.split(separator: ".").map { .key(String($0)) }
  }

  public var isEmpty: Bool { components.isEmpty }

  public func key(_ name: String) -> FieldPath { FieldPath(components + [.key(name)]) }
  public func index(_ index: Int) -> FieldPath { FieldPath(components + [.index(index)]) }
  public func mapKey(_ key: String) -> FieldPath { FieldPath(components + [.mapKey(key)]) }

  mutating func append(_ component: Component) { components.append(component) }
  mutating func removeLast() { components.removeLast() }

  /// Whether `self` is `other` or lies inside it.
  public func hasPrefix(_ other: FieldPath) -> Bool { components.starts(with: other.components) }

  public var description: String {
    var text = ""
    for component in components {
      switch component {
      case .key(let name):
        if !text.isEmpty { text += "." }
        text += name
      case .index(let index): text += "[\(index)]"
      case .mapKey(let key): text += "[\(CanonicalJSON.quote(key))]"
      }
    }
    return text
  }
}

/// One problem with one field: where (``path``), what is wrong and how to fix it (``message``).
///
/// `description` is `path: message`, e.g.
/// `spec.workers[2].modle: unknown field (did you mean "model"?)`.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What kind of problem this is; the API server maps it to a status code (syntax, unknown and
  /// wrong-type fields are malformed requests; the rest are invalid values).
  public enum Reason: String, Sendable, Hashable, Codable {
    /// The bytes are not JSON.
    case invalidJSON
    /// A field the schema does not have.
    case unknownField
    /// A field given twice in one object.
    case duplicateField
    /// A value of the wrong JSON type (a string where an integer belongs, …).
    case wrongType
    /// A required field is missing or empty.
    case required
    /// A value breaks a rule (pattern, range, enum, format).
    case invalid
    /// A name that must be unique is not.
    case duplicate
    /// A reference to another object that does not exist.
    case notFound
    /// A name already claimed by another object.
    case conflict
  }

  /// The dotted path of the field (`""` for the document as a whole).
  public var path: String { fieldPath.description }
  public var fieldPath: FieldPath
  public var message: String
  public var reason: Reason
  /// For an unknown field with a close match: the path of the field it probably meant.
  public var suggestedPath: FieldPath?

  public init(_ path: FieldPath, _ message: String, reason: Reason = .invalid) {
    self.fieldPath = path
    self.message = message
    self.reason = reason
  }

  public var description: String { fieldPath.isEmpty ? message : "\(path): \(message)" }
}

/// Every problem found in a document, in the order found. Thrown by ``ResourceDecoder`` and
/// returned by validation (empty means valid). `description` lists one error per line.
public struct FieldErrors: Error, Sendable, Hashable, RandomAccessCollection, CustomStringConvertible,
  ExpressibleByArrayLiteral
{
  public var errors: [FieldError]

  public init(_ errors: [FieldError] = []) { self.errors = errors }
  public init(arrayLiteral elements: FieldError...) { errors = elements }

  public var startIndex: Int { errors.startIndex }
  public var endIndex: Int { errors.endIndex }
  public subscript(position: Int) -> FieldError { errors[position] }

  /// The paths, in order (handy in tests and for API `details`).
  public var paths: [String] { errors.map(\.path) }

  public mutating func append(_ error: FieldError) { errors.append(error) }
  public mutating func append(contentsOf other: FieldErrors) { errors.append(contentsOf: other.errors) }

  mutating func add(_ path: FieldPath, _ message: String, _ reason: FieldError.Reason = .invalid) {
    errors.append(FieldError(path, message, reason: reason))
  }

  public var description: String { errors.map(\.description).joined(separator: "\n") }
}
