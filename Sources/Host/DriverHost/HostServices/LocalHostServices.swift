import DriverABI
import Foundation
import Logging
import Synchronization

/// An event a driver reported about one of its resources (`emit_event`).
public struct DriverEvent: Sendable, Equatable {
  public var driver: String
  public var subject: String
  /// `{"type":"Normal|Warning","reason":"…","message":"…"}` as the driver sent it.
  public var json: String
}

/// Where drivers' persistent key/value state lives (`state_put` / `state_get`).
public protocol DriverStateStore: Sendable {
  func get(driver: String, key: String) -> String?
  func put(driver: String, key: String, value: String) throws
}

/// Where drivers' secrets come from (`secret_get`).
public protocol DriverSecretResolver: Sendable {
  /// The secret's bytes; throws ``DriverSecretError``.
  func secret(driver: String, ref: String) throws(DriverSecretError) -> [UInt8]
}

public enum DriverSecretError: Error, Sendable {
  case notFound
  case permissionDenied
}

/// A resolver that knows no secrets: every lookup is NOT_FOUND. The default until a secrets store
/// is configured.
public struct NoSecrets: DriverSecretResolver {
  public init() {}
  public func secret(driver: String, ref: String) throws(DriverSecretError) -> [UInt8] { throw .notFound }
}

/// The host services of the host process itself: swift-log, an event callback, a state store,
/// secrets, and libcurl for HTTP (blocking requests run on a dedicated pool for the async form).
public final class LocalHostServices: HostServiceBackend {
  public let logger: Logger
  let onEvent: @Sendable (DriverEvent) -> Void
  let state: any DriverStateStore
  let secrets: any DriverSecretResolver
  let http: HTTPClient
  let pool: BlockingPool

  public init(
    logger: Logger, state: any DriverStateStore, secrets: any DriverSecretResolver = NoSecrets(),
    pool: BlockingPool, onEvent: @escaping @Sendable (DriverEvent) -> Void = { _ in }
  ) {
    self.logger = logger
    self.state = state
    self.secrets = secrets
    self.pool = pool
    self.onEvent = onEvent
    self.http = HTTPClient()
  }

  public func logEnabled(driver: String, level: Int32) -> Bool {
    Self.level(level) >= logger.logLevel
  }

  public func log(driver: String, level: Int32, target: String, message: String, fieldsJSON: String) {
    var metadata: Logger.Metadata = ["driver": .string(driver)]
    if !target.isEmpty { metadata["target"] = .string(target) }
    if !fieldsJSON.isEmpty,
      let object = try? JSONSerialization.jsonObject(with: Data(fieldsJSON.utf8)) as? [String: Any]
    {
      for (key, value) in object { metadata[key] = .string("\(value)") }
    }
    logger.log(level: Self.level(level), "\(message)", metadata: metadata)
  }

  public func emitEvent(driver: String, subject: String, eventJSON: String) {
    onEvent(DriverEvent(driver: driver, subject: subject, json: eventJSON))
  }

  public func statePut(driver: String, key: String, value: String) -> Int32 {
    do {
      try state.put(driver: driver, key: key, value: value)
      return HC_OK
    } catch {
      logger.error("driver state write failed", metadata: ["driver": .string(driver), "error": "\(error)"])
      return HC_ERR_UNAVAILABLE
    }
  }

  public func stateGet(driver: String, key: String) -> (status: Int32, value: String?) {
    guard let value = state.get(driver: driver, key: key) else { return (HC_ERR_NOT_FOUND, nil) }
    return (HC_OK, value)
  }

  public func secretGet(driver: String, ref: String) -> (status: Int32, value: [UInt8]?) {
    do {
      return (HC_OK, try secrets.secret(driver: driver, ref: ref))
    } catch .notFound {
      return (HC_ERR_NOT_FOUND, nil)
    } catch {
      return (HC_ERR_PERMISSION_DENIED, nil)
    }
  }

  public func http(driver: String, requestJSON: String) -> (status: Int32, json: String) {
    http.perform(requestJSON: requestJSON)
  }

  public func httpAsync(
    driver: String, requestJSON: String, completion: @escaping @Sendable (Int32, String) -> Void
  ) -> Int32 {
    pool.submit { [http] in
      let (status, json) = http.perform(requestJSON: requestJSON)
      completion(status, json)
    }
    return HC_OK
  }

  static func level(_ level: Int32) -> Logger.Level {
    switch level {
    case ...Int32(HC_LOG_TRACE): .trace
    case Int32(HC_LOG_DEBUG): .debug
    case Int32(HC_LOG_INFO): .info
    case Int32(HC_LOG_NOTICE): .notice
    case Int32(HC_LOG_WARNING): .warning
    case Int32(HC_LOG_ERROR): .error
    default: .critical
    }
  }
}

/// Driver state in memory only (tests, `hiclaw driver verify`).
public final class MemoryStateStore: DriverStateStore {
  private let entries = Mutex<[String: String]>([:])
  public init() {}
  public func get(driver: String, key: String) -> String? { entries.withLock { $0["\(driver)\u{0}\(key)"] } }
  public func put(driver: String, key: String, value: String) throws {
    entries.withLock { $0["\(driver)\u{0}\(key)"] = value }
  }
}
