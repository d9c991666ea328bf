import DriverABI
import DriverProtocols
import Synchronization

/// Runs a driver inside the host process. Blocking calls go to the host's ``BlockingPool``;
/// drivers with HC_CAP_ASYNC are called through `call_async` directly (they promise to return
/// quickly). A crash here is a crash of the host: this mode is for trusted, first-party drivers.
final class InProcessTransport: DriverTransport {
  let native: NativeDriver
  let pool: BlockingPool
  private struct Instance {
    var pointer: UInt
    var inFlight = 0
    var whenIdle: [@Sendable () -> Void] = []
  }
  private let instances = Mutex<[UInt64: Instance]>([:])
  private let nextHandle = Atomic<UInt64>(1)

  init(native: NativeDriver, pool: BlockingPool) {
    self.native = native
    self.pool = pool
  }

  var info: DriverInfo { native.info }

  func create(config: String, completion: @escaping @Sendable (Result<UInt64, DriverCallError>) -> Void) {
    pool.submit { [self] in
      switch native.create(config: config) {
      case .success(let pointer):
        let handle = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
        instances.withLock { $0[handle] = Instance(pointer: UInt(bitPattern: pointer)) }
        completion(.success(handle))
      case .failure(let error):
        completion(.failure(error))
      }
    }
  }

  func destroy(_ handle: UInt64, completion: @escaping @Sendable () -> Void) {
    let destroyNow: @Sendable () -> Void = { [self] in
      guard let instance = instances.withLock({ $0.removeValue(forKey: handle) }) else { return completion() }
      pool.submit { [self] in
        native.destroy(UnsafeMutableRawPointer(bitPattern: instance.pointer)!)
        completion()
      }
    }
    let idle = instances.withLock { instances -> Bool in
      guard var instance = instances[handle] else { return true }
      if instance.inFlight == 0 { return true }
      instance.whenIdle.append(destroyNow)
      instances[handle] = instance
      return false
    }
    if idle { destroyNow() }
  }

  private func begin(_ handle: UInt64) -> UnsafeMutableRawPointer? {
    instances.withLock { instances in
      guard var instance = instances[handle] else { return nil }
      instance.inFlight += 1
      instances[handle] = instance
      return UnsafeMutableRawPointer(bitPattern: instance.pointer)
    }
  }

  private func end(_ handle: UInt64) {
    let waiters = instances.withLock { instances -> [@Sendable () -> Void] in
      guard var instance = instances[handle] else { return [] }
      instance.inFlight -= 1
      var waiters: [@Sendable () -> Void] = []
      if instance.inFlight == 0 { swap(&waiters, &instance.whenIdle) }
      instances[handle] = instance
      return waiters
    }
    waiters.forEach { $0() }
  }

  func call(
    _ handle: UInt64, method: String, request: String, timeout: Duration?,
    completion: @escaping @Sendable (RawOutcome) -> Void, finished: @escaping @Sendable () -> Void
  ) {
    let once = CompletionOnce(completion)
    guard let pointer = begin(handle) else {
      once.complete(RawOutcome(status: HC_ERR_NOT_FOUND,
        json: errorJSON("NOT_FOUND", "\(method): the driver instance was destroyed", retryable: false)))
      finished()
      return
    }
    let pointerBits = UInt(bitPattern: pointer)
    let requestID = native.info.supportsAsync ? AsyncCompletions.newRequestID() : 0
    // The deadline is armed before the call starts, so that the call's end can withdraw it.
    let deadline = timeout.map { timeout in
      after(timeout) { [native] in
        if native.info.supportsAsync {
          if once.complete(deadlineOutcome(method, timeout, "the request was cancelled")) {
            native.cancel(UnsafeMutableRawPointer(bitPattern: pointerBits)!, requestID: requestID)
          }
        } else {
          once.complete(deadlineOutcome(method, timeout, "the in-process driver still holds a host thread"))
        }
      }
    }
    let finish: @Sendable (RawOutcome) -> Void = { [self] outcome in
      if let deadline { Deadlines.shared.cancel(deadline) }
      once.complete(outcome)
      end(handle)
      finished()
    }
    if native.info.supportsAsync {
      let status = native.callAsync(pointer, method: method, request: request, requestID: requestID, completion: finish)
      if status != HC_OK {
        finish(RawOutcome(status: status, json: errorJSON((DriverStatus(rawValue: status)?.name ?? "INTERNAL"), "call_async refused \(method)", retryable: false)))
      }
    } else {
      pool.submit { [native] in
        finish(native.call(UnsafeMutableRawPointer(bitPattern: pointerBits)!, method: method, request: request))
      }
    }
  }

  func statistics(completion: @escaping @Sendable (DriverStatistics) -> Void) {
    completion(DriverStatistics(allocator: native.context.allocator.statistics, violations: native.context.violations.all))
  }

  func shutdown(completion: @escaping @Sendable (DriverStatistics) -> Void) {
    pool.submit { [self] in
      native.shutdown()
      statistics(completion: completion)
    }
  }
}

