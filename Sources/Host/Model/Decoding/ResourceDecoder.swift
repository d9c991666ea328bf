import Foundation

/// What ``ResourceDecoder`` does with fields the schema does not have.
public enum DecodeMode: Sendable, Hashable {
  /// Unknown and repeated fields are errors (the default, like `kubectl --validate=strict`).
  case strict
  /// Unknown and repeated fields are dropped and reported as warnings.
  case lenient
}

/// A decoded value plus the warnings of a lenient decode (always empty in strict mode).
public struct Decoded<Value: Sendable>: Sendable {
  public var value: Value
  public var warnings: FieldErrors

  public init(value: Value, warnings: FieldErrors = []) {
    self.value = value
    self.warnings = warnings
  }
}

extension Decoded: Equatable where Value: Equatable {}

/// Turns user-supplied JSON into typed resources, reporting every problem at once.
///
/// Checks, in one pass: the JSON syntax; `apiVersion` is `hiclaw.io/v1beta1`; `kind` is one of
/// the four; every field exists in the schema (strict) — an unknown field is reported with its
/// path and, when one is close, the field it was probably meant to be
/// (`spec.workers[2].modle: unknown field (did you mean "model"?)`); every value has the right
/// JSON type (`spec.expose[0].port: expected integer, got string "80" (remove the quotes)`).
/// Missing required fields are not decoding errors: they decode as empty and ``Validation``
/// reports them. ``decodeAndValidate(_:)-(Data)`` does both and merges the results.
public struct ResourceDecoder: Sendable {
  public var mode: DecodeMode

  public init(mode: DecodeMode = .strict) { self.mode = mode }

  // MARK: Any kind

  /// Decodes one resource document of any kind.
  public func decode(_ data: Data) throws(FieldErrors) -> Decoded<AnyResource> {
    let (node, duplicates) = try Self.parse(data)
    return try decode(node, duplicates: duplicates)
  }

  /// Decodes one resource of any kind from a parsed document (for example from the YAML module).
  public func decode(_ node: JSONNode) throws(FieldErrors) -> Decoded<AnyResource> {
    try decode(node, duplicates: [])
  }

  /// Decodes, then validates; all decoding and validation errors are thrown together. A
  /// validation error at or below a path that already has a decoding error is left out (it
  /// would only restate it).
  public func decodeAndValidate(_ data: Data) throws(FieldErrors) -> Decoded<AnyResource> {
    let (node, duplicates) = try Self.parse(data)
    return try decodeAndValidate(node, duplicates: duplicates)
  }

  /// ``decodeAndValidate(_:)-(Data)`` for a parsed document.
  public func decodeAndValidate(_ node: JSONNode) throws(FieldErrors) -> Decoded<AnyResource> {
    try decodeAndValidate(node, duplicates: [])
  }

  // MARK: One kind

  /// Decodes a resource of kind `R` (a document of another kind is an error on `kind`).
  public func decode<R: Resource>(_ type: R.Type, from data: Data) throws(FieldErrors) -> Decoded<R> {
    let (node, duplicates) = try Self.parse(data)
    return try decode(type, from: node, duplicates: duplicates)
  }

  /// Decodes a resource of kind `R` from a parsed document.
  public func decode<R: Resource>(_ type: R.Type, from node: JSONNode) throws(FieldErrors) -> Decoded<R> {
    try decode(type, from: node, duplicates: [])
  }

  // MARK: Implementation

  static func parse(_ data: Data) throws(FieldErrors) -> (JSONNode, [FieldPath]) {
    do {
      return try JSONNode.parseReportingDuplicates(data)
    } catch {
      throw FieldErrors([FieldError(FieldPath(), error.description, reason: .invalidJSON)])
    }
  }

