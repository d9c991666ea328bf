import CSystemShims
import Foundation

/// Observes this process's threads through /proc, to tell whether a driver left a thread running
/// after `shutdown` returned.
///
/// A thread counts as *active* when the kernel switched to it during the observation window. A
/// parked thread (an idle runtime pool thread, say) is not switched to; a thread still looping in
/// driver code is.
public enum ThreadActivity {
  public struct ThreadSample: Codable, Sendable, Equatable {
    public var tid: Int32
    public var name: String
    public var switches: Int
  }

  public static func currentThreadID() -> Int32 {
    hc_gettid()
  }

  /// Thread ids of this process.
  public static func threadIDs() -> Set<Int32> {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return Set(entries.compactMap { Int32($0) })
  }

  public static func foreignThreads(excluding own: Set<Int32>) -> Set<Int32> {
    threadIDs().subtracting(own)
  }

  static func sample(_ tid: Int32) -> ThreadSample? {
    guard let status = try? String(contentsOfFile: "/proc/self/task/\(tid)/status", encoding: .utf8) else { return nil }
    var name = ""
    var switches = 0
    for line in status.split(separator: "\n") {
      if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
      if line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
        switches += Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
      }
    }
    return ThreadSample(tid: tid, name: name, switches: switches)
  }

  /// Threads not in `own` that kept being scheduled during `window`.
  ///
  /// Language-runtime worker threads (libdispatch names them after their queue, e.g.
  /// "com.apple.root.default-qos", which the kernel keeps as "oot.default-qos") may wake now and
  /// then for the runtime's own housekeeping; they count only if busy (10 or more switches), while
  /// any other thread counts from 2.
  public static func activeThreads(excluding own: Set<Int32>, window: Duration) -> [ThreadSample] {
    let before = foreignThreads(excluding: own).compactMap(sample)
    let nanoseconds = window.components.seconds * 1_000_000_000 + window.components.attoseconds / 1_000_000_000
    usleep(UInt32(nanoseconds / 1000))
    return before.compactMap { first in
      guard let second = sample(first.tid) else { return nil }
      let switches = second.switches - first.switches
      let runtimeWorker = second.name.contains("qos") || second.name.hasPrefix("com.apple.")
      guard switches >= (runtimeWorker ? 10 : 2) else { return nil }
      return ThreadSample(tid: first.tid, name: second.name, switches: switches)
    }
  }
}
