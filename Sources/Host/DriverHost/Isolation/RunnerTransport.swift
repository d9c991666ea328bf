import DriverABI
import DriverProtocols
import Foundation
import Logging
import Synchronization

/// Runs a driver in a `hiclaw-driver-runner` child process. A crash or a hang kills only the
/// runner: in-flight calls fail, the runner is restarted with exponential backoff, the host's
/// instances are created again, and the driver's `recover` method (if it has one) re-attaches
/// to the work that survived. Calls made while the runner restarts wait for it (up to their
/// deadline).
final class RunnerTransport: DriverTransport {
  struct Launch: Sendable {
    var executable: String
    var arguments: RunnerArguments
    var driverName: String
    var backend: any HostServiceBackend
    var pool: BlockingPool
    var logger: Logger
    /// The request for `recover` on an instance, given the config it was created with.
    var recoverRequest: @Sendable (String) -> String
  }

  private enum Phase { case ready, restarting, stopped }
  private struct Instance {
    var config: String
    /// The runner's handle; nil while it could not be re-created after a restart.
    var runnerHandle: UInt64?
  }
  private struct State {
    var connection: RunnerConnection
    var phase = Phase.ready
    var waiters: [@Sendable (RunnerConnection?) -> Void] = []
    var instances: [UInt64: Instance] = [:]
    var restarts = 0
    var quickFailures = 0
    var lastExit: String?
    /// The runner's last report, kept after shutdown.
    var finalStatistics: DriverStatistics?
  }

  let launch: Launch
  let info: DriverInfo
  private let state: Mutex<State>
  private let nextHandle = Atomic<UInt64>(1)

  /// Starts the first runner; throws the driver's load error if it cannot be loaded.
  static func start(_ launch: Launch) throws(DriverLoadError) -> RunnerTransport {
    let box = TransportBox()
    let (connection, info) = try startConnection(launch, box: box)
    let transport = RunnerTransport(launch: launch, info: info, connection: connection)
    box.transport = transport
    if !connection.isAlive { transport.runnerExited(connection, connection.exitDescription) }
    return transport
  }

  private static func startConnection(_ launch: Launch, box: TransportBox) throws(DriverLoadError)
    -> (RunnerConnection, DriverInfo)
  {
    try RunnerConnection.start(
      executable: launch.executable, arguments: launch.arguments, driverName: launch.driverName,
      backend: launch.backend, pool: launch.pool,
      onExit: { connection, reason in box.transport?.runnerExited(connection, reason) })
  }

  private init(launch: Launch, info: DriverInfo, connection: RunnerConnection) {
    self.launch = launch
    self.info = info
    self.state = Mutex(State(connection: connection))
  }

  /// Runs `body` with the live connection, waiting while the runner restarts; nil once stopped.
  private func withConnection(_ body: @escaping @Sendable (RunnerConnection?) -> Void) {
    let ready: RunnerConnection?? = state.withLock { state in
      switch state.phase {
      case .ready: return .some(state.connection)
      case .stopped: return .some(nil)
      case .restarting:
        state.waiters.append(body)
        return .none
      }
    }
    if let ready { body(ready) }
  }

  /// Sends a request to the live runner. If that runner turns out to have exited before the
  /// request reached it, the transport is switched to restarting and the request waits for the
  /// next runner. `body` gets nil once the transport is stopped.
  private func send(
    _ type: FrameType, capacity: Int = 64, stopped: @escaping @Sendable () -> Void,
    _ build: @escaping @Sendable (inout FrameWriter) -> Void,
    completion: @escaping @Sendable (RunnerConnection, Frame?) -> Void
  ) {
    withConnection { [self] connection in
      guard let connection else { return stopped() }
      let accepted = connection.request(type, capacity: capacity, build) { frame in completion(connection, frame) }
      if !accepted {
        runnerExited(connection, connection.exitDescription)
        send(type, capacity: capacity, stopped: stopped, build, completion: completion)
      }
    }
  }

  func create(config: String, completion: @escaping @Sendable (Result<UInt64, DriverCallError>) -> Void) {
    send(.create, stopped: { completion(.failure(Self.stopped)) }, { $0.append(config) }) { [self] connection, frame in
      guard let frame else {
        return completion(.failure(DriverCallError(.unavailable, "the driver runner \(connection.exitDescription) during create")))
      }
      var reader = FrameReader(frame.payload)
      let status = (try? reader.i32()) ?? HC_ERR_INTERNAL
      let runnerHandle = (try? reader.u64()) ?? 0
      let json = (try? reader.string()) ?? ""
      guard status == HC_OK else {
        return completion(.failure(DriverCallError(status: status, json: json, operation: "create")))
      }
      let handle = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
      state.withLock { $0.instances[handle] = Instance(config: config, runnerHandle: runnerHandle) }
      completion(.success(handle))
    }
  }

  func destroy(_ handle: UInt64, completion: @escaping @Sendable () -> Void) {
    withConnection { [self] connection in
      // Read the runner's handle only now: a restart may have replaced it while we waited.
      guard let connection, let instance = state.withLock({ $0.instances.removeValue(forKey: handle) }),
        let runnerHandle = instance.runnerHandle
      else { return completion() }
      if !connection.request(.destroy, { $0.append(runnerHandle) }, completion: { _ in completion() }) {
        completion()  // that runner is gone, and the instance with it
      }
    }
  }

