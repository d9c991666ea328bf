import DriverKit

/// The CoPaw agent runtime. Skeleton: only `ping` so far.
enum CoPawRuntime: DriverDefinition {
  static let name = "copaw"
  static let version = "0.1.0"
  static let kind = DriverKind.agentRuntime
  static let protocols = [AgentRuntimeV1.protocolID]
  static let methods = ["ping"]

  static func makeInstance(config: JSONValue, host: Host) throws(DriverError) -> Runtime {
    Runtime()
  }

  struct Runtime: AgentRuntime {}
}

@c public func hc_driver_magic_v1() -> UnsafePointer<hc_driver_magic> {
  DriverExport.magic(CoPawRuntime.self)
}

@c public func hc_driver_init_v1(
  _ args: UnsafePointer<hc_init_args>?,
  _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
  _ err: UnsafeMutablePointer<hc_buf>?
) -> hc_status {
  DriverExport.initialize(CoPawRuntime.self, args, api, err)
}
