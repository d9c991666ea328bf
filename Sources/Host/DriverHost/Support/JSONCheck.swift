import DriverProtocols
import Foundation

/// Why some bytes are not the JSON they should be: the position and the reason.
public struct JSONCheckError: Error, Sendable, Equatable {
  public var message: String
}

/// Strict JSON checks for what drivers return, with positions in the errors (Foundation's parser
/// only says "not in the correct format"), and decoding with field paths.
public enum JSONCheck {
  /// Throws if `text` is not exactly one JSON value, naming the line, column and byte.
  public static func validate(_ text: String) throws(JSONCheckError) {
    if let problem = JSONSyntax.firstProblem(in: Data(text.utf8)) {
      throw JSONCheckError(message: problem.description)
    }
  }

  /// Decodes `T`, turning decoding errors into messages that name the field.
  public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws(JSONCheckError) -> T {
    do {
      return try WireJSON.decode(T.self, from: Data(text.utf8))
    } catch {
      throw JSONCheckError(message: WireJSON.describe(error))
    }
  }
}
