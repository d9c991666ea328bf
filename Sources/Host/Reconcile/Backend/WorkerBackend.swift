import DriverHost
import DriverProtocols
import Foundation

/// Where agents run, as the reconcilers see it: idempotent operations on named instances.
///
/// The one implementation outside tests is ``DriverWorkerBackend`` (any `hiclaw.worker-backend/1`
/// driver: Docker, Kubernetes, cloud, the in-memory test backend). Errors are `DriverCallError`s;
/// `INVALID_ARGUMENT` and `FAILED_PRECONDITION` mean the request itself is wrong (terminal).
public protocol WorkerBackend: Sendable {
  /// Creates the instance; an existing instance of that name is returned as is (success).
  func create(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus
  func start(_ name: String) async throws -> WorkerBackendV1.InstanceStatus
  func stop(_ name: String) async throws -> WorkerBackendV1.InstanceStatus
  /// Deletes the instance; a missing instance is success.
  func delete(_ name: String) async throws
  /// The instance, or nil if there is none.
  func inspect(_ name: String) async throws -> WorkerBackendV1.InstanceStatus?
  /// Creates the instance if there is none; nil (and nothing changed) if one of that name exists.
  /// For objects that have most likely no instance yet: one call instead of `inspect` + `create`.
  func createIfAbsent(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus?
}

extension WorkerBackend {
  public func createIfAbsent(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus? {
    if try await inspect(request.name) != nil { return nil }
    return try await create(request)
  }
}

/// A ``WorkerBackend`` over a loaded worker-backend driver instance.
///
/// Calls for one instance name are serialised by the driver host (`resource:`), as the
/// protocol promises drivers. `ALREADY_EXISTS` from `create` and `NOT_FOUND` from `delete` are
/// success (protocol rule); `NOT_FOUND` from `inspect` is nil.
public struct DriverWorkerBackend: WorkerBackend {
  public let instance: DriverInstance
  public let callTimeout: Duration

  public init(instance: DriverInstance, callTimeout: Duration = .seconds(120)) {
    self.instance = instance
    self.callTimeout = callTimeout
  }

  public func create(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus {
    do {
      return try await call("create", request, name: request.name)
    } catch let error as DriverCallError where error.status == .alreadyExists {
      guard let existing = try await inspect(request.name) else { throw error }
      return existing
    }
  }

  public func createIfAbsent(_ request: WorkerBackendV1.CreateRequest) async throws -> WorkerBackendV1.InstanceStatus? {
    do {
      return try await call("create", request, name: request.name)
    } catch let error as DriverCallError where error.status == .alreadyExists {
      return nil
    }
  }

  public func start(_ name: String) async throws -> WorkerBackendV1.InstanceStatus {
    try await call("start", WorkerBackendV1.StartRequest(name: name), name: name)
  }

  public func stop(_ name: String) async throws -> WorkerBackendV1.InstanceStatus {
    try await call("stop", WorkerBackendV1.StopRequest(name: name), name: name)
  }

  public func delete(_ name: String) async throws {
    do {
      let _: WorkerBackendV1.DeleteResponse = try await call("delete", WorkerBackendV1.DeleteRequest(name: name), name: name)
    } catch let error as DriverCallError where error.status == .notFound {
      return
    }
  }

  public func inspect(_ name: String) async throws -> WorkerBackendV1.InstanceStatus? {
    do {
      return try await call("inspect", WorkerBackendV1.InspectRequest(name: name), name: name)
    } catch let error as DriverCallError where error.status == .notFound {
      return nil
    }
  }

  private func call<Request: Encodable, Response: Decodable>(_ method: String, _ request: Request, name: String)
    async throws -> Response
  {
    let body = String(decoding: try WireJSON.encode(request), as: UTF8.self)
    let json = try await instance.call(method, body, resource: name, timeout: callTimeout)
    do {
      return try WireJSON.decode(Response.self, from: Data(json.utf8))
    } catch {
      throw DriverCallError(.internal, "the backend's \(method) answer does not decode: \(WireJSON.describe(error))")
    }
  }
}

extension DriverCallError {
  /// The request itself is wrong: retrying the same request cannot succeed.
  var isTerminal: Bool { status == .invalidArgument || status == .failedPrecondition }
}
