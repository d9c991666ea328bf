// Timing, statistics, the blackhole and small process helpers shared by every benchmark section.
import Dispatch
import DriverHost
import Foundation
import Glibc

/// CLOCK_MONOTONIC in nanoseconds (vDSO, about 20 ns per read on this class of machine).
@inline(__always)
func nowNanoseconds() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// Where loop results go so that the optimiser cannot delete the work that produced them.
nonisolated(unsafe) var benchSink: UInt64 = 0

/// Publishes a value to ``benchSink`` through a call the optimiser cannot see through.
@inline(never)
func consume(_ value: UInt64) {
  benchSink &+= value
}

/// Order statistics over a set of samples (nanoseconds).
struct Summary: Sendable {
  var count: Int
  var median: Double
  var p99: Double
  var min: Double
  var max: Double
  var mean: Double

  init(_ samples: [Double]) {
    precondition(!samples.isEmpty, "no samples")
    let sorted = samples.sorted()
    count = sorted.count
    median = Summary.percentile(sorted, 0.5)
    p99 = Summary.percentile(sorted, 0.99)
    min = sorted.first!
    max = sorted.last!
    mean = sorted.reduce(0, +) / Double(sorted.count)
  }

  init(_ samples: [UInt64]) { self.init(samples.map { Double($0) }) }

  /// Linear interpolation between closest ranks (the same definition as numpy's default).
  static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    if sorted.count == 1 { return sorted[0] }
    let position = fraction * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = Swift.min(lower + 1, sorted.count - 1)
    let weight = position - Double(lower)
    return sorted[lower] * (1 - weight) + sorted[upper] * weight
  }
}

/// Runs an async body to completion from synchronous code, off the main actor, and returns its
/// result. The calling thread blocks on a semaphore (it is never a cooperative-pool thread here).
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
  let box = ResultBox<T>()
  let done = DispatchSemaphore(value: 0)
  Task.detached {
    do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
    done.signal()
  }
  done.wait()
  return try box.result!.get()
}

/// Carries a task's result to the thread that waits for it (written before the semaphore is
/// signalled, read after it is waited for).
final class ResultBox<T: Sendable>: @unchecked Sendable {
  var result: Result<T, any Error>?
}

/// Path of the running executable.
func currentExecutablePath() -> String {
  (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Runs `executable arguments…` to completion and returns its standard output.
func runChild(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Writes all of `count` bytes; false if the peer is gone.
func writeFully(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Bool {
  var sent = 0
  while sent < count {
    let n = Glibc.write(fd, pointer + sent, count - sent)
    if n < 0 {
      if errno == EINTR { continue }
      return false
    }
    sent += n
  }
  return true
}

/// Reads exactly `count` bytes; false at end of stream.
func readFully(_ fd: Int32, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Bool {
  var received = 0
  while received < count {
    let n = Glibc.read(fd, pointer + received, count - received)
    if n < 0 {
      if errno == EINTR { continue }
      return false
    }
    if n == 0 { return false }
    received += n
  }
  return true
}

/// Host services that do nothing: the benchmark drivers never log, emit, store or fetch.
struct SilentServices: HostServiceBackend {
  func logEnabled(driver: String, level: Int32) -> Bool { false }
  func log(driver: String, level: Int32, target: String, message: String, fieldsJSON: String) {}
  func emitEvent(driver: String, subject: String, eventJSON: String) {}
  func statePut(driver: String, key: String, value: String) -> Int32 { 0 }
  func stateGet(driver: String, key: String) -> (status: Int32, value: String?) { (2, nil) }
  func secretGet(driver: String, ref: String) -> (status: Int32, value: [UInt8]?) { (2, nil) }
  func http(driver: String, requestJSON: String) -> (status: Int32, json: String) { (9, "") }
  func httpAsync(driver: String, requestJSON: String, completion: @escaping @Sendable (Int32, String) -> Void) -> Int32 { 9 }
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("hiclaw-bench-driver: \(message)\n".utf8))
  exit(1)
}

/// A counting semaphore on a pthread mutex and condition variable: the primitive the host's
/// BlockingPool and BlockingLatch use, so the floors below wake threads the same way.
final class CondSemaphore: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private var count = 0

  init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(cond, nil)
  }

  func post() {
    pthread_mutex_lock(mutex)
    count += 1
    pthread_cond_signal(cond)
    pthread_mutex_unlock(mutex)
  }

  func wait() {
    pthread_mutex_lock(mutex)
    while count == 0 { pthread_cond_wait(cond, mutex) }
    count -= 1
    pthread_mutex_unlock(mutex)
  }
}

/// Starts a detached thread running `body`.
func startThread(_ body: @escaping @Sendable () -> Void) {
  let thread = Thread { body() }
  thread.start()
}
