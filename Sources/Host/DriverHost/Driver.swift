import DriverABI
import DriverProtocols
import Foundation

/// What every isolation mode provides to the ``Driver`` façade. Callbacks may run on any thread.
protocol DriverTransport: Sendable {
  var info: DriverInfo { get }
  func create(config: String, completion: @escaping @Sendable (Result<UInt64, DriverCallError>) -> Void)
  func destroy(_ handle: UInt64, completion: @escaping @Sendable () -> Void)
  /// `completion` gets the outcome (possibly a deadline before the driver returned);
  /// `finished` runs once the driver is really done with the call (after `completion`).
  func call(
    _ handle: UInt64, method: String, request: String, timeout: Duration?,
    completion: @escaping @Sendable (RawOutcome) -> Void, finished: @escaping @Sendable () -> Void)
  func statistics(completion: @escaping @Sendable (DriverStatistics) -> Void)
  func shutdown(completion: @escaping @Sendable (DriverStatistics) -> Void)
}

/// Counters and findings about one loaded driver.
public struct DriverStatistics: Sendable, Codable, Equatable {
  public var allocator: AllocatorStatistics
  /// ABI contract violations seen at the boundary (double `done`, unknown status codes …).
  public var violations: [String]
  /// Runner restarts (process isolation only).
  public var restarts: Int
  /// How the last runner ended, e.g. "was killed by signal SIGSEGV (11)".
  public var lastExit: String?
  /// Threads of the driver still being scheduled (measured by the runner after shutdown).
  public var activeForeignThreads: [ThreadActivity.ThreadSample]

  public init(allocator: AllocatorStatistics, violations: [String], restarts: Int = 0, lastExit: String? = nil,
    activeForeignThreads: [ThreadActivity.ThreadSample] = [])
  {
    self.allocator = allocator
    self.violations = violations
    self.restarts = restarts
    self.lastExit = lastExit
    self.activeForeignThreads = activeForeignThreads
  }
}

/// A loaded driver, as the rest of the host sees it: async, throwing calls that never block the
/// caller's executor, in process or through `hiclaw-driver-runner` alike.
public final class Driver: Sendable {
  public let name: String
  public let libraryPath: String
  public let isolation: DriverIsolation
  let transport: any DriverTransport
  let serializer = KeyedSerializer()
  /// Deadline for calls that do not pass one; nil for none.
  public let defaultTimeout: Duration?

  init(name: String, libraryPath: String, isolation: DriverIsolation, transport: any DriverTransport,
    defaultTimeout: Duration?)
  {
    self.name = name
    self.libraryPath = libraryPath
    self.isolation = isolation
    self.transport = transport
    self.defaultTimeout = defaultTimeout
  }

  /// What the host learned at load: magic block, negotiated minor, capabilities, description.
  public var info: DriverInfo { transport.info }
  public var description: DriverDescription { info.description }

  /// Creates a driver instance from its configuration JSON (driver-specific).
  public func makeInstance(config: String = "{}") async throws(DriverCallError) -> DriverInstance {
    let result = await withCheckedContinuation { continuation in
      transport.create(config: config) { continuation.resume(returning: $0) }
    }
    return DriverInstance(driver: self, handle: try result.get())
  }

  public func statistics() async -> DriverStatistics {
    await withCheckedContinuation { continuation in transport.statistics { continuation.resume(returning: $0) } }
  }

  /// Destroys nothing by itself: destroy instances first. Calls the driver's `shutdown` (which
  /// joins its threads) and, for a runner, stops the process. Returns the final statistics.
  @discardableResult
  public func shutdown() async -> DriverStatistics {
    await withCheckedContinuation { continuation in transport.shutdown { continuation.resume(returning: $0) } }
  }
}

/// One instance of a driver (`create`d with a configuration).
public final class DriverInstance: Sendable {
  public let driver: Driver
  let handle: UInt64

  init(driver: Driver, handle: UInt64) {
    self.driver = driver
    self.handle = handle
  }

  /// Calls `method` with a JSON request and returns the JSON result.
  ///
  /// - Parameters:
  ///   - resource: calls naming the same resource (a worker's name, say) run one at a time, in
  ///     order; nil means no serialisation.
  ///   - timeout: the deadline; past it the call fails with DEADLINE_EXCEEDED (a runner is then
  ///     killed and restarted; an in-process driver keeps its thread until it returns).
  /// - Throws: ``DriverCallError`` with the driver's status and message.
  public func call(_ method: String, _ request: String = "{}", resource: String? = nil, timeout: Duration? = nil)
    async throws(DriverCallError) -> String
  {
    let outcome = await callOutcome(method, request, resource: resource, timeout: timeout)
    guard outcome.ok else { throw DriverCallError(status: outcome.status, json: outcome.json, operation: method) }
    return outcome.json
  }

  /// Like ``call(_:_:resource:timeout:)`` but returns the raw status and JSON (the conformance
  /// suite checks both).
  public func callOutcome(_ method: String, _ request: String = "{}", resource: String? = nil, timeout: Duration? = nil)
    async -> RawOutcome
  {
    if let resource { await driver.serializer.acquire(resource) }
    // The resource is released when the driver is really done, not at a deadline: a call that
    // timed out in process may still be running, and the ABI promises one call per resource.
    let serializer = driver.serializer
    return await withCheckedContinuation { continuation in
      driver.transport.call(
        handle, method: method, request: request, timeout: timeout ?? driver.defaultTimeout,
        completion: { continuation.resume(returning: $0) },
        finished: { if let resource { serializer.release(resource) } })
    }
  }

  /// A blocking call without serialisation, for threads the caller owns (benchmarks, tools).
  /// Never call it from an event loop or a Swift concurrency executor: it blocks the thread.
  public func callBlocking(_ method: String, _ request: String = "{}", timeout: Duration? = nil) -> RawOutcome {
    let latch = BlockingLatch<RawOutcome>()
    driver.transport.call(
      handle, method: method, request: request, timeout: timeout ?? driver.defaultTimeout,
      completion: { latch.fulfil($0) }, finished: {})
    return latch.wait()
  }

  /// Destroys the instance once every call on it has finished.
  public func destroy() async {
    await withCheckedContinuation { continuation in driver.transport.destroy(handle) { continuation.resume() } }
  }
}

func deadlineOutcome(_ method: String, _ timeout: Duration, _ consequence: String) -> RawOutcome {
  RawOutcome(
    status: HC_ERR_DEADLINE_EXCEEDED,
    json: errorJSON("DEADLINE_EXCEEDED", "\(method): no answer within \(timeout); \(consequence)", retryable: true))
}
