#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// JSON coding for method requests and responses with the errors the ABI expects.
///
/// The typed layers (``WorkerBackend``, ``AgentRuntime``) use these; a driver that implements
/// ``DriverInstance/call(method:request:)`` by hand can too. Thread-safe.
public enum DriverCodec {
  /// Decodes the request of `method`; an empty request is `{}`.
  /// - Throws: `INVALID_ARGUMENT` whose message names the method and the field path (or the
  ///   parser's position for malformed JSON), e.g.
  ///   `invalid request for 'create': missing required field 'image'`.
  public static func decodeRequest<T: Decodable>(
    _ type: T.Type, from request: Data, method: String
  ) throws(DriverError) -> T {
    do {
      return try WireJSON.decode(type, from: request)
    } catch {
      throw DriverError.invalidArgument(
        "invalid request for '\(method)': \(WireJSON.describe(error))",
        details: ["method": .string(method)])
    }
  }

  /// Encodes the response of `method`.
  /// - Throws: `INTERNAL` if the value cannot be encoded (a non-finite number).
  public static func encodeResponse<T: Encodable>(_ value: T, method: String) throws(DriverError)
    -> Data
  {
    do {
      return try WireJSON.encode(value)
    } catch {
      throw DriverError.internalError(
        "cannot encode the response of '\(method)': \(WireJSON.describe(error))")
    }
  }

  /// Decodes a typed configuration from the instance config.
  /// - Throws: `INVALID_ARGUMENT` naming the field, prefixed with `config`.
  public static func decodeConfig<T: Decodable>(_ type: T.Type, from config: JSONValue)
    throws(DriverError) -> T
  {
    do {
      return try config.decode(type)
    } catch {
      throw DriverError.invalidArgument("invalid driver config: \(WireJSON.describe(error))")
    }
  }
}
