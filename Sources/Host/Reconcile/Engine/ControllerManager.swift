import Logging
import Model
import Store

/// Runs one ``Controller`` per kind until cancelled.
public final class ControllerManager: Sendable {
  public let controllers: [Controller]

  public init(controllers: [Controller]) { self.controllers = controllers }

  /// Reconciles per kind at once, by default. Reconciles mostly wait (on backend calls and store
  /// commits), so more of them than cores keeps the machine busy: on the 2-core apply benchmark
  /// (BM1, 2026-12-04) 8 finished the reconciles of 1,000 Workers in 0.27–0.30 s against
  /// 0.32–0.34 s with 4 and 0.44 s with 2; 16 was no better than 8. With a real backend, whose
  /// calls take milliseconds, the waiting share is larger still.
  public static let defaultConcurrency = 8

  /// The four controllers of hiclaw over one backend.
  public convenience init(
    store: Store, backend: any WorkerBackend, provisioners: Provisioners = .noOp, runtimes: RuntimeDrivers = .none,
    settings: ReconcileSettings = ReconcileSettings(), concurrency: Int = ControllerManager.defaultConcurrency,
    logger: Logger
  ) {
    let reconcilers: [any Reconciler] = [
      WorkerReconciler(
        store: store, backend: backend, provisioners: provisioners, runtimes: runtimes, settings: settings, logger: logger),
      TeamReconciler(
        store: store, backend: backend, provisioners: provisioners, runtimes: runtimes, settings: settings, logger: logger),
      HumanReconciler(store: store),
      ManagerReconciler(
        store: store, backend: backend, provisioners: provisioners, runtimes: runtimes, settings: settings, logger: logger),
    ]
    self.init(controllers: reconcilers.map {
      Controller(reconciler: $0, store: store, concurrency: concurrency, logger: logger)
    })
  }

  /// Runs every controller until the calling task is cancelled.
  public func run() async {
    await withTaskGroup(of: Void.self) { group in
      for controller in controllers { group.addTask { await controller.run() } }
    }
  }

  /// The controller of `kind`.
  public func controller(for kind: Kind) -> Controller? { controllers.first { $0.reconciler.kind == kind } }
}