  /// ``decodeAndValidate(_:)-(Data)`` for a document parsed with
  /// ``JSONNode/parseReportingDuplicates(_:)``, whose repeated keys are reported as errors
  /// (strict mode) or warnings.
  public func decodeAndValidate(_ node: JSONNode, duplicates: [FieldPath]) throws(FieldErrors) -> Decoded<AnyResource> {
    let (value, log, warnings) = decodeCollecting(node, expected: nil, duplicates: duplicates)
    var errors = log
    if let value {
      let decodingPaths = errors.map(\.fieldPath)
      // `spec.modle: unknown field (did you mean "model"?)` already says what `spec.model:
      // required` would say.
      let suggested = Set(errors.compactMap(\.suggestedPath))
      for error in Validation.validate(value)
      where !decodingPaths.contains(where: { error.fieldPath.hasPrefix($0) })
        && !(error.reason == .required && suggested.contains(error.fieldPath))
      {
        errors.append(error)
      }
    }
    guard errors.isEmpty, let value else { throw errors }
    return Decoded(value: value, warnings: warnings)
  }

  func decode(_ node: JSONNode, duplicates: [FieldPath]) throws(FieldErrors) -> Decoded<AnyResource> {
    let (value, errors, warnings) = decodeCollecting(node, expected: nil, duplicates: duplicates)
    guard errors.isEmpty, let value else { throw errors }
    return Decoded(value: value, warnings: warnings)
  }

  func decode<R: Resource>(_ type: R.Type, from node: JSONNode, duplicates: [FieldPath]) throws(FieldErrors)
    -> Decoded<R>
  {
    let (value, errors, warnings) = decodeCollecting(node, expected: R.kind, duplicates: duplicates)
    guard errors.isEmpty, let value, let typed = value.base as? R else { throw errors }
    return Decoded(value: typed, warnings: warnings)
  }

  /// Decodes what it can and returns the value (when the envelope allowed decoding at all), the
  /// errors and the warnings.
  func decodeCollecting(_ node: JSONNode, expected: Kind?, duplicates: [FieldPath]) -> (
    AnyResource?, FieldErrors, FieldErrors
  ) {
    var errors = FieldErrors()
    var warnings = FieldErrors()
    for path in duplicates {
      let message = "field given more than once; keep one"
      if mode == .strict { errors.add(path, message, .duplicateField) } else { warnings.add(path, message, .duplicateField) }
    }
    guard case .object(let members) = node else {
      errors.add(
        FieldPath(), "expected a JSON object with apiVersion, kind, metadata and spec, got \(node.typeAndValue)",
        .wrongType)
      return (nil, errors, warnings)
    }
    let kind = Self.checkEnvelope(members, expected: expected, into: &errors)
    guard let kind else { return (nil, errors, warnings) }

    let log = DecodeLog()
    let decoder = StrictDecoder(node: node, path: FieldPath(), log: log)
    let value: AnyResource
    do {
      switch kind {
      case .worker: value = .worker(try Worker(from: decoder))
      case .team: value = .team(try Team(from: decoder))
      case .human: value = .human(try Human(from: decoder))
      case .manager: value = .manager(try Manager(from: decoder))
      }
    } catch {
      // Not reached with the Model's own types (StrictDecoder recovers from every value error);
      // kept so a future type cannot crash the decoder.
      errors.append(contentsOf: log.errors)
      errors.add(FieldPath(), "cannot decode: \(error)", .wrongType)
      return (nil, errors, warnings)
    }
    errors.append(contentsOf: log.errors)
    for unknown in Self.unknownFields(log, kind: kind) {
      if mode == .strict { errors.append(unknown) } else { warnings.append(unknown) }
    }
    return (value, errors, warnings)
  }

  /// Checks `apiVersion` and `kind`; returns the kind when decoding can go on.
  static func checkEnvelope(_ members: [String: JSONNode], expected: Kind?, into errors: inout FieldErrors) -> Kind? {
    // Only the error messages need it.
    var kinds: String { Kind.allCases.map(\.rawValue).joined(separator: ", ") }
    switch members["apiVersion"] {
    case nil, .null?:
      errors.add("apiVersion", "required: set apiVersion: \(hiclawAPIVersion)", .required)
    case .string(let version)? where version == hiclawAPIVersion:
      break
    case .string(let version)?:
      var message = "unsupported apiVersion \(CanonicalJSON.quote(version)); hiclaw serves \(hiclawAPIVersion)"
      if version.hasPrefix("agentteams.io/") {
        message += " (agentteams.io is the renamed upstream API, not served here)"
      }
      errors.add("apiVersion", message)
    case let other?:
      errors.add("apiVersion", "expected string, got \(other.typeAndValue); set apiVersion: \(hiclawAPIVersion)", .wrongType)
    }
    switch members["kind"] {
    case nil, .null?:
      errors.add("kind", "required: set kind to one of \(kinds)", .required)
      return nil
    case .string(let text)?:
      guard let kind = Kind(rawValue: text) else {
        var message = "unknown kind \(CanonicalJSON.quote(text)); must be one of \(kinds)"
        if let near = Kind(parsing: text) ?? closest(to: text, among: Kind.allCases.map(\.rawValue)).flatMap({ Kind(rawValue: $0) }) {
          message += " (did you mean \"\(near.rawValue)\"?)"
        }
        errors.add("kind", message)
        return nil
      }
      if let expected, kind != expected {
        errors.add("kind", "expected \(expected.rawValue), got \(kind.rawValue)")
        return nil
      }
      return kind
    case let other?:
      errors.add("kind", "expected string, got \(other.typeAndValue); set kind to one of \(kinds)", .wrongType)
      return nil
    }
  }

