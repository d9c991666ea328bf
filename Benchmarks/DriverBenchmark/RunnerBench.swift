// Section 4: the same echo256 call through `hiclaw-driver-runner` (isolation `.process`), against
// the OS floor: a raw socketpair ping-pong with the same frame sizes, between two threads of this
// process and between this process and a child.
import Dispatch
import DriverABI
import DriverHost
import Foundation
import Glibc

/// A socketpair whose far end echoes fixed-size messages: read `requestSize` bytes, write
/// `responseSize` bytes, until end of stream.
///
/// - `thread`: the far end is a thread of this process (2 thread wake-ups per round trip).
/// - `process`: the far end is a child process (2 wake-ups, across processes).
/// - `runnerTopology`: the thread structure of the runner path, with nothing else: the child
///   reads on one thread and hands each request to a worker thread through a condition variable
///   (RunnerServer's read loop → BlockingPool), and on this side a reader thread receives the
///   response and hands it to the caller through a condition variable (RunnerConnection's reader
///   → BlockingLatch). 4 wake-ups per round trip.
final class PingPongPeer: @unchecked Sendable {
  let fd: Int32
  let requestSize: Int
  let responseSize: Int
  private let request: UnsafeMutableRawBufferPointer
  private let response: UnsafeMutableRawBufferPointer
  private let finished = DispatchSemaphore(value: 0)
  private let replies = CondSemaphore()
  private var childPID: pid_t = 0
  private let relayed: Bool

  enum Kind { case thread, process, runnerTopology }

  init(_ kind: Kind, requestSize: Int, responseSize: Int) {
    self.requestSize = requestSize
    self.responseSize = responseSize
    request = .allocate(byteCount: requestSize, alignment: 16)
    request.initializeMemory(as: UInt8.self, repeating: 0x7B)
    response = .allocate(byteCount: responseSize, alignment: 16)
    var fds: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
      fail("socketpair: \(String(cString: strerror(errno)))")
    }
    fd = fds[0]
    let far = fds[1]
    relayed = kind == .runnerTopology
    switch kind {
    case .thread:
      let thread = Thread { [finished, requestSize, responseSize] in
        PingPongPeer.serve(fd: far, requestSize: requestSize, responseSize: responseSize)
        close(far)
        finished.signal()
      }
      thread.start()
    case .process, .runnerTopology:
      var actions = posix_spawn_file_actions_t()
      posix_spawn_file_actions_init(&actions)
      defer { posix_spawn_file_actions_destroy(&actions) }
      posix_spawn_file_actions_adddup2(&actions, far, 3)
      let argv = [currentExecutablePath(), "--pong-fd", "3", "--request-size", "\(requestSize)",
        "--response-size", "\(responseSize)"] + (relayed ? ["--relay"] : [])
      let cArguments = argv.map { strdup($0) } + [nil]
      defer { cArguments.forEach { free($0) } }
      var pid: pid_t = 0
      let rc = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
      close(far)
      guard rc == 0 else { fail("posix_spawn: \(String(cString: strerror(rc)))") }
      childPID = pid
      if relayed {
        let near = fd
        startThread { [replies, finished] in
          let incoming = UnsafeMutableRawPointer.allocate(byteCount: responseSize, alignment: 16)
          while readFully(near, incoming, responseSize) { replies.post() }
          finished.signal()
        }
      }
    }
  }

  /// The child's side of `runnerTopology`: a reader thread hands requests to a worker thread.
  static func serveRelayed(fd: Int32, requestSize: Int, responseSize: Int) {
    let work = CondSemaphore()
    startThread {
      let outgoing = UnsafeMutableRawPointer.allocate(byteCount: responseSize, alignment: 16)
      outgoing.initializeMemory(as: UInt8.self, repeating: 0x7D, count: responseSize)
      while true {
        work.wait()
        if !writeFully(fd, outgoing, responseSize) { exit(0) }
      }
    }
    let incoming = UnsafeMutableRawPointer.allocate(byteCount: requestSize, alignment: 16)
    while readFully(fd, incoming, requestSize) { work.post() }
  }

  /// The echo loop (in a thread, or in the child process).
  static func serve(fd: Int32, requestSize: Int, responseSize: Int) {
    let incoming = UnsafeMutableRawPointer.allocate(byteCount: requestSize, alignment: 16)
    let outgoing = UnsafeMutableRawPointer.allocate(byteCount: responseSize, alignment: 16)
    outgoing.initializeMemory(as: UInt8.self, repeating: 0x7D, count: responseSize)
    while readFully(fd, incoming, requestSize) {
      if !writeFully(fd, outgoing, responseSize) { break }
    }
  }

  /// One round trip: send a request, wait for the whole response.
  @inline(__always)
  func roundTrip() -> UInt64 {
    send()
    return awaitReply()
  }

  @inline(__always)
  func send() {
    guard writeFully(fd, request.baseAddress!, requestSize) else { fail("ping-pong peer went away") }
  }

  @inline(__always)
  func awaitReply() -> UInt64 {
    if relayed {
      replies.wait()
      return 1
    }
    guard readFully(fd, response.baseAddress!, responseSize) else { fail("ping-pong peer went away") }
    return UInt64(response.load(as: UInt8.self))
  }

  func stop() {
    shutdown(fd, Int32(SHUT_RDWR))
    if childPID != 0 {
      var status: Int32 = 0
      waitpid(childPID, &status, 0)
    }
    if childPID == 0 || relayed { finished.wait() }
    close(fd)
  }
}

