import DriverABI
import Glibc

/// What a driver may ask of the host, behind the `hc_host_api` table. In the host process this is
/// ``LocalHostServices``; inside `hiclaw-driver-runner` it forwards each request to the host over
/// the runner socket, so a driver cannot tell the two isolation modes apart.
///
/// Every method may be called from any thread, including threads the driver started. Statuses are
/// raw `hc_status` values.
public protocol HostServiceBackend: Sendable {
  func logEnabled(driver: String, level: Int32) -> Bool
  func log(driver: String, level: Int32, target: String, message: String, fieldsJSON: String)
  func emitEvent(driver: String, subject: String, eventJSON: String)
  func statePut(driver: String, key: String, value: String) -> Int32
  /// `(HC_OK, value)`, or `(HC_ERR_NOT_FOUND, nil)`.
  func stateGet(driver: String, key: String) -> (status: Int32, value: String?)
  /// `(HC_OK, bytes)`, `(HC_ERR_NOT_FOUND, nil)` or `(HC_ERR_PERMISSION_DENIED, nil)`.
  func secretGet(driver: String, ref: String) -> (status: Int32, value: [UInt8]?)
  /// Blocking HTTP. Returns the status and the response (or error) JSON.
  func http(driver: String, requestJSON: String) -> (status: Int32, json: String)
  /// Non-blocking HTTP: returns HC_OK and later calls `completion` exactly once, or returns an
  /// error status and never calls it.
  func httpAsync(
    driver: String, requestJSON: String, completion: @escaping @Sendable (Int32, String) -> Void
  ) -> Int32
}

/// The host side of one loaded driver: its allocator, its violation log and the `hc_host_api`
/// table handed to it at init.
///
/// Contexts live until process exit, like the drivers they serve (drivers are never unloaded and
/// may keep the table pointer), so the table and the context are deliberately never freed.
public final class HostContext: Sendable {
  public let driverName: String
  public let allocator: HostAllocator
  public let violations: ViolationLog
  let services: any HostServiceBackend
  private let tableAddress: UInt

  /// Builds the table for a driver named `driverName` (used to tag logs, events and state).
  public init(driverName: String, services: any HostServiceBackend, poisonFreedMemory: Bool = false) {
    self.driverName = driverName
    let violations = ViolationLog()
    self.violations = violations
    self.allocator = HostAllocator(poison: poisonFreedMemory, violations: violations)
    self.services = services
    let table = UnsafeMutablePointer<hc_host_api>.allocate(capacity: 1)
    self.tableAddress = UInt(bitPattern: table)
    let context = Unmanaged.passRetained(self).toOpaque()  // released never: see type comment
    table.initialize(to: Self.makeTable(context: context))
  }

  /// The table to pass in `hc_init_args.host`. Valid until process exit.
  public var table: UnsafePointer<hc_host_api> {
    UnsafePointer(bitPattern: tableAddress)!
  }

  static func from(_ raw: UnsafeMutableRawPointer?) -> HostContext {
    Unmanaged<HostContext>.fromOpaque(raw!).takeUnretainedValue()
  }

  private static func makeTable(context: UnsafeMutableRawPointer) -> hc_host_api {
    hc_host_api(
      struct_size: UInt32(MemoryLayout<hc_host_api>.size),
      abi_minor: UInt32(HC_ABI_MINOR),
      host_ctx: context,
      alloc: { ctx, size in HostContext.from(ctx).allocator.allocate(size) },
      free: { ctx, pointer in HostContext.from(ctx).allocator.free(pointer) },
      log_enabled: { ctx, level in
        let context = HostContext.from(ctx)
        return context.services.logEnabled(driver: context.driverName, level: level) ? 1 : 0
      },
      log: { ctx, level, target, message, fields in
        let context = HostContext.from(ctx)
        context.services.log(
          driver: context.driverName, level: level, target: target.string, message: message.string,
          fieldsJSON: fields.string)
      },
      emit_event: { ctx, subject, event in
        let context = HostContext.from(ctx)
        context.services.emitEvent(driver: context.driverName, subject: subject.string, eventJSON: event.string)
      },
      state_put: { ctx, key, value in
        let context = HostContext.from(ctx)
        return context.services.statePut(driver: context.driverName, key: key.string, value: value.string)
      },
      state_get: { ctx, key, out in
        let context = HostContext.from(ctx)
        guard let out else { return HC_ERR_INVALID_ARGUMENT }
        out.pointee = hc_buf(ptr: nil, len: 0)
        let (status, value) = context.services.stateGet(driver: context.driverName, key: key.string)
        if status == HC_OK, let value { out.pointee = context.allocator.buffer(value) }
        return status
      },
      secret_get: { ctx, ref, out in
        let context = HostContext.from(ctx)
        guard let out else { return HC_ERR_INVALID_ARGUMENT }
        out.pointee = hc_buf(ptr: nil, len: 0)
        var (status, value) = context.services.secretGet(driver: context.driverName, ref: ref.string)
        if status == HC_OK, value != nil {
          out.pointee = value!.withUnsafeBytes { context.allocator.buffer(copying: $0) }
          value!.withUnsafeMutableBytes { bytes in _ = memset(bytes.baseAddress!, 0, bytes.count) }
        }
        return status
      },
      http_request: { ctx, request, out in
        let context = HostContext.from(ctx)
        guard let out else { return HC_ERR_INVALID_ARGUMENT }
        let (status, json) = context.services.http(driver: context.driverName, requestJSON: request.string)
        out.pointee = context.allocator.buffer(json)
        return status
      },
      http_request_async: { ctx, request, done, doneContext in
        let context = HostContext.from(ctx)
        guard let done else { return HC_ERR_INVALID_ARGUMENT }
        let doneContextBits = UInt(bitPattern: doneContext)
        return context.services.httpAsync(driver: context.driverName, requestJSON: request.string) {
          status, json in
          done(UnsafeMutableRawPointer(bitPattern: doneContextBits), status, context.allocator.buffer(json))
        }
      },
      monotonic_ns: { _ in monotonicNanoseconds() }
    )
  }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
