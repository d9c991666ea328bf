import Foundation
import Logging
import Metrics
import Model
import Store

/// Feeds one ``Reconciler`` from the store: lists its kind, queues every object, then follows
/// the store's watch from the list's revision (so no change between the list and the watch is
/// missed) and queues each changed key. Runs `concurrency` workers over one ``WorkQueue``.
///
/// If the watch ends (the store compacted past it, or it fell too far behind), the controller
/// lists again: reconcilers are level-based, so re-queueing everything is always safe.
public final class Controller: Sendable {
  public let reconciler: any Reconciler
  public let queue: WorkQueue<ObjectKey>
  let store: Store
  let concurrency: Int
  let logger: Logger
  let metrics: ReconcileMetrics

  /// - Parameters:
  ///   - concurrency: how many keys are reconciled at once.
  public init(reconciler: any Reconciler, store: Store, concurrency: Int = 4, logger: Logger) {
    self.reconciler = reconciler
    self.store = store
    self.queue = WorkQueue()
    self.concurrency = max(1, concurrency)
    self.logger = logger
    self.metrics = ReconcileMetrics(kind: reconciler.kind)
  }

  /// Runs until the task is cancelled, then shuts the queue down and waits for the reconciles
  /// in flight to finish.
  public func run() async {
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await self.feed() }
      for _ in 0..<concurrency { group.addTask { await self.work() } }
      group.addTask {
        // Shut the queue down when the run is cancelled, which ends the workers.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        self.queue.shutDown()
      }
      await group.next()
      group.cancelAll()
      queue.shutDown()
    }
  }

  private func feed() async {
    let kind = reconciler.kind.rawValue
    while !Task.isCancelled {
      do throws(StoreError) {
        let list = try await store.list(kind: kind)
        var seen: [ObjectKey: ReconcileInputs] = [:]
        for item in list.items {
          seen[item.key] = ReconcileInputs(item)
          queue.add(item.key)
        }
        metrics.depth(queue.depth)
        let watch = try await store.watch(kind: kind, fromRevision: list.resourceVersion)
        for try await event in watch {
          let key = event.object.key
          if event.type == .deleted {
            seen[key] = nil
          } else {
            // A change of the status alone (most often the reconciler's own write) is not a
            // reason to reconcile again (controller-runtime's generation-changed predicate,
            // extended to the metadata reconcilers act on); nor is the cleanup finalizer
            // appearing (see ``ReconcileInputs/onlyAddsCleanupFinalizer(to:)``).
            let inputs = ReconcileInputs(event.object)
            let previous = seen[key]
            seen[key] = inputs
            if event.type == .modified, let previous,
              previous == inputs || inputs.onlyAddsCleanupFinalizer(to: previous)
            {
              continue
            }
          }
          queue.add(key)
          metrics.depth(queue.depth)
        }
        if Task.isCancelled { return }
      } catch let error where error.code == .closed || error.code == .cancelled {
        return
      } catch {
        if Task.isCancelled { return }
        logger.warning("watch of \(kind) ended; listing again", metadata: ["error": "\(error)"])
        try? await Task.sleep(for: .milliseconds(100))
      }
    }
  }

  private func work() async {
    while let key = await queue.next() {
      await reconcileOnce(key)
      queue.done(key)
      metrics.depth(queue.depth)
    }
  }

  private func reconcileOnce(_ key: ObjectKey) async {
    let start = ContinuousClock.now
    do {
      let result = try await reconciler.reconcile(key)
      metrics.finished(.success, after: ContinuousClock.now - start)
      queue.forget(key)
      if let delay = result.requeueAfter { queue.add(key, after: delay) }
    } catch let error as TerminalError {
      metrics.finished(.terminal, after: ContinuousClock.now - start)
      queue.forget(key)
      logger.warning("reconcile failed (not retried until the object changes)",
        metadata: ["key": "\(key)", "reason": "\(error.reason)", "error": "\(error.message)"])
    } catch let error as StoreError where error.code == .conflict {
      // Someone wrote the object meanwhile: read it again soon. Counted apart from errors.
      metrics.finished(.conflict, after: ContinuousClock.now - start)
      queue.addRateLimited(key)
    } catch let error as StoreError where error.code == .closed {
      metrics.finished(.error, after: ContinuousClock.now - start)
    } catch {
      metrics.finished(.error, after: ContinuousClock.now - start)
      let failures = queue.failureCount(key)
      logger.log(level: failures < 3 ? .info : .warning, "reconcile failed; retrying with backoff",
        metadata: ["key": "\(key)", "failures": "\(failures + 1)", "error": "\(error)"])
      queue.addRateLimited(key)
    }
  }
}

