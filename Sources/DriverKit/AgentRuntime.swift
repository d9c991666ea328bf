#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A typed `hiclaw.agent-runtime/1` instance: one method per protocol method.
///
/// Conform, implement the methods listed in your ``DriverDefinition/methods``, and leave the
/// others to the defaults, which throw `UNIMPLEMENTED`. ``call(method:request:)`` is provided
/// (see ``AgentRuntimeRouter``).
///
/// Runtime methods are pure functions of their request: no side effects, so every call is
/// idempotent. An invalid worker spec is a successful `validate` with `valid: false`; `render`
/// of an invalid spec throws `INVALID_ARGUMENT` naming the field.
///
/// Threading: methods run concurrently on Swift's cooperative pool.
public protocol AgentRuntime: DriverInstance {
  /// `ping`: liveness. Default: driver name and version, empty `backend`.
  func ping() async throws(DriverError) -> PingResponse
  /// `describe`: what the runtime is and produces.
  func describe() async throws(DriverError) -> AgentRuntimeV1.RuntimeDescription
  /// `validate`: checks a worker spec.
  func validate(_ request: AgentRuntimeV1.ValidateRequest) async throws(DriverError)
    -> AgentRuntimeV1.ValidateResponse
  /// `render`: files, env, image, command, ports and readiness for a worker.
  func render(_ request: AgentRuntimeV1.RenderRequest) async throws(DriverError)
    -> AgentRuntimeV1.RenderResponse
}

extension AgentRuntime {
  /// Default: the driver's name and version with an empty `backend`.
  public func ping() async throws(DriverError) -> PingResponse {
    DriverRuntime.defaultPing()
  }

  /// Default: throws `UNIMPLEMENTED` for `describe`.
  public func describe() async throws(DriverError) -> AgentRuntimeV1.RuntimeDescription {
    throw .unimplemented("describe")
  }

  /// Default: throws `UNIMPLEMENTED` for `validate`.
  public func validate(_ request: AgentRuntimeV1.ValidateRequest) async throws(DriverError)
    -> AgentRuntimeV1.ValidateResponse
  {
    throw .unimplemented("validate")
  }

  /// Default: throws `UNIMPLEMENTED` for `render`.
  public func render(_ request: AgentRuntimeV1.RenderRequest) async throws(DriverError)
    -> AgentRuntimeV1.RenderResponse
  {
    throw .unimplemented("render")
  }

  /// Routes to the typed methods through ``AgentRuntimeRouter``.
  public func call(method: String, request: Data) async throws(DriverError) -> Data {
    try await AgentRuntimeRouter.route(self, method: method, request: request)
  }
}

/// Decodes an `agent-runtime/1` request, calls the typed method and encodes its result.
public enum AgentRuntimeRouter {
  /// Routes `method` to `runtime`.
  /// - Throws: `INVALID_ARGUMENT` for a request that does not decode (the message names the
  ///   field), `UNIMPLEMENTED` for a method outside the protocol, or what the method throws.
  public static func route<Runtime: AgentRuntime>(
    _ runtime: Runtime, method: String, request: Data
  ) async throws(DriverError) -> Data {
    typealias V1 = AgentRuntimeV1
    guard let known = V1.Method(rawValue: method) else { throw .unimplemented(method) }
    switch known {
    case .ping:
      _ = try DriverCodec.decodeRequest(EmptyRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await runtime.ping(), method: method)
    case .describe:
      _ = try DriverCodec.decodeRequest(EmptyRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await runtime.describe(), method: method)
    case .validate:
      let input = try DriverCodec.decodeRequest(
        V1.ValidateRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await runtime.validate(input), method: method)
    case .render:
      let input = try DriverCodec.decodeRequest(
        V1.RenderRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await runtime.render(input), method: method)
    }
  }
}
