import Logging
import Model
import Store

/// Runs one ``Controller`` per kind until cancelled.
public final class ControllerManager: Sendable {
  public let controllers: [Controller]

  public init(controllers: [Controller]) { self.controllers = controllers }

  /// The four controllers of hiclaw over one backend.
  public convenience init(
    store: Store, backend: any WorkerBackend, provisioners: Provisioners = .noOp,
    settings: ReconcileSettings = ReconcileSettings(), concurrency: Int = 4, logger: Logger
  ) {
    let reconcilers: [any Reconciler] = [
      WorkerReconciler(store: store, backend: backend, provisioners: provisioners, settings: settings, logger: logger),
      TeamReconciler(store: store, backend: backend, provisioners: provisioners, settings: settings, logger: logger),
      HumanReconciler(store: store),
      ManagerReconciler(store: store, backend: backend, provisioners: provisioners, settings: settings, logger: logger),
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