/// What a reconcile reads of an object besides its status: an event that changes none of it
/// (a status write) does not queue the object.
struct ReconcileInputs: Hashable {
  var uid: UUID
  var generation: Int64
  var deleting: Bool
  var finalizers: [String]
  var labels: [String: String]
  var annotations: [String: String]

  /// True if `self` is `previous` plus the cleanup finalizer, and nothing else changed.
  ///
  /// Reconcilers add that finalizer as the first step of a pass and carry on with the object
  /// the write returned, so the event it causes holds nothing the pass has not seen: without
  /// this, every new object was reconciled twice (the second pass a driver `inspect` that
  /// changes nothing). If the pass fails after adding it, its error requeues the key anyway;
  /// if someone else adds it, there is nothing to do either (it is the desired state).
  func onlyAddsCleanupFinalizer(to previous: ReconcileInputs) -> Bool {
    guard finalizers.contains(ObjectMeta.cleanupFinalizer), !previous.finalizers.contains(ObjectMeta.cleanupFinalizer)
    else { return false }
    var withoutIt = self
    withoutIt.finalizers.removeAll { $0 == ObjectMeta.cleanupFinalizer }
    return withoutIt == previous
  }

  init(_ object: StoredObject) {
    uid = object.uid
    generation = object.generation
    deleting = object.isBeingDeleted
    finalizers = object.finalizers
    labels = object.labels
    annotations = object.annotations
  }
}

/// Prometheus series of the engine (through swift-metrics):
/// `hiclaw_reconcile_total{kind,outcome}`, `hiclaw_reconcile_errors_total{kind}`,
/// `hiclaw_reconcile_duration_seconds{kind}`, `hiclaw_workqueue_depth{kind}`.
struct ReconcileMetrics: Sendable {
  enum Outcome: String, CaseIterable { case success, error, conflict, terminal }

  let kind: String
  let duration: Metrics.Timer
  let depthGauge: Gauge
  let errors: Counter
  /// One counter per outcome, made once (making one is a lookup in the metrics backend).
  let outcomes: [Outcome: Counter]

  init(kind: Kind) {
    self.kind = kind.rawValue
    duration = Metrics.Timer(label: "hiclaw_reconcile_duration_seconds", dimensions: [("kind", kind.rawValue)],
      preferredDisplayUnit: .seconds)
    depthGauge = Gauge(label: "hiclaw_workqueue_depth", dimensions: [("kind", kind.rawValue)])
    errors = Counter(label: "hiclaw_reconcile_errors_total", dimensions: [("kind", kind.rawValue)])
    var outcomes: [Outcome: Counter] = [:]
    for outcome in Outcome.allCases {
      outcomes[outcome] = Counter(label: "hiclaw_reconcile_total", dimensions: [("kind", kind.rawValue), ("outcome", outcome.rawValue)])
    }
    self.outcomes = outcomes
  }

  func finished(_ outcome: Outcome, after elapsed: Duration) {
    outcomes[outcome]?.increment()
    if outcome == .error || outcome == .terminal { errors.increment() }
    let parts = elapsed.components
    duration.recordNanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
  }

  func depth(_ value: Int) { depthGauge.record(value) }
}