  func call(
    _ handle: UInt64, method: String, request: String, timeout: Duration?,
    completion: @escaping @Sendable (RawOutcome) -> Void, finished: @escaping @Sendable () -> Void
  ) {
    // The deadline is withdrawn when the call ends (if the call ends before the ticket is
    // stored, the deadline fires later into an already completed `once`: a no-op).
    let deadline = Mutex<Deadlines.Ticket?>(nil)
    let once = CompletionOnce<RawOutcome> { outcome in
      if let ticket = deadline.withLock({ $0 }) { Deadlines.shared.cancel(ticket) }
      completion(outcome)
      finished()
    }
    let sentOn = Mutex<RunnerConnection?>(nil)
    if let timeout {
      let ticket = after(timeout) { [self] in
        guard let deliver = once.claim() else { return }
        let connection = sentOn.withLock { $0 }
        if let connection {
          // Take the runner out of service before anyone hears of the deadline, so the caller's
          // next call waits for a fresh runner instead of reaching the one being killed.
          launch.logger.error("driver call timed out; killing its runner",
            metadata: ["driver": .string(launch.driverName), "method": .string(method), "pid": "\(connection.pid)"])
          runnerExited(connection, "was killed by signal SIGKILL (9) after \(method) exceeded its \(timeout) deadline")
          connection.kill()
        }
        let consequence = connection.map { "the runner (pid \($0.pid)) was killed and restarts" } ?? "the runner was not ready"
        deliver(deadlineOutcome(method, timeout, consequence))
      }
      deadline.withLock { $0 = ticket }
    }
    withConnection { [self] connection in
      guard let connection else {
        once.complete(RawOutcome(status: HC_ERR_UNAVAILABLE, json: Self.stoppedJSON))
        return
      }
      let lookup: UInt64?? = state.withLock { state in state.instances[handle].map { $0.runnerHandle } }
      guard let known = lookup else {
        once.complete(RawOutcome(status: HC_ERR_NOT_FOUND,
          json: errorJSON("NOT_FOUND", "\(method): the driver instance was destroyed", retryable: false)))
        return
      }
      guard let runnerHandle = known else {
        once.complete(RawOutcome(status: HC_ERR_UNAVAILABLE,
          json: errorJSON("UNAVAILABLE", "\(method): the instance could not be re-created after a runner restart", retryable: true)))
        return
      }
      sentOn.withLock { $0 = connection }
      let accepted = connection.request(.call, capacity: method.utf8.count + request.utf8.count + 16, { writer in
        writer.append(runnerHandle)
        writer.append(method)
        writer.append(request)
      }) { frame in
        guard let frame else {
          once.complete(RawOutcome(status: HC_ERR_INTERNAL, json: errorJSON("INTERNAL",
            "\(method): the driver runner \(connection.exitDescription) while this call was in flight\(connection.outputTail); it is being restarted",
            retryable: true)))
          return
        }
        var reader = FrameReader(frame.payload)
        let status = (try? reader.i32()) ?? HC_ERR_INTERNAL
        once.complete(RawOutcome(status: status, json: (try? reader.string()) ?? ""))
      }
      if !accepted {
        // The runner died before this call reached it: wait for the next one.
        sentOn.withLock { $0 = nil }
        runnerExited(connection, connection.exitDescription)
        self.call(handle, method: method, request: request, timeout: nil, completion: { outcome in
          once.complete(outcome)
        }, finished: {})
      }
    }
  }

  func statistics(completion: @escaping @Sendable (DriverStatistics) -> Void) {
    send(.stats, stopped: { [self] in completion(localStatistics(nil)) }, { _ in }) { [self] _, frame in
      completion(localStatistics(frame))
    }
  }

  func shutdown(completion: @escaping @Sendable (DriverStatistics) -> Void) {
    withConnection { [self] connection in
      guard let connection else { return completion(localStatistics(nil)) }
      let handles: [UInt64] = state.withLock { state in
        state.phase = .stopped
        defer { state.instances = [:] }
        return state.instances.values.compactMap(\.runnerHandle)
      }
      launch.pool.submit { [self] in
        for handle in handles {
          _ = connection.requestAndWait(.destroy, timeout: .seconds(10)) { $0.append(handle) }
        }
        let frame = connection.requestAndWait(.shutdown, timeout: .seconds(10)) { _ in }
        if frame == nil { connection.kill() }
        _ = connection.waitForExitDescription()
        let statistics = localStatistics(frame)
        state.withLock { $0.finalStatistics = statistics }
        completion(statistics)
      }
    }
  }

