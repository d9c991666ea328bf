import DriverKit

/// The NanoClaw agent runtime. Skeleton: only `ping` so far.
enum NanoClawRuntime: DriverDefinition {
  static let name = "nanoclaw"
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
  DriverExport.magic(NanoClawRuntime.self)
}

@c public func hc_driver_init_v1(
  _ args: UnsafePointer<hc_init_args>?,
  _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
  _ err: UnsafeMutablePointer<hc_buf>?
) -> hc_status {
  DriverExport.initialize(NanoClawRuntime.self, args, api, err)
}