  /// Every field of an opened object that its type did not ask for, in path order.
  static func unknownFields(_ log: DecodeLog, kind: Kind) -> [FieldError] {
    var found: [FieldError] = []
    for visit in log.visits where !visit.isMap {
      for key in visit.unqueriedKeys {
        let path = visit.path.key(key)
        var message = "unknown field"
        var suggested: FieldPath?
        if let hint = hint(kind: kind, at: visit.path, field: key) {
          message += "; \(hint)"
        } else if let suggestion = closest(to: key, among: visit.queriedFields) {
          message += " (did you mean \"\(suggestion)\"?)"
          suggested = visit.path.key(suggestion)
        } else {
          message += "; remove it (fields allowed here: \(visit.queriedFields.joined(separator: ", ")))"
        }
        var error = FieldError(path, message, reason: .unknownField)
        error.suggestedPath = suggested
        found.append(error)
      }
    }
    return found
  }

  /// Explanations for fields that look reasonable but do not exist on purpose.
  static func hint(kind: Kind, at parent: FieldPath, field: String) -> String? {
    let shape = parent.components.map { component -> String in
      switch component {
      case .key(let name): name
      case .index: "[]"
      case .mapKey: "{}"
      }
    }.joined(separator: ".")
    switch (kind, shape, field) {
    case (.team, "spec.leader", "runtime"):
      return "the team leader always runs the \(Runtime.teamLeader) runtime; remove it"
    case (.team, "spec.leader", "image"):
      return "the team leader always uses the \(Runtime.teamLeader) runtime's image; remove it"
    case (.team, "spec.leader", "skills"):
      return "the team leader has no built-in skills list; use remoteSkills or a package"
    case (.team, "spec.leader", "expose"):
      return "the team leader never exposes ports; expose them from a team worker"
    case (.team, "spec.workers.[]", "containerManaged"):
      return "team members are always container-managed; use a standalone Worker for containerManaged: false"
    case (.worker, "spec", "team"), (.worker, "spec", "teamLeader"), (.worker, "spec", "role"):
      return "a Worker cannot join a team by itself; declare it under a Team's spec.workers instead"
    default:
      return nil
    }
  }
}

/// The candidate closest to `word` by edit distance (adjacent transpositions count once), if it
/// is close enough to be a plausible typo: case and `_`/`-` differences alone always match;
/// otherwise at most 1 edit for words up to 4 characters, 2 up to 8, 3 beyond.
func closest(to word: String, among candidates: [String]) -> String? {
  func folded(_ text: String) -> String { text.lowercased().filter { $0 != "_" && $0 != "-" } }
  let target = folded(word)
  if let exact = candidates.first(where: { folded($0) == target }) { return exact }
  let limit = word.count <= 4 ? 1 : word.count <= 8 ? 2 : 3
  var best: (String, Int)?
  for candidate in candidates {
    let distance = editDistance(Array(word.lowercased()), Array(candidate.lowercased()))
    if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
  }
  return best?.0
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions each cost 1.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previousPrevious = [Int](repeating: 0, count: b.count + 1)
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let cost = a[i - 1] == b[j - 1] ? 0 : 1
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
        current[j] = min(current[j], previousPrevious[j - 2] + 1)
      }
    }
    (previousPrevious, previous, current) = (previous, current, previousPrevious)
  }
  return previous[b.count]
}