  /// Statistics from a runner's report; without one, the last report kept (after shutdown) or
  /// empty counters.
  private func localStatistics(_ frame: Frame?) -> DriverStatistics {
    let (restarts, lastExit, final) = state.withLock { ($0.restarts, $0.lastExit, $0.finalStatistics) }
    var statistics = final ?? DriverStatistics(
      allocator: AllocatorStatistics(allocations: 0, frees: 0, bytesOutstanding: 0), violations: [])
    statistics.restarts = restarts
    statistics.lastExit = lastExit
    if let frame {
      var reader = FrameReader(frame.payload)
      _ = try? reader.i32()
      if let json = try? reader.string(),
        let remote = try? JSONDecoder().decode(RunnerStatistics.self, from: Data(json.utf8))
      {
        statistics.allocator = remote.allocator
        statistics.violations = remote.violations
        statistics.activeForeignThreads = remote.activeForeignThreads
      }
    }
    return statistics
  }

  static let stoppedJSON = errorJSON("UNAVAILABLE", "the driver was shut down", retryable: false)
  static let stopped = DriverCallError(.unavailable, "the driver was shut down", retryable: false)

  // MARK: Restart

  /// Takes `connection` out of service (once) and schedules a restart. Called when its reader
  /// sees the end of the socket, when a request finds it gone, and before killing it on a deadline.
  fileprivate func runnerExited(_ connection: RunnerConnection, _ reason: String) {
    let upFor = monotonicNanoseconds() - connection.startedAt
    let current = state.withLock { state in
      guard state.connection === connection, state.phase == .ready else { return false }
      state.phase = .restarting
      return true
    }
    guard current else { return }
    scheduleRestart(reason: reason, quick: upFor < 10_000_000_000)
  }

  /// Restarts after a backoff that doubles (50 ms … 30 s) while runners keep dying within 10 s.
  private func scheduleRestart(reason: String, quick: Bool) {
    let delay: Duration? = state.withLock { state in
      guard state.phase != .stopped else { return nil }
      state.phase = .restarting
      state.restarts += 1
      state.lastExit = reason
      state.quickFailures = quick ? state.quickFailures + 1 : 0
      let exponent = min(state.quickFailures - 1, 10)
      return .milliseconds(min(30_000, 50 << max(exponent, 0)))
    }
    guard let delay else { return }
    launch.logger.warning("driver runner exited; restarting",
      metadata: ["driver": .string(launch.driverName), "reason": .string(reason), "after": "\(delay)"])
    after(delay) { [self] in restart() }
  }

  private func restart() {
    launch.pool.submit { [self] in
      let box = TransportBox()
      box.transport = self
      let started: RunnerConnection
      do {
        (started, _) = try Self.startConnection(launch, box: box)
      } catch {
        launch.logger.error("driver runner restart failed", metadata: ["driver": .string(launch.driverName), "error": "\(error)"])
        scheduleRestart(reason: "failed to restart: \(error)", quick: true)
        return
      }
      let instances = state.withLock { state in
        state.connection = started
        return state.instances
      }
      var recreated: [UInt64: UInt64?] = [:]
      for (handle, instance) in instances {
        let frame = started.requestAndWait(.create, timeout: .seconds(30)) { $0.append(instance.config) }
        var reader = FrameReader(frame?.payload ?? [])
        let status = (try? reader.i32()) ?? HC_ERR_INTERNAL
        let runnerHandle = try? reader.u64()
        recreated[handle] = status == HC_OK ? runnerHandle : nil
        if status != HC_OK {
          launch.logger.error("could not re-create a driver instance after restart",
            metadata: ["driver": .string(launch.driverName), "status": "\(status)"])
        }
      }
      if info.description.methods.contains("recover") || info.capabilities & UInt64(HC_CAP_RECOVER) != 0 {
        for (handle, runnerHandle) in recreated {
          guard let runnerHandle, let config = instances[handle]?.config else { continue }
          let request = launch.recoverRequest(config)
          let frame = started.requestAndWait(.call, timeout: .seconds(60)) { writer in
            writer.append(runnerHandle)
            writer.append("recover")
            writer.append(request)
          }
          var reader = FrameReader(frame?.payload ?? [])
          let status = (try? reader.i32()) ?? HC_ERR_INTERNAL
          launch.logger.notice("driver recover after runner restart",
            metadata: ["driver": .string(launch.driverName), "status": "\(DriverStatus(rawValue: status)?.name ?? "\(status)")"])
        }
      }
      let (waiters, orphans) = state.withLock { state -> ([@Sendable (RunnerConnection?) -> Void], [UInt64]) in
        var orphans: [UInt64] = []
        for (handle, runnerHandle) in recreated {
          if state.instances[handle] != nil {
            state.instances[handle]!.runnerHandle = runnerHandle
          } else if let runnerHandle {
            orphans.append(runnerHandle)  // destroyed while we restarted
          }
        }
        if state.phase == .restarting { state.phase = .ready }
        defer { state.waiters = [] }
        return (state.waiters, orphans)
      }
      for orphan in orphans { started.request(.destroy, { $0.append(orphan) }, completion: { _ in }) }
      for waiter in waiters { waiter(started) }
      if !started.isAlive { runnerExited(started, started.exitDescription) }
    }
  }
}

/// Lets the runner's exit callback reach its transport without a retain cycle at start-up.
private final class TransportBox: @unchecked Sendable {
  weak var transport: RunnerTransport?
}
