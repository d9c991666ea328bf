#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The JSON coding rules of the driver wire protocols, shared by the SDK and the host.
///
/// - Keys are spelled out by each model's `CodingKeys` (snake_case on the wire), so never combine
///   these models with a `keyEncodingStrategy`/`keyDecodingStrategy`: use these functions.
/// - Output has sorted keys and unescaped slashes, so equal values give equal bytes. (The hot
///   messages are written by hand, with keys in UTF-8 byte order; see WireFastPath.swift.)
/// - An empty request body means `{}`.
/// - Unknown fields are ignored on input (protocol minors only add optional fields).
///
/// Thread-safe: every call uses its own coder.
public enum WireJSON {
  /// Encodes `value` as compact JSON with sorted keys.
  /// - Throws: `EncodingError` (only for non-finite numbers).
  public static func encode<T: Encodable>(_ value: T) throws -> Data {
    if let fast = value as? any WireFastEncodable {
      var writer = WireWriter()
      if fast.writeWire(&writer) { return Data(writer.bytes) }
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
  }

  /// Decodes `type` from `data`; an empty `data` is read as `{}`.
  /// - Throws: `DecodingError`; ``describe(_:)`` turns it into a message naming the field.
  public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    let input = data.isEmpty ? Data("{}".utf8) : data
    // The hot messages (see WireFastPath.swift); anything they do not fully understand,
    // malformed input included, takes the Codable path below.
    if let fast = T.self as? any WireFastDecodable.Type,
      let value = input.withUnsafeBytes({ bytes in WireValue.parse(bytes).flatMap { fast.init(wire: $0) } }),
      let typed = value as? T
    {
      return typed
    }
    // Foundation's decoder on Linux accepts some invalid JSON (trailing commas, unknown escapes);
    // every side of the ABI must refuse the same documents, so check strictly first.
    if let problem = JSONSyntax.firstProblem(in: input) {
      throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: [], debugDescription: problem.description))
    }
    do {
      return try JSONDecoder().decode(type, from: input)
    } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
      // The parser's message has no position; find it.
      guard let problem = JSONSyntax.firstProblem(in: input) else {
        throw DecodingError.dataCorrupted(context)
      }
      throw DecodingError.dataCorrupted(
        DecodingError.Context(
          codingPath: [], debugDescription: problem.description,
          underlyingError: context.underlyingError))
    }
  }

  /// A one-line, human-readable description of a coding error that names the offending field as
  /// a path (`ports[0].container`) or, for malformed JSON, the parser's position message.
  public static func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else {
      if let error = error as? EncodingError, case .invalidValue(_, let context) = error {
        return "cannot encode \(fieldPath(context.codingPath)): \(context.debugDescription)"
      }
      return String(describing: error)
    }
    switch error {
    case .keyNotFound(let key, let context):
      return "missing required field '\(fieldPath(context.codingPath + [key]))'"
    case .valueNotFound(let type, let context):
      return "field '\(fieldPath(context.codingPath))': expected \(jsonTypeName(type)), found null"
    case .typeMismatch(let type, let context):
      if context.codingPath.isEmpty {
        return "expected a JSON \(jsonTypeName(type)) at the top level"
      }
      return "field '\(fieldPath(context.codingPath))': expected \(jsonTypeName(type))"
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty {
        return "malformed JSON: \(context.debugDescription)"
      }
      return "field '\(fieldPath(context.codingPath))': \(context.debugDescription)"
    @unknown default:
      return String(describing: error)
    }
  }

  /// Renders a coding path as `a.b[2].c`; the empty path is `(root)`.
  public static func fieldPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
      if let index = key.intValue,
        key.stringValue.hasPrefix("Index ") || key.stringValue == "\(index)"
      {
        out += "[\(index)]"
      } else {
        out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
      }
    }
    return out.isEmpty ? "(root)" : out
  }

  private static func jsonTypeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "string"
    case is Bool.Type: return "boolean"
    case is Int.Type, is Int32.Type, is Int64.Type, is UInt.Type, is UInt32.Type, is UInt64.Type,
      is Double.Type, is Float.Type:
      return "number"
    default:
      let name = String(describing: type)
      if name.hasPrefix("Dictionary") { return "object" }
      if name.hasPrefix("Array") { return "array" }
      if name == "JSONValue" { return "JSON value" }
      return "object"
    }
  }
}
