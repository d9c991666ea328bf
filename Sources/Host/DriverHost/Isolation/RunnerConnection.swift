import CSystemShims
import DriverABI
import Foundation
import Synchronization

/// One `hiclaw-driver-runner` child process and the host's end of its socket.
///
/// A reader thread owns the socket's read side: it completes requests, forwards the driver's
/// logs and events, and serves the driver's host-service calls (on the blocking pool, since HTTP
/// blocks). The child's stdout and stderr go to the log (drivers must not write there; Swift's
/// fatal-error text lands there, so the last lines are kept for crash reports).
final class RunnerConnection: @unchecked Sendable {
  let pid: pid_t
  let driverName: String
  private let channel: FrameChannel
  private let backend: any HostServiceBackend
  private let pool: BlockingPool
  private let nextID = Atomic<UInt64>(1)
  private struct State {
    var pending: [UInt64: @Sendable (Frame?) -> Void] = [:]
    var exited = false
    var exitDescription = ""
    var output: [String] = []
  }
  private let state = Mutex(State())
  private let hello = BlockingLatch<Frame?>()
  private let onExit: @Sendable (RunnerConnection, String) -> Void
  let startedAt = monotonicNanoseconds()

  /// Starts a runner for `arguments.library` and waits for its hello. Throws the driver's own
  /// load error (exactly as an in-process load would), or a `.runner` error if the runner itself
  /// could not start or died while loading.
  static func start(
    executable: String, arguments: RunnerArguments, driverName: String, backend: any HostServiceBackend,
    pool: BlockingPool, helloTimeout: Duration = .seconds(15),
    onExit: @escaping @Sendable (RunnerConnection, String) -> Void
  ) throws(DriverLoadError) -> (RunnerConnection, DriverInfo) {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw DriverLoadError(.runner, field: "runner", "\(executable) is not an executable file",
        fix: "install hiclaw-driver-runner next to the hiclaw binaries or set HICLAW_RUNNER to its path")
    }
    var sockets: [Int32] = [-1, -1]
    var output: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sockets) == 0,
      pipe(&output) == 0
    else {
      throw DriverLoadError(.runner, "cannot create the runner socket: \(String(cString: strerror(errno)))", fix: "check the process's file descriptor limit")
    }
    // The host's ends must not leak into other children (the write end of a runner's output pipe
    // held by another child would keep the reader from ever seeing end-of-file).
    _ = fcntl(output[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(output[1], F_SETFD, FD_CLOEXEC)
    var childArguments = arguments
    childArguments.socketFD = 3
    let argv = [executable] + childArguments.commandLine

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, output[1], 1)
    posix_spawn_file_actions_adddup2(&actions, output[1], 2)
    posix_spawn_file_actions_adddup2(&actions, sockets[1], 3)
    // Nothing else of the host reaches the runner (which runs third-party code): not the
    // store's files, not the API's sockets, and not the descriptors other child processes are
    // watched through. (Foundation's Process learns that a child exited when the child's end of
    // a socket pair closes; a runner that inherited that end kept `waitUntilExit` waiting for
    // an exited child forever.)
    hc_spawn_close_from(&actions, 4)
    var pid: pid_t = 0
    let cArguments = argv.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    // The runner's own crash report (Swift's backtracer) would bury the driver's message.
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { cEnvironment.forEach { free($0) } }
    let rc = posix_spawn(&pid, executable, &actions, nil, cArguments, cEnvironment)
    close(sockets[1])
    close(output[1])
    guard rc == 0 else {
      close(sockets[0])
      close(output[0])
      throw DriverLoadError(.runner, "cannot start \(executable): \(String(cString: strerror(rc)))",
        fix: "check that hiclaw-driver-runner is installed and executable")
    }
    let connection = RunnerConnection(
      pid: pid, driverName: driverName, channel: FrameChannel(fd: sockets[0]), backend: backend, pool: pool,
      onExit: onExit)
    connection.startOutputReader(fd: output[0])
    connection.startReader()

    let timeout = UInt64(helloTimeout.components.seconds) * 1_000_000_000
    guard let frameOrNil = connection.hello.wait(timeoutNanoseconds: timeout) else {
      connection.kill()
      throw DriverLoadError(.runner, "the runner did not finish loading the driver within \(helloTimeout)",
        fix: "the driver's init or describe hangs; fix it (try `hiclaw driver verify`)")
    }
    guard let frame = frameOrNil else {
      let reason = connection.waitForExitDescription()
      throw DriverLoadError(.runner, "the runner \(reason) while loading the driver\(connection.outputTail)",
        fix: "the driver crashes in hc_driver_magic_v1, init or describe; run `hiclaw driver verify` on it")
    }
    var reader = FrameReader(frame.payload)
    let status = (try? reader.i32()) ?? HC_ERR_INTERNAL
    let body = (try? reader.string()) ?? ""
    if status != HC_OK {
      connection.kill()
      if let error = try? JSONDecoder().decode(DriverLoadError.self, from: Data(body.utf8)) { throw error }
      throw DriverLoadError(.runner, "the runner failed to load the driver: \(body)", fix: "run `hiclaw driver verify` on it")
    }
    guard let info = try? JSONDecoder().decode(DriverInfo.self, from: Data(body.utf8)) else {
      connection.kill()
      throw DriverLoadError(.runner, "the runner sent an unreadable hello", fix: "use the hiclaw-driver-runner of the same hiclaw release")
    }
    return (connection, info)
  }

  private init(
    pid: pid_t, driverName: String, channel: FrameChannel, backend: any HostServiceBackend, pool: BlockingPool,
    onExit: @escaping @Sendable (RunnerConnection, String) -> Void
  ) {
    self.pid = pid
    self.driverName = driverName
    self.channel = channel
    self.backend = backend
    self.pool = pool
    self.onExit = onExit
  }

  /// Sends a request; `completion` gets the result frame, or nil if the runner dies before
  /// answering. Returns false (and never calls `completion`) if the runner had already exited:
  /// the request never reached a runner, so the caller may send it to the next one.
  @discardableResult
  func request(_ type: FrameType, capacity: Int = 64, _ build: (inout FrameWriter) -> Void,
    completion: @escaping @Sendable (Frame?) -> Void) -> Bool
  {
    let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    var writer = FrameWriter(type: type, id: id, capacity: capacity)
    build(&writer)
    let accepted = state.withLock { state in
      guard !state.exited else { return false }
      state.pending[id] = completion
      return true
    }
    guard accepted else { return false }
    // If the write fails, the reader thread sees the end of stream and fails every pending request.
    channel.send(writer.finish())
    return true
  }

  /// Sends a frame that has no answer.
  func notify(_ type: FrameType, _ build: (inout FrameWriter) -> Void) {
    var writer = FrameWriter(type: type, id: 0)
    build(&writer)
    channel.send(writer.finish())
  }

  /// Blocking request with a timeout; nil if the runner died or did not answer in time.
  func requestAndWait(_ type: FrameType, timeout: Duration, _ build: (inout FrameWriter) -> Void) -> Frame? {
    let latch = BlockingLatch<Frame?>()
    guard request(type, build, completion: { latch.fulfil($0) }) else { return nil }
    return latch.wait(timeoutNanoseconds: UInt64(timeout.components.seconds) * 1_000_000_000
      + UInt64(timeout.components.attoseconds / 1_000_000_000)) ?? nil
  }

  var isAlive: Bool { state.withLock { !$0.exited } }
  var exitDescription: String { state.withLock { $0.exitDescription } }

  /// The last lines the runner printed, as a suffix for error messages.
  var outputTail: String {
    let lines = state.withLock { $0.output.suffix(5) }
    return lines.isEmpty ? "" : "; its last output: \(lines.joined(separator: " | "))"
  }

  /// Kills the runner unless it was already reaped: after `waitpid` its pid may belong to an
  /// unrelated process.
  func kill() {
    reaped.withLock { reaped in
      if reaped == nil { _ = Glibc.kill(pid, SIGKILL) }
    }
  }

  private func startReader() {
    spawnDetachedThread(name: "hc-runner-rd") { [self] in
      while let frame = channel.receive() {
        handle(frame)
      }
      let description = waitForExitDescription()
      let pending = state.withLock { state in
        state.exited = true
        state.exitDescription = description
        defer { state.pending = [:] }
        return state.pending
      }
      hello.fulfil(nil)
      // The transport learns of the death before the failed calls are reported, so a caller that
      // retries from its completion handler waits for the restarted runner.
      onExit(self, description)
      for completion in pending.values { completion(nil) }
      // Under the channel's write lock: a request that passed the `exited` check above just
      // before it was set, or a service reply from the pool, must not write to this number
      // once it is closed (the next runner's socket may get it).
      channel.closeDescriptor()
    }
  }

  private func handle(_ frame: Frame) {
    switch frame.type {
    case .hello:
      hello.fulfil(frame)
    case .result:
      let completion = state.withLock { $0.pending.removeValue(forKey: frame.id) }
      completion?(frame)
    case .log:
      var reader = FrameReader(frame.payload)
      guard let level = try? reader.i32(), let target = try? reader.string(), let message = try? reader.string(),
        let fields = try? reader.string()
      else { return }
      backend.log(driver: driverName, level: level, target: target, message: message, fieldsJSON: fields)
    case .event:
      var reader = FrameReader(frame.payload)
      guard let subject = try? reader.string(), let event = try? reader.string() else { return }
      backend.emitEvent(driver: driverName, subject: subject, eventJSON: event)
    case .serviceCall:
      pool.submit { [self] in serve(frame) }
    default:
      break
    }
  }

  private func serve(_ frame: Frame) {
    var reader = FrameReader(frame.payload)
    let service = (try? reader.u8()).flatMap(ForwardedService.init(rawValue:))
    let first = (try? reader.string()) ?? ""
    let second = (try? reader.string()) ?? ""
    var status = HC_ERR_UNIMPLEMENTED
    var value = ""
    switch service {
    case .statePut:
      status = backend.statePut(driver: driverName, key: first, value: second)
    case .stateGet:
      let result = backend.stateGet(driver: driverName, key: first)
      status = result.status
      value = result.value ?? ""
    case .secretGet:
      var result = backend.secretGet(driver: driverName, ref: first)
      var writer = FrameWriter(type: .serviceReply, id: frame.id, capacity: (result.value?.count ?? 0) + 8)
      writer.append(result.status)
      (result.value ?? []).withUnsafeBytes { writer.append(bytes: $0) }
      if result.value != nil { result.value!.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) } }
      var frameBytes = writer.finish()
      channel.send(frameBytes)
      frameBytes.withUnsafeMutableBytes { _ = memset($0.baseAddress!, 0, $0.count) }
      return
    case .http:
      (status, value) = backend.http(driver: driverName, requestJSON: first)
    case nil:
      break
    }
    var writer = FrameWriter(type: .serviceReply, id: frame.id, capacity: value.utf8.count + 8)
    writer.append(status)
    writer.append(value)
    channel.send(writer.finish())
  }

  private func startOutputReader(fd: Int32) {
    spawnDetachedThread(name: "hc-runner-out") { [self] in
      var pending = [UInt8]()
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        pending.append(contentsOf: buffer[0..<n])
        while let newline = pending.firstIndex(of: 10) {
          record(String(decoding: pending[..<newline], as: UTF8.self))
          pending.removeSubrange(...newline)
        }
      }
      if !pending.isEmpty { record(String(decoding: pending, as: UTF8.self)) }
      close(fd)
    }
  }

  private func record(_ line: String) {
    guard !line.isEmpty else { return }
    state.withLock { state in
      state.output.append(line)
      if state.output.count > 50 { state.output.removeFirst(state.output.count - 50) }
    }
    backend.log(driver: driverName, level: Int32(HC_LOG_WARNING), target: "runner.output",
      message: "driver wrote to stdout/stderr: \(line)", fieldsJSON: "")
  }

  private let reaped = Mutex<String?>(nil)

  /// Reaps the child (once) and describes how it ended.
  func waitForExitDescription() -> String {
    if let description = reaped.withLock({ $0 }) { return description }
    // Wait for the exit without reaping, outside the lock (``kill()`` takes it, and may be what
    // ends the wait); then reap under it, so a kill never reaches a recycled pid.
    var info = siginfo_t()
    var waited: Int32
    repeat { waited = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) } while waited < 0 && errno == EINTR
    return reaped.withLock { reaped in
      if let reaped { return reaped }
      var status: Int32 = 0
      var result: pid_t
      repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
      let description = result < 0 ? "exited (status unknown)" : Self.describe(waitStatus: status)
      reaped = description
      return description
    }
  }

  static func describe(waitStatus status: Int32) -> String {
    let signal = status & 0x7F
    if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
    return "was killed by signal \(signalDescription(signal))"
  }
}

/// "SIGSEGV (11)".
public func signalDescription(_ signal: Int32) -> String {
  let names: [Int32: String] = [
    SIGILL: "SIGILL", SIGABRT: "SIGABRT", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS",
    SIGFPE: "SIGFPE", SIGTRAP: "SIGTRAP", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGPIPE: "SIGPIPE",
  ]
  return "\(names[signal] ?? "signal") (\(signal))"
}
