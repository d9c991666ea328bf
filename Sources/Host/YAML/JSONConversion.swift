import Foundation

extension YAMLNode {
  /// The node as a JSON value: scalars resolved by the YAML 1.2 core schema (see
  /// ``ScalarResolution``), sequences as arrays, mappings as objects in document order with
  /// every key as text. Errors (`.inf`, `!!int abc`, unknown tags …) carry the node's position;
  /// `file` names the source in them.
  public func json(file: String? = nil) throws(YAMLError) -> JSONValue {
    switch content {
    case .scalar(let text, let style):
      switch ScalarResolution.resolve(text, style: style, tag: tag) {
      case .success(let value): return value
      case .failure(let problem): throw YAMLError(problem.kind, file: file, mark: mark, problem.message)
      }
    case .sequence(let items, _):
      try checkCollectionTag("seq", file: file)
      var array: [JSONValue] = []
      array.reserveCapacity(items.count)
      for item in items { array.append(try item.json(file: file)) }
      return .array(array)
    case .mapping(let pairs, _):
      try checkCollectionTag("map", file: file)
      var object = JSONObject()
      for pair in pairs {
        // The parser never produces duplicate names; a hand-built node might.
        if object[pair.name] != nil {
          throw YAMLError(.duplicateKey, file: file, mark: pair.key.mark, "duplicate key \"\(pair.name)\"")
        }
        object[pair.name] = try pair.value.json(file: file)
      }
      return .object(object)
    }
  }

  private func checkCollectionTag(_ expected: String, file: String?) throws(YAMLError) {
    guard let tag, tag != "!", tag != ScalarResolution.corePrefix + expected else { return }
    let what = expected == "seq" ? "a sequence" : "a mapping"
    let coreTypes: Set = ["str", "int", "float", "bool", "null", "binary", "timestamp", "seq", "map"]
    if tag.hasPrefix(ScalarResolution.corePrefix),
      coreTypes.contains(String(tag.dropFirst(ScalarResolution.corePrefix.count)))
    {
      throw YAMLError(.invalidValue, file: file, mark: mark, "\(what) cannot have the tag \(shortTag(tag))")
    }
    throw YAMLError(.unsupported, file: file, mark: mark, ScalarResolution.unsupportedTag(tag).message)
  }
}

extension YAMLDocument {
  /// The document's JSON value; see ``YAMLNode/json(file:)``.
  public func json() throws(YAMLError) -> JSONValue { try root.json(file: file) }

  /// The document as JSON text, ready for the API.
  public func jsonData(keyOrder: JSONKeyOrder = .document, prettyPrinted: Bool = false) throws(YAMLError) -> Data {
    try json().jsonData(keyOrder: keyOrder, prettyPrinted: prettyPrinted)
  }
}
