import DriverKit

/// The Kubernetes worker backend (one Pod per worker). Skeleton: only `ping` so far.
enum KubernetesDriver: DriverDefinition {
  static let name = "kubernetes"
  static let version = "0.1.0"
  static let kind = DriverKind.workerBackend
  static let protocols = [WorkerBackendV1.protocolID]
  static let methods = ["ping"]

  static func makeInstance(config: JSONValue, host: Host) throws(DriverError) -> Backend {
    Backend()
  }

  struct Backend: WorkerBackend {}
}

@c public func hc_driver_magic_v1() -> UnsafePointer<hc_driver_magic> {
  DriverExport.magic(KubernetesDriver.self)
}

@c public func hc_driver_init_v1(
  _ args: UnsafePointer<hc_init_args>?,
  _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
  _ err: UnsafeMutablePointer<hc_buf>?
) -> hc_status {
  DriverExport.initialize(KubernetesDriver.self, args, api, err)
}
