import CSystemShims
import Glibc
import Synchronization

/// A fixed set of dedicated threads for work that blocks: driver calls (`[blocking]` in the ABI)
/// and HTTP requests made on a driver's behalf.
///
/// Why not Swift concurrency or Dispatch: a blocking driver call on the cooperative pool would
/// starve the rest of the host, and Dispatch grows its pool without bound. The pool size bounds
/// how many blocking calls run at once; extra work waits in FIFO order.
public final class BlockingPool: Sendable {
  private struct State {
    var queue: [@Sendable () -> Void] = []
    var head = 0
    var stopping = false
    var idle = 0
  }

  private let state = Mutex(State())
  private let signal = ConditionSignal()
  /// Thread ids (`gettid`) of the pool's threads, so diagnostics can tell host threads from
  /// driver threads.
  public let threadIDs: Mutex<Set<Int32>> = Mutex([])
  public let size: Int

  /// Starts `size` threads named `hc-pool-<label>`.
  public init(size: Int, label: String) {
    self.size = max(1, size)
    for index in 0..<self.size {
      let name = "hc-\(label)-\(index)"
      spawnDetachedThread(name: name) { [self] in
        let tid = ThreadActivity.currentThreadID()
        threadIDs.withLock { _ = $0.insert(tid) }
        run()
      }
    }
  }

  /// Queues `work`; it runs on one of the pool's threads.
  public func submit(_ work: @escaping @Sendable () -> Void) {
    state.withLock { state in
      state.queue.append(work)
    }
    signal.signal()
  }

  /// Number of jobs waiting for a thread.
  public var backlog: Int { state.withLock { $0.queue.count - $0.head } }

  private func hasWork() -> Bool { state.withLock { $0.head < $0.queue.count } }

  private func run() {
    while true {
      let job: (@Sendable () -> Void)? = state.withLock { state in
        guard state.head < state.queue.count else { return nil }
        let job = state.queue[state.head]
        state.head += 1
        if state.head > 1024 && state.head * 2 > state.queue.count {
          state.queue.removeFirst(state.head)
          state.head = 0
        }
        return job
      }
      if let job {
        job()
      } else {
        signal.wait { hasWork() }
      }
    }
  }
}

/// A condition variable with a predicate check under its own mutex, so a signal sent between the
/// caller's check and its wait is never lost.
final class ConditionSignal: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var cond = pthread_cond_t()
  private var generation: UInt64 = 0

  init() {
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&cond, nil)
  }

  func signal() {
    pthread_mutex_lock(&mutex)
    generation &+= 1
    pthread_cond_signal(&cond)
    pthread_mutex_unlock(&mutex)
  }

  func broadcast() {
    pthread_mutex_lock(&mutex)
    generation &+= 1
    pthread_cond_broadcast(&cond)
    pthread_mutex_unlock(&mutex)
  }

  /// Waits until `ready()` is true. `ready` is evaluated with this signal's mutex held.
  func wait(until ready: () -> Bool) {
    pthread_mutex_lock(&mutex)
    while !ready() {
      pthread_cond_wait(&cond, &mutex)
    }
    pthread_mutex_unlock(&mutex)
  }
}

/// A one-shot, thread-safe latch for blocking a thread until a value arrives.
final class BlockingLatch<Value: Sendable>: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var cond = pthread_cond_t()
  private var value: Value?

  init() {
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&cond, nil)
  }

  /// Stores the value and wakes the waiter. Later calls are ignored; returns whether this call won.
  @discardableResult
  func fulfil(_ newValue: Value) -> Bool {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    guard value == nil else { return false }
    value = newValue
    pthread_cond_broadcast(&cond)
    return true
  }

  func wait() -> Value {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    while value == nil { pthread_cond_wait(&cond, &mutex) }
    return value!
  }

  /// Waits at most `nanoseconds`; nil on timeout.
  func wait(timeoutNanoseconds: UInt64) -> Value? {
    var deadline = timespec()
    clock_gettime(CLOCK_REALTIME, &deadline)
    let total = UInt64(deadline.tv_nsec) + timeoutNanoseconds % 1_000_000_000
    deadline.tv_sec += Int(timeoutNanoseconds / 1_000_000_000) + Int(total / 1_000_000_000)
    deadline.tv_nsec = Int(total % 1_000_000_000)
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    while value == nil {
      if pthread_cond_timedwait(&cond, &mutex, &deadline) == ETIMEDOUT { break }
    }
    return value
  }
}

private final class ThreadStart {
  let name: String
  let body: () -> Void
  init(name: String, body: @escaping () -> Void) {
    self.name = name
    self.body = body
  }
}

/// Starts a detached pthread running `body`. Thread names are cut to the kernel's 15 bytes.
func spawnDetachedThread(name: String, _ body: @escaping @Sendable () -> Void) {
  let start = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
  var thread = pthread_t()
  var attributes = pthread_attr_t()
  pthread_attr_init(&attributes)
  pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
  let rc = pthread_create(&thread, &attributes, { raw in
    let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
    String(start.name.prefix(15)).withCString { hc_set_thread_name($0) }
    start.body()
    return nil
  }, start)
  pthread_attr_destroy(&attributes)
  precondition(rc == 0, "pthread_create failed: \(rc)")
}
