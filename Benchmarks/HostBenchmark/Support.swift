// Timing, statistics, threads and temporary directories shared by every section.
import Dispatch
import Foundation
import Glibc
import Logging
import Store
import Synchronization

/// CLOCK_MONOTONIC in nanoseconds (vDSO, about 20 ns per read).
@inline(__always)
func nowNanoseconds() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// Seconds since `start` (a ``nowNanoseconds()`` reading).
func secondsSince(_ start: UInt64) -> Double { Double(nowNanoseconds() - start) / 1e9 }

/// CPU time (user + system) in seconds: of the whole process, of the calling thread alone, or
/// of the child processes waited for so far.
func cpuSeconds(thread: Bool = false, children: Bool = false) -> Double {
  var usage = rusage()
  // RUSAGE_THREAD (1) is a GNU extension the Glibc module does not export; RUSAGE_CHILDREN is -1.
  getrusage(__rusage_who_t(thread ? 1 : children ? -1 : 0), &usage)
  func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
  return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Order statistics over a set of samples.
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

  /// Linear interpolation between closest ranks (numpy's default definition).
  static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    if sorted.count == 1 { return sorted[0] }
    let position = fraction * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = Swift.min(lower + 1, sorted.count - 1)
    let weight = position - Double(lower)
    return sorted[lower] * (1 - weight) + sorted[upper] * weight
  }
}

func median(_ values: [Double]) -> Double { Summary(values).median }

/// Starts a detached POSIX thread running `body` (blocking work stays off the cooperative pool,
/// which on this 2-core machine has two threads that the system under test needs).
func startThread(_ name: String = "bench", _ body: @escaping @Sendable () -> Void) {
  let thread = Thread { body() }
  thread.name = name
  thread.stackSize = 1 << 20
  thread.start()
}

/// Runs `body` on `count` dedicated threads at once and waits for all of them. Each gets its
/// index; they are released together once all have started.
func runThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
  let results = Mutex<[Int: T]>([:])
  let ready = DispatchSemaphore(value: 0)
  let go = DispatchSemaphore(value: 0)
  let done = DispatchSemaphore(value: 0)
  for index in 0..<count {
    startThread("bench-\(index)") {
      ready.signal()
      go.wait()
      let result = body(index)
      results.withLock { $0[index] = result }
      done.signal()
    }
  }
  for _ in 0..<count { ready.wait() }
  for _ in 0..<count { go.signal() }
  for _ in 0..<count { done.wait() }
  return results.withLock { dictionary in (0..<count).map { dictionary[$0]! } }
}

/// Runs blocking `body` on a dedicated thread and awaits its result without blocking a
/// cooperative thread.
func onThread<T: Sendable>(_ name: String = "bench", _ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    startThread(name) {
      do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
    }
  }
}

/// A fresh directory under the benchmark's temporary root.
func freshDirectory(_ root: URL, _ name: String) -> URL {
  let url = root.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
  try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

struct BenchError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("hiclaw-bench-host: \(message)\n".utf8))
  exit(1)
}

/// Progress notes on standard error (the tables and JSON lines go to standard output).
func note(_ message: String) {
  FileHandle.standardError.write(Data("  … \(message)\n".utf8))
}

/// With `BENCH_WINDOWS` set, notes when a measured phase ran, in CLOCK_MONOTONIC seconds, so a
/// profile taken with `perf record -k mono …` can be cut to it (`perf report --time START,END`).
func noteWindow(_ name: String, _ start: UInt64, _ end: UInt64) {
  guard ProcessInfo.processInfo.environment["BENCH_WINDOWS"] != nil else { return }
  note(String(format: "window %@: %.6f,%.6f", name, Double(start) / 1e9, Double(end) / 1e9))
}

/// `Duration` in seconds.
extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Memory of a process from `/proc/PID/status`, in bytes: `VmRSS` = `RssAnon` (heap, stacks,
/// SQLite caches) + `RssFile` (resident pages of the executable and shared libraries) + `RssShmem`,
/// and the peak `VmHWM`.
struct ProcessMemory: Sendable {
  var rss: Double
  var anon: Double
  var file: Double
  var hwm: Double
}

func memoryOf(pid: Int32) -> ProcessMemory? {
  guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
  func field(_ name: String) -> Double? {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
    let parts = line.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count >= 2, let kilobytes = Double(parts[1]) else { return nil }
    return kilobytes * 1024
  }
  guard let rss = field("VmRSS"), let hwm = field("VmHWM"), let anon = field("RssAnon"), let file = field("RssFile") else {
    return nil
  }
  return ProcessMemory(rss: rss, anon: anon, file: file, hwm: hwm)
}

/// The log level of the host's parts in this process: `HICLAW_BENCH_LOG` (`debug`, `info`, …),
/// else `error` (logging is not what is measured).
let benchLogLevel: Logger.Level = ProcessInfo.processInfo.environment["HICLAW_BENCH_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .error

/// The store configuration every benchmark store uses: the defaults, except the experiment knob
/// BENCH_CHECKPOINT_PAGES (a run that sets it is not a result).
func benchStoreConfiguration(_ directory: URL) -> StoreConfiguration {
  var configuration = StoreConfiguration(directory: directory)
  if let pages = ProcessInfo.processInfo.environment["BENCH_CHECKPOINT_PAGES"].flatMap({ Int32($0) }) {
    configuration.checkpointPages = pages
  }
  return configuration
}
