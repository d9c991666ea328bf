#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A typed `hiclaw.worker-backend/1` instance: one method per protocol method.
///
/// Conform, implement the methods listed in your ``DriverDefinition/methods``, and leave the
/// others to the defaults, which throw `UNIMPLEMENTED`. ``call(method:request:)`` is provided:
/// it decodes the request (bad JSON → `INVALID_ARGUMENT` naming the field), calls the method and
/// encodes the result (see ``WorkerBackendRouter``).
///
/// Idempotency rules every implementation must keep (the host retries after timeouts and runner
/// restarts, and relies on them):
/// - `create` of an existing name throws ``DriverError/alreadyExists(_:id:details:)`` with the
///   existing id; the host treats it as success.
/// - `start` of a running instance and `stop` of a stopped one return its status (OK).
/// - `start`, `stop`, `inspect`, `logs` of an unknown name throw `NOT_FOUND`; `delete` of an
///   unknown name throws `NOT_FOUND` (the host treats it as success).
/// - `recover` returns only the known instances that still exist.
///
/// Threading: methods run concurrently on Swift's cooperative pool; the host sends at most one
/// in-flight call per instance name. A cancelled request (host `cancel`, `shutdown`) cancels the
/// task: long operations should check cancellation (``DriverTask``).
public protocol WorkerBackend: DriverInstance {
  /// `ping`: liveness and backend info. Default: driver name and version, empty `backend`.
  func ping() async throws(DriverError) -> PingResponse
  /// `create`: creates (does not start) an instance.
  func create(_ request: WorkerBackendV1.CreateRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  /// `start`: starts an instance; already running is OK.
  func start(_ request: WorkerBackendV1.StartRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  /// `stop`: stops an instance; already stopped is OK.
  func stop(_ request: WorkerBackendV1.StopRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  /// `delete`: removes an instance whatever its state.
  func delete(_ request: WorkerBackendV1.DeleteRequest) async throws(DriverError)
    -> WorkerBackendV1.DeleteResponse
  /// `inspect`: the status of one instance.
  func inspect(_ request: WorkerBackendV1.InspectRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  /// `list`: the instances whose labels match the selector.
  func list(_ request: WorkerBackendV1.ListRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceList
  /// `logs`: recent output of an instance.
  func logs(_ request: WorkerBackendV1.LogsRequest) async throws(DriverError)
    -> WorkerBackendV1.LogsResponse
  /// `recover`: re-attaches to known instances after a restart.
  func recover(_ request: WorkerBackendV1.RecoverRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceList
}

extension WorkerBackend {
  /// Default: the driver's name and version with an empty `backend`.
  public func ping() async throws(DriverError) -> PingResponse {
    DriverRuntime.defaultPing()
  }

  /// Default: throws `UNIMPLEMENTED` for `create`.
  public func create(_ request: WorkerBackendV1.CreateRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  {
    throw .unimplemented("create")
  }

  /// Default: throws `UNIMPLEMENTED` for `start`.
  public func start(_ request: WorkerBackendV1.StartRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  {
    throw .unimplemented("start")
  }

  /// Default: throws `UNIMPLEMENTED` for `stop`.
  public func stop(_ request: WorkerBackendV1.StopRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  {
    throw .unimplemented("stop")
  }

  /// Default: throws `UNIMPLEMENTED` for `delete`.
  public func delete(_ request: WorkerBackendV1.DeleteRequest) async throws(DriverError)
    -> WorkerBackendV1.DeleteResponse
  {
    throw .unimplemented("delete")
  }

  /// Default: throws `UNIMPLEMENTED` for `inspect`.
  public func inspect(_ request: WorkerBackendV1.InspectRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceStatus
  {
    throw .unimplemented("inspect")
  }

  /// Default: throws `UNIMPLEMENTED` for `list`.
  public func list(_ request: WorkerBackendV1.ListRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceList
  {
    throw .unimplemented("list")
  }

  /// Default: throws `UNIMPLEMENTED` for `logs`.
  public func logs(_ request: WorkerBackendV1.LogsRequest) async throws(DriverError)
    -> WorkerBackendV1.LogsResponse
  {
    throw .unimplemented("logs")
  }

  /// Default: throws `UNIMPLEMENTED` for `recover`.
  public func recover(_ request: WorkerBackendV1.RecoverRequest) async throws(DriverError)
    -> WorkerBackendV1.InstanceList
  {
    throw .unimplemented("recover")
  }

  /// Routes to the typed methods through ``WorkerBackendRouter``.
  public func call(method: String, request: Data) async throws(DriverError) -> Data {
    try await WorkerBackendRouter.route(self, method: method, request: request)
  }
}

/// Decodes a `worker-backend/1` request, calls the typed method and encodes its result.
public enum WorkerBackendRouter {
  /// Routes `method` to `backend`.
  /// - Throws: `INVALID_ARGUMENT` for a request that does not decode (the message names the
  ///   field), `UNIMPLEMENTED` for a method outside the protocol, or what the method throws.
  public static func route<Backend: WorkerBackend>(
    _ backend: Backend, method: String, request: Data
  ) async throws(DriverError) -> Data {
    typealias V1 = WorkerBackendV1
    guard let known = V1.Method(rawValue: method) else { throw .unimplemented(method) }
    switch known {
    case .ping:
      _ = try DriverCodec.decodeRequest(EmptyRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.ping(), method: method)
    case .create:
      let input = try DriverCodec.decodeRequest(
        V1.CreateRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.create(input), method: method)
    case .start:
      let input = try DriverCodec.decodeRequest(V1.StartRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.start(input), method: method)
    case .stop:
      let input = try DriverCodec.decodeRequest(V1.StopRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.stop(input), method: method)
    case .delete:
      let input = try DriverCodec.decodeRequest(
        V1.DeleteRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.delete(input), method: method)
    case .inspect:
      let input = try DriverCodec.decodeRequest(
        V1.InspectRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.inspect(input), method: method)
    case .list:
      let input = try DriverCodec.decodeRequest(V1.ListRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.list(input), method: method)
    case .logs:
      let input = try DriverCodec.decodeRequest(V1.LogsRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.logs(input), method: method)
    case .recover:
      let input = try DriverCodec.decodeRequest(
        V1.RecoverRequest.self, from: request, method: method)
      return try DriverCodec.encodeResponse(await backend.recover(input), method: method)
    }
  }
}