enum RunnerBench {
  static let roundTripTargetNs = 50_000.0

  /// Frame sizes of one echo256 call on the runner socket (WireProtocol.swift):
  /// request  = u32 len + u8 type + u64 id | u64 handle | u32+"echo256" | u32+request
  /// response = u32 len + u8 type + u64 id | i32 status | u32+result
  static func frameSizes(method: String, requestBytes: Int, responseBytes: Int) -> (request: Int, response: Int) {
    (13 + 8 + 4 + method.utf8.count + 4 + requestBytes, 13 + 4 + 4 + responseBytes)
  }

  /// Time from DriverHost.load(isolation: .process) to a usable driver: posix_spawn of the runner,
  /// its NativeDriver.load (cold JSON decode included), the hello frame and its decoding here.
  static func runnerStarts(host: DriverHost, libraryPath: String, samples: Int) -> [UInt64] {
    (0..<samples).map { _ in
      do {
        let start = nowNanoseconds()
        let driver = try blockingAwait { try await host.load(library: libraryPath, isolation: .process) }
        let elapsed = nowNanoseconds() - start
        _ = try blockingAwait { await driver.shutdown() }
        return elapsed
      } catch {
        fail("runner start failed: \(error)")
      }
    }
  }

  static func run(host: DriverHost, libraryPath: String, calls: Int, blocks: Int, starts: Int, report: Report) {
    let startTimes = runnerStarts(host: host, libraryPath: libraryPath, samples: starts)
    let requestString = CallBench.request1KiB()
    let sizes = frameSizes(method: "echo256", requestBytes: requestString.utf8.count, responseBytes: 256)

    let driver: Driver
    let instance: DriverInstance
    do {
      driver = try blockingAwait { try await host.load(library: libraryPath, isolation: .process) }
      instance = try blockingAwait { try await driver.makeInstance() }
    } catch {
      fail("cannot start the bench driver in hiclaw-driver-runner (\(host.configuration.runnerExecutable)): \(error)")
    }
    guard driver.isolation == .process else { fail("the driver is not isolated") }
    let check = instance.callBlocking("echo256", requestString)
    guard check.ok, check.json.utf8.count == 256 else { fail("runner echo256 returned \(check.status): \(check.json)") }

    let threadPeer = PingPongPeer(.thread, requestSize: sizes.request, responseSize: sizes.response)
    let processPeer = PingPongPeer(.process, requestSize: sizes.request, responseSize: sizes.response)
    let topologyPeer = PingPongPeer(.runnerTopology, requestSize: sizes.request, responseSize: sizes.response)

    var failures = 0
    func blocking(_ count: Int) -> [UInt64] {
      CallBench.timedCalls(count) {
        let outcome = instance.callBlocking("echo256", requestString)
        if !outcome.ok { failures += 1 }
        return UInt64(outcome.json.utf8.count)
      }
    }
    func asynchronous(_ count: Int) -> [UInt64] {
      do {
        return try blockingAwait { () async throws -> [UInt64] in
          var latencies = [UInt64]()
          latencies.reserveCapacity(count)
          var accumulator = 0
          for _ in 0..<count {
            let start = nowNanoseconds()
            let result = try await instance.call("echo256", requestString)
            latencies.append(nowNanoseconds() - start)
            accumulator &+= result.utf8.count
          }
          consume(UInt64(accumulator))
          return latencies
        }
      } catch {
        fail("runner async call failed: \(error)")
      }
    }

    // Warm-up (the process peer's child is still starting; first frames fault in buffers).
    let warmup = max(200, calls / 10)
    _ = CallBench.timedCalls(warmup) { threadPeer.roundTrip() }
    _ = CallBench.timedCalls(warmup) { processPeer.roundTrip() }
    _ = CallBench.timedCalls(warmup) { topologyPeer.roundTrip() }
    _ = blocking(warmup)
    _ = asynchronous(warmup)

    // Interleaved blocks so that drift and background noise hit every case alike.
    var threadFloor: [UInt64] = [], processFloor: [UInt64] = [], topologyFloor: [UInt64] = []
    var topologyTimer: [UInt64] = [], topologyTimerAfter: [UInt64] = [], runnerBlocking: [UInt64] = [], runnerAsync: [UInt64] = []
    let perBlock = max(1, calls / blocks)
    for _ in 0..<blocks {
      threadFloor += CallBench.timedCalls(perBlock) { threadPeer.roundTrip() }
      processFloor += CallBench.timedCalls(perBlock) { processPeer.roundTrip() }
      topologyFloor += CallBench.timedCalls(perBlock) { topologyPeer.roundTrip() }
      topologyTimer += CallBench.timedCalls(perBlock) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(60)) {}
        return topologyPeer.roundTrip()
      }
      topologyTimerAfter += CallBench.timedCalls(perBlock) {
        topologyPeer.send()
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(60)) {}
        return topologyPeer.awaitReply()
      }
      runnerBlocking += blocking(perBlock)
      runnerAsync += asynchronous(perBlock)
    }
    threadPeer.stop()
    processPeer.stop()
    topologyPeer.stop()
    if failures > 0 { fail("\(failures) runner calls failed") }
    let statistics = try? blockingAwait { await driver.statistics() }
    try? blockingAwait { await instance.destroy() }
    _ = try? blockingAwait { await driver.shutdown() }

    // The per-call deadline timer every façade call schedules (Support/Completion.swift `after`),
    // timed alone: 60 s timers that never fire during this run.
    let timerCost = CallBench.timedCalls(min(calls, 20_000)) {
      DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(60)) {}
      return 0
    }

    report.heading(
      "4. echo256 through hiclaw-driver-runner vs a raw socketpair ping-pong (\(sizes.request) B request frame, "
        + "\(sizes.response) B response frame; \(runnerBlocking.count) timed calls each, target ≤ 50 µs)")
    let threadS = Summary(threadFloor)
    let processS = Summary(processFloor)
    let topologyS = Summary(topologyFloor)
    var rows: [[String]] = []
    func row(_ name: String, _ label: String, _ values: [UInt64], target: Bool, note: String) {
      let summary = Summary(values)
      let compared = name == "runner_call_blocking" || name == "runner_async_call"
      var record = Record(section: "runner", name: name, driver: "bench")
      record.set(summary)
      record.note = note
      if compared {
        record.ratio = summary.median / processS.median
        record.ratioTo = "socketpair_processes"
      }
      if target {
        record.targetNs = roundTripTargetNs
        record.pass = summary.median <= roundTripTargetNs
      }
      report.add(record)
      rows.append([
        label, formatTime(summary.median), formatTime(summary.p99), formatTime(summary.min),
        formatTime(summary.mean),
        compared ? formatRatio(summary.median / threadS.median) : "-",
        compared ? formatRatio(summary.median / processS.median) : "-",
        compared ? formatRatio(summary.median / topologyS.median) : "-",
        target ? "≤ 50 µs " + verdict(summary.median <= roundTripTargetNs) : "",
      ])
    }
    row("socketpair_threads", "socketpair ping-pong, 2 threads (floor)", threadFloor, target: false,
      note: "same frame sizes, blocking read/write, two threads of this process")
    row("socketpair_processes", "socketpair ping-pong, 2 processes (floor)", processFloor, target: false,
      note: "same frame sizes, this process and a child (like host and runner)")
    row("socketpair_runner_topology", "socketpair, runner's thread topology (floor)", topologyFloor, target: false,
      note: "2 processes, plus a reader→worker condvar hand-off in the child and a reader→caller one here: 4 wake-ups")
    row("socketpair_runner_topology_with_timer", "the same + a 60 s asyncAfter, armed before the send", topologyTimer,
      target: false, note: "plus the deadline timer the façade arms per call, in RunnerTransport.call's order (timer, then send)")
    row("socketpair_runner_topology_with_timer_after_send", "the same + a 60 s asyncAfter, armed after the send",
      topologyTimerAfter, target: false, note: "the timer armed while the request is in flight")
    row("runner_call_blocking", "runner: DriverInstance.callBlocking", runnerBlocking, target: true,
      note: "from the main thread (not a concurrency executor)")
    row("runner_async_call", "runner: await DriverInstance.call", runnerAsync, target: true,
      note: "sequential awaits from a detached task")
    row("runner_start", "context: runner start (load .process → hello)", startTimes, target: false,
      note: "spawn hiclaw-driver-runner, its NativeDriver.load, hello encode/decode; one sample per start")
    row("dispatch_after_60s", "context: one 60 s DispatchQueue.asyncAfter", timerCost, target: false,
      note: "the deadline timer each façade call schedules (Completion.swift after())")
    report.table(
      ["case", "median", "p99", "min", "mean", "vs threads", "vs processes", "vs topology", "target"], rows)
    if let statistics {
      print("runner statistics: allocations \(statistics.allocator.allocations), frees \(statistics.allocator.frees), "
        + "violations \(statistics.violations.count), restarts \(statistics.restarts)")
    }
  }
}
