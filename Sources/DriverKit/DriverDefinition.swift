#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What a driver is: its identity, what it implements, and how to make an instance.
///
/// A driver library defines exactly one type conforming to this protocol (usually a caseless
/// `enum`) and exports it with two `@c` functions:
///
/// ```swift
/// import DriverKit
///
/// enum MyDriver: DriverDefinition {
///   static let name = "mybackend"
///   static let version = "1.0.0"
///   static let kind = DriverKind.workerBackend
///   static let protocols = [WorkerBackendV1.protocolID]
///   static let methods = ["ping", "create", "inspect", "delete"]
///   static func makeInstance(config: JSONValue, host: Host) throws(DriverError) -> Backend {
///     Backend(host: host)
///   }
/// }
///
/// @c public func hc_driver_magic_v1() -> UnsafePointer<hc_driver_magic> {
///   DriverExport.magic(MyDriver.self)
/// }
/// @c public func hc_driver_init_v1(
///   _ args: UnsafePointer<hc_init_args>?,
///   _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
///   _ err: UnsafeMutablePointer<hc_buf>?
/// ) -> hc_status {
///   DriverExport.initialize(MyDriver.self, args, api, err)
/// }
/// ```
///
/// The static properties are read once (at `hc_driver_magic_v1` and at init) and must be
/// constant for the life of the process.
public protocol DriverDefinition {
  /// The instance type ``makeInstance(config:host:)`` returns.
  associatedtype Instance: DriverInstance

  /// The driver name (`"docker"`); equals the manifest's `name`. Lower case, no spaces.
  static var name: String { get }
  /// The driver's semantic version (`"0.1.0"`).
  static var version: String { get }
  /// The driver kind.
  static var kind: DriverKind { get }
  /// The protocol ids implemented (`[WorkerBackendV1.protocolID]`).
  static var protocols: [String] { get }
  /// The methods implemented, explicitly. A call to any other method returns `UNIMPLEMENTED`
  /// without reaching the instance, and `describe` lists exactly these. A worker backend that
  /// lists `"recover"` gets the `HC_CAP_RECOVER` capability.
  static var methods: [String] { get }
  /// Free-form domain capabilities for `describe` (default `{}`).
  static var capabilities: [String: JSONValue] { get }

  /// Creates an instance from its configuration.
  ///
  /// - Parameters:
  ///   - config: the instance config, always a JSON object (`{}` when the host passed none).
  ///     ``DriverCodec/decodeConfig(_:from:)`` turns it into a typed struct.
  ///   - host: the host services, valid for the life of the process.
  /// - Throws: `INVALID_ARGUMENT` for a bad config, `FAILED_PRECONDITION` / `UNAVAILABLE` when
  ///   the backend cannot be used; the host receives the status and the error JSON and gets no
  ///   instance.
  /// - Threading: [any-thread][blocking]; may be called concurrently for different instances.
  static func makeInstance(config: JSONValue, host: Host) throws(DriverError) -> Instance
}

extension DriverDefinition {
  /// Default: `{}`.
  public static var capabilities: [String: JSONValue] { [:] }
}

/// A driver instance: one configured connection to a backend (a Docker engine, a cluster) or one
/// runtime configuration.
///
/// Conform through ``WorkerBackend`` or ``AgentRuntime``, which implement ``call(method:request:)``
/// by decoding the request, calling one typed method and encoding the result. Implement `call`
/// directly only for a protocol DriverKit has no typed layer for.
///
/// Threading: calls arrive concurrently from any thread (the host promises at most one in-flight
/// call per resource name, not per instance), so the instance must be `Sendable` and guard its
/// mutable state (an `actor`, or a `Mutex` from `Synchronization`).
public protocol DriverInstance: Sendable {
  /// Runs `method` with a JSON request and returns the JSON response.
  ///
  /// - Parameters:
  ///   - method: a method listed in ``DriverDefinition/methods`` (others never reach here).
  ///   - request: the request JSON, copied from the host's borrowed buffer (may be empty,
  ///     meaning `{}`).
  /// - Returns: the response JSON, copied into a host-allocated buffer by DriverKit.
  /// - Throws: a ``DriverError``; DriverKit writes its error JSON for the host. The task is
  ///   cancelled when the host cancels the request or shuts the driver down: check
  ///   `Task.isCancelled` or use ``DriverTask/sleep(milliseconds:)`` in long operations.
  func call(method: String, request: Data) async throws(DriverError) -> Data

  /// Called once from the ABI `destroy`, after every call on this instance has finished.
  /// Release what the instance holds. Must not block for long. Default: nothing.
  func close()
}

extension DriverInstance {
  /// Default: nothing.
  public func close() {}
}
