import DriverABI
import DriverProtocols
import Foundation
import Synchronization

/// The compatibility block of a driver (`hc_driver_magic_v1()`), copied out of the library.
public struct DriverMagicInfo: Sendable, Codable, Equatable {
  public var magic: UInt32
  public var structSize: UInt32
  public var abiMajor: UInt32
  public var abiMinor: UInt32
  public var pointerSize: UInt32
  public var flags: UInt32
  public var toolchain: String
  public var name: String
  public var version: String

  /// True when the driver links the shared Swift runtime (its toolchain must equal the host's).
  public var usesSwiftDynamicRuntime: Bool { flags & UInt32(HC_MAGIC_F_SWIFT_DYNAMIC_RUNTIME) != 0 }
}

/// What the host learned while loading a driver: its magic block, the negotiated ABI minor, its
/// capability flags and its `describe` document.
public struct DriverInfo: Sendable, Codable, Equatable {
  public var magic: DriverMagicInfo
  public var negotiatedMinor: UInt32
  public var capabilities: UInt64
  /// The driver's `hc_driver_api.struct_size`.
  public var vtableSize: UInt32
  /// The raw `describe` JSON.
  public var describeJSON: String
  public var description: DriverDescription

  public var supportsAsync: Bool { capabilities & UInt64(HC_CAP_ASYNC) != 0 }
  public var supportsCancel: Bool { capabilities & UInt64(HC_CAP_CANCEL) != 0 }
}

/// The outcome of one call through the ABI: a status and the JSON the driver returned (its result
/// when `status == HC_OK`, else optional error JSON).
public struct RawOutcome: Sendable, Equatable {
  public var status: Int32
  public var json: String
  public init(status: Int32, json: String) {
    self.status = status
    self.json = json
  }
  public var ok: Bool { status == HC_OK }
}

/// Knobs for loading, mostly for the conformance suite.
public struct NativeLoadOptions: Sendable {
  /// The ABI minor the host offers at init (default: the header's HC_ABI_MINOR).
  public var hostMinor: UInt32 = UInt32(HC_ABI_MINOR)
  /// The name the manifest expects; nil skips the check.
  public var expectedName: String?
  public var hostVersion: String = HiclawVersion.current
  /// Directory private to the driver, passed as `state_dir`.
  public var stateDirectory: String = ""
  public init() {}
}

/// A driver library loaded into this process: dlopen'd `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE`,
/// magic block checked, minor negotiated, vtable validated and described. Never unloaded.
///
/// The call methods are synchronous and may block for as long as the driver does: call them from
/// a ``BlockingPool`` thread, never from an event loop or the cooperative pool. They are safe to
/// call concurrently for different instances (the ABI's promise); the caller serialises calls per
/// resource.
public final class NativeDriver: @unchecked Sendable {
  public let path: String
  public let info: DriverInfo
  public let context: HostContext
  private let vtable: hc_driver_api

  /// Drivers already loaded in this process, by dlopen handle: a library is initialised once.
  private static let loaded = Mutex<[UInt: NativeDriver]>([:])

  /// Loads the library at `path`, with `context` as its host services. Throws a
  /// ``DriverLoadError`` that names the stage and field at fault.
  public static func load(path: String, context: HostContext, options: NativeLoadOptions = NativeLoadOptions())
    throws(DriverLoadError) -> NativeDriver
  {
    guard FileManager.default.fileExists(atPath: path) else {
      throw DriverLoadError(.open, field: "library", "\(path) does not exist", fix: "check the path (or the manifest's library field)")
    }
    guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
      let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
      throw DriverLoadError(.open, field: "library", "dlopen failed: \(reason)",
        fix: "make sure the file is a shared library for this machine and its dependencies are installed (ldd \(path))")
    }
    let key = UInt(bitPattern: handle)
    if let existing = loaded.withLock({ $0[key] }) {
      if let expected = options.expectedName, existing.info.magic.name != expected {
        throw nameMismatch(manifest: expected, driver: existing.info.magic.name)
      }
      // A library is initialised once per process and never unloaded, so it stays bound to the
      // host services it was initialised with.
      guard existing.context.services as AnyObject === context.services as AnyObject else {
        throw DriverLoadError(.initialize, field: "library",
          "\(path) is already loaded in this process by another driver host",
          fix: "load each library through one DriverHost per process, or use isolation process")
      }
      guard !existing.isShutDown else {
        throw DriverLoadError(.initialize, field: "library",
          "\(path) was shut down earlier in this process and drivers cannot be re-initialised",
          fix: "restart the process to reload an in-process driver, or use isolation process")
      }
      return existing
    }
    let magic = try readMagic(handle: handle)
    try validate(magic: magic, expectedName: options.expectedName)
    guard let initSymbol = dlsym(handle, HC_DRIVER_INIT_SYMBOL) else {
      throw missingSymbol(HC_DRIVER_INIT_SYMBOL)
    }
    let initialize = unsafeBitCast(initSymbol, to: hc_driver_init_fn.self)
    let (api, vtable) = try negotiate(initialize: initialize, context: context, magic: magic, options: options)
    let described = try describe(vtable: vtable, context: context, magic: magic)
    let info = DriverInfo(
      magic: magic, negotiatedMinor: api.abi_minor, capabilities: vtable.capabilities, vtableSize: api.struct_size,
      describeJSON: described.json, description: described.description)
    let driver = NativeDriver(path: path, info: info, context: context, vtable: vtable)
    return loaded.withLock { loaded in
      if let raced = loaded[key] { return raced }
      loaded[key] = driver
      return driver
    }
  }

  private init(path: String, info: DriverInfo, context: HostContext, vtable: hc_driver_api) {
    self.path = path
    self.info = info
    self.context = context
    self.vtable = vtable
  }

  // MARK: Loading steps

  static func missingSymbol(_ symbol: String) -> DriverLoadError {
    DriverLoadError(.symbol, field: symbol, "the library does not export \(symbol)",
      fix: "define it with HC_EXPORT (C) or `@c public` (Swift), and check `nm -D --defined-only` lists it")
  }

  static func nameMismatch(manifest: String, driver: String) -> DriverLoadError {
    DriverLoadError(.magic, field: "name", "manifest says \"\(manifest)\" but the driver's magic block says \"\(driver)\"",
      fix: "make the manifest's name equal the driver's name")
  }

  /// Reads the magic block without running any other driver code.
  public static func readMagic(handle: UnsafeMutableRawPointer) throws(DriverLoadError) -> DriverMagicInfo {
    guard let symbol = dlsym(handle, HC_DRIVER_MAGIC_SYMBOL) else { throw missingSymbol(HC_DRIVER_MAGIC_SYMBOL) }
    let magicFunction = unsafeBitCast(symbol, to: hc_driver_magic_fn.self)
    guard let block = magicFunction() else {
      throw DriverLoadError(.magic, field: "hc_driver_magic_v1", "returned NULL", fix: "return a pointer to a static hc_driver_magic")
    }
    // Read the fixed minor-0 prefix; its size is checked below before anything else is trusted.
    let size = block.pointee.struct_size
    let minimum = UInt32(MemoryLayout<hc_driver_magic>.size)
    guard block.pointee.magic == HC_MAGIC else {
      throw DriverLoadError(.magic, field: "magic",
        "found \(hex(block.pointee.magic)), expected \(hex(HC_MAGIC)) (\"HDR1\")",
        fix: "the library is not a hiclaw v1 driver or is corrupt; rebuild it against hiclaw_driver.h")
    }
    guard size >= minimum else {
      throw DriverLoadError(.magic, field: "struct_size", "found \(size), expected at least \(minimum)",
        fix: "set struct_size = sizeof(hc_driver_magic) and rebuild against hiclaw_driver.h")
    }
    let m = block.pointee
    return DriverMagicInfo(
      magic: m.magic, structSize: m.struct_size, abiMajor: m.abi_major, abiMinor: m.abi_minor,
      pointerSize: m.pointer_size, flags: m.flags, toolchain: optionalCString(m.toolchain) ?? "",
      name: optionalCString(m.name) ?? "", version: optionalCString(m.driver_version) ?? "")
  }

  /// Checks the magic block against this host (PostgreSQL style: every mismatch names its field).
  public static func validate(magic: DriverMagicInfo, expectedName: String?) throws(DriverLoadError) {
    guard magic.abiMajor == UInt32(HC_ABI_MAJOR) else {
      throw DriverLoadError(.magic, field: "abi_major",
        "the driver was built for ABI major \(magic.abiMajor); this host supports major \(HC_ABI_MAJOR)",
        fix: magic.abiMajor > UInt32(HC_ABI_MAJOR)
          ? "upgrade hiclaw, or use a driver release built for ABI v\(HC_ABI_MAJOR)"
          : "rebuild the driver against hiclaw_driver.h ABI v\(HC_ABI_MAJOR)")
    }
    let pointerSize = UInt32(MemoryLayout<UnsafeRawPointer>.size)
    guard magic.pointerSize == pointerSize else {
      throw DriverLoadError(.magic, field: "pointer_size",
        "the driver says \(magic.pointerSize)-byte pointers; this host uses \(pointerSize)",
        fix: "build the driver for this machine's architecture")
    }
    guard !magic.name.isEmpty else {
      throw DriverLoadError(.magic, field: "name", "is empty or NULL", fix: "set name to the driver's name, e.g. \"docker\"")
    }
    if let expectedName, magic.name != expectedName {
      throw nameMismatch(manifest: expectedName, driver: magic.name)
    }
    if magic.usesSwiftDynamicRuntime && magic.toolchain != SwiftToolchain.current {
      throw DriverLoadError(.magic, field: "toolchain",
        "the driver links the shared Swift runtime of \(magic.toolchain); this host runs \(SwiftToolchain.current)",
        fix: "rebuild the driver with \(SwiftToolchain.current), or with -static-stdlib (toolchain swift-static-…)")
    }
  }

  static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }

  private static func negotiate(
    initialize: hc_driver_init_fn, context: HostContext, magic: DriverMagicInfo, options: NativeLoadOptions
  ) throws(DriverLoadError) -> (hc_driver_api, hc_driver_api) {
    var api: UnsafePointer<hc_driver_api>?
    var errorBuffer = hc_buf(ptr: nil, len: 0)
    let status: Int32 = options.hostVersion.withHCStr { version in
      options.stateDirectory.withHCStr { stateDir in
        var args = hc_init_args(
          struct_size: UInt32(MemoryLayout<hc_init_args>.size), host_abi_major: UInt32(HC_ABI_MAJOR),
          host_abi_minor: options.hostMinor, flags: 0, host: context.table, host_version: version, state_dir: stateDir)
        return initialize(&args, &api, &errorBuffer)
      }
    }
    let errorText = context.allocator.take(errorBuffer)
    guard status == HC_OK else {
      let detail = errorMessage(fromJSON: errorText) ?? "no error detail"
      throw DriverLoadError(.initialize, field: HC_DRIVER_INIT_SYMBOL,
        "returned \(statusName(status)): \(detail)",
        fix: status == HC_ERR_VERSION_MISMATCH
          ? "the driver needs a newer host ABI minor (host offers \(options.hostMinor)); upgrade hiclaw"
          : "see the driver's message; the driver refused to start")
    }
    guard let api else {
      throw DriverLoadError(.vtable, field: "out_api", "init returned OK but no vtable", fix: "store a pointer to a static hc_driver_api in *out_api")
    }
    // Copy only what lies inside the driver's struct_size; the rest stays zero (absent).
    let header = api.withMemoryRebound(to: UInt32.self, capacity: 2) { $0.pointee }
    var vtable = hc_driver_api()
    let ourSize = MemoryLayout<hc_driver_api>.size
    withUnsafeMutableBytes(of: &vtable) { destination in
      destination.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(api), count: min(Int(header), ourSize)))
    }
    try validate(vtable: vtable, magic: magic, hostMinor: options.hostMinor)
    return (vtable, vtable)
  }

  static func field<T>(_ keyPath: KeyPath<hc_driver_api, T>) -> Int {
    MemoryLayout<hc_driver_api>.offset(of: keyPath)! + MemoryLayout<T>.size
  }

  private static func validate(vtable: hc_driver_api, magic: DriverMagicInfo, hostMinor: UInt32) throws(DriverLoadError) {
    let size = Int(vtable.struct_size)
    let headerSize = field(\.capabilities)
    guard size >= headerSize else {
      throw DriverLoadError(.vtable, field: "hc_driver_api.struct_size", "is \(size), smaller than the \(headerSize)-byte header",
        fix: "set struct_size = sizeof(hc_driver_api)")
    }
    if vtable.abi_minor > hostMinor {
      throw DriverLoadError(.vtable, field: "hc_driver_api.abi_minor",
        "the driver negotiated minor \(vtable.abi_minor) but the host offered \(hostMinor)",
        fix: "set abi_minor = min(args->host_abi_minor, HC_ABI_MINOR)")
    }
    func require(_ name: String, end: Int, present: Bool) throws(DriverLoadError) {
      guard end <= size else {
        throw DriverLoadError(.vtable, field: "hc_driver_api.\(name)",
          "is required but lies outside the vtable (struct_size \(size), needs at least \(end))",
          fix: "set struct_size = sizeof(hc_driver_api) and fill \(name)")
      }
      guard present else {
        throw DriverLoadError(.vtable, field: "hc_driver_api.\(name)", "is required but NULL", fix: "implement \(name)")
      }
    }
    try require("describe", end: field(\.describe), present: vtable.describe != nil)
    try require("create", end: field(\.create), present: vtable.create != nil)
    try require("destroy", end: field(\.destroy), present: vtable.destroy != nil)
    try require("call", end: field(\.call), present: vtable.call != nil)
    if vtable.capabilities & UInt64(HC_CAP_ASYNC) != 0 && vtable.call_async == nil {
      throw DriverLoadError(.vtable, field: "hc_driver_api.call_async", "HC_CAP_ASYNC is set but call_async is NULL",
        fix: "implement call_async or clear HC_CAP_ASYNC")
    }
    if vtable.capabilities & UInt64(HC_CAP_CANCEL) != 0 && vtable.cancel == nil {
      throw DriverLoadError(.vtable, field: "hc_driver_api.cancel", "HC_CAP_CANCEL is set but cancel is NULL",
        fix: "implement cancel or clear HC_CAP_CANCEL")
    }
  }

  private static func describe(vtable: hc_driver_api, context: HostContext, magic: DriverMagicInfo)
    throws(DriverLoadError) -> (json: String, description: DriverDescription)
  {
    var out = hc_buf(ptr: nil, len: 0)
    let status = vtable.describe!(&out)
    let json = context.allocator.take(out)
    guard status == HC_OK else {
      throw DriverLoadError(.describe, field: "describe", "returned \(statusName(status)): \(errorMessage(fromJSON: json) ?? "no detail")",
        fix: "describe must succeed and return the driver's description")
    }
    let description: DriverDescription
    do throws(JSONCheckError) {
      try JSONCheck.validate(json)
      description = try JSONCheck.decode(DriverDescription.self, from: json)
    } catch {
      throw DriverLoadError(.describe, field: "describe", "returned invalid JSON: \(error.message)",
        fix: "return a JSON object like {\"name\":…,\"kind\":\"worker-backend\",\"version\":…,\"protocols\":[…],\"methods\":[…]}")
    }
    guard description.name == magic.name else {
      throw DriverLoadError(.describe, field: "describe.name",
        "is \"\(description.name)\" but the magic block says \"\(magic.name)\"", fix: "use the same name in both")
    }
    let known = KnownProtocols.ids
    guard description.protocols.contains(where: { known.contains($0) }) else {
      throw DriverLoadError(.describe, field: "describe.protocols",
        "none of \(description.protocols) is a protocol this host speaks (\(known.sorted().joined(separator: ", ")))",
        fix: "list the protocol the driver implements, e.g. hiclaw.worker-backend/1")
    }
    return (json, description)
  }

  // MARK: Calls (blocking; see the type's comment)

  /// `create`: returns the driver's instance pointer, or the failure.
  public func create(config: String) -> Result<UnsafeMutableRawPointer, DriverCallError> {
    var instance: UnsafeMutableRawPointer?
    var out = hc_buf(ptr: nil, len: 0)
    let status = config.withHCStr { vtable.create!($0, &instance, &out) }
    let json = context.allocator.take(out)
    let checked = checkStatus(status, operation: "create")
    guard checked == HC_OK else {
      if instance != nil {
        context.violations.record("create returned \(statusName(checked)) but set *out_instance (leaked instance)")
      }
      return .failure(DriverCallError(status: checked, json: json, operation: "create"))
    }
    guard let instance else {
      context.violations.record("create returned OK with a NULL instance")
      return .failure(DriverCallError(.internal, "create returned OK with a NULL instance"))
    }
    return .success(instance)
  }

  public func destroy(_ instance: UnsafeMutableRawPointer) {
    vtable.destroy!(instance)
  }

  /// A blocking call.
  public func call(_ instance: UnsafeMutableRawPointer, method: String, request: String) -> RawOutcome {
    var out = hc_buf(ptr: nil, len: 0)
    let status: Int32
    if context.allocator.poison {
      // Conformance runs: inputs are borrowed for the call only, so overwrite them as soon as it
      // returns; a driver that kept a pointer then reads 0xDD instead of the old request.
      status = Self.withPoisonedAfter(method) { method in
        Self.withPoisonedAfter(request) { request in vtable.call!(instance, method, request, &out) }
      }
    } else {
      status = method.withHCStr { method in
        request.withHCStr { request in vtable.call!(instance, method, request, &out) }
      }
    }
    return RawOutcome(status: checkStatus(status, operation: method), json: context.allocator.take(out))
  }

  /// Passes a private copy of `string` and overwrites it with 0xDD once `body` returns.
  static func withPoisonedAfter<R>(_ string: String, _ body: (hc_str) -> R) -> R {
    let bytes = Array(string.utf8)
    let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
    defer { copy.deallocate() }
    bytes.withUnsafeBytes { raw in
      if let base = raw.baseAddress { UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: raw.count) }
    }
    let result = body(hc_str(ptr: UnsafePointer(copy), len: bytes.count))
    UnsafeMutableRawPointer(copy).initializeMemory(as: UInt8.self, repeating: 0xDD, count: max(bytes.count, 1))
    return result
  }

  /// A blocking call whose output buffer is handed to `body` before it is freed (no String copy).
  public func callRaw<R>(
    _ instance: UnsafeMutableRawPointer, method: hc_str, request: hc_str, _ body: (Int32, hc_buf) -> R
  ) -> R {
    var out = hc_buf(ptr: nil, len: 0)
    let status = vtable.call!(instance, method, request, &out)
    defer { context.allocator.free(out.ptr) }
    return body(status, out)
  }

  /// Starts an async call (requires HC_CAP_ASYNC). On HC_OK, `completion` runs exactly once on a
  /// driver thread, even if the driver calls `done` more than once (extra calls are recorded as
  /// violations). On any other status `completion` is never called.
  public func callAsync(
    _ instance: UnsafeMutableRawPointer, method: String, request: String, requestID: UInt64,
    completion: @escaping @Sendable (RawOutcome) -> Void
  ) -> Int32 {
    guard let callAsync = vtable.call_async else { return HC_ERR_UNIMPLEMENTED }
    AsyncCompletions.register(requestID, context: context, operation: method, completion: completion)
    let status = method.withHCStr { method in
      request.withHCStr { request in
        callAsync(instance, method, request, requestID, asyncDone, UnsafeMutableRawPointer(bitPattern: UInt(requestID)))
      }
    }
    if status != HC_OK {
      if !AsyncCompletions.withdraw(requestID) {
        context.violations.record("call_async('\(method)') returned \(statusName(status)) but also called done")
      }
      return checkStatus(status, operation: method)
    }
    return HC_OK
  }

  public func cancel(_ instance: UnsafeMutableRawPointer, requestID: UInt64) {
    vtable.cancel?(instance, requestID)
  }

  /// Process-level shutdown (after every instance is destroyed). Idempotent.
  public func shutdown() {
    let first = shutdownDone.withLock { done in
      defer { done = true }
      return !done
    }
    if first { vtable.shutdown?() }
  }
  private let shutdownDone = Mutex(false)

  /// True once ``shutdown()`` ran.
  public var isShutDown: Bool { shutdownDone.withLock { $0 } }

  /// Looks up an optional interface.
  public func extensionTable(_ id: String) -> UnsafeRawPointer? {
    guard let getExtension = vtable.get_extension else { return nil }
    return id.withCString { getExtension($0) }
  }

  /// Maps a status outside the documented set to INTERNAL and records the violation.
  func checkStatus(_ status: Int32, operation: String) -> Int32 {
    if status < 0 || status >= HC_STATUS_COUNT {
      context.violations.record("\(operation) returned status \(status), which is not an hc_status (0…\(HC_STATUS_COUNT - 1))")
      return HC_ERR_INTERNAL
    }
    return status
  }
}

/// The `done` callback handed to every `call_async`. Its context is the request id, so a second
/// `done` for the same request finds nothing to resume and is recorded instead of crashing.
private let asyncDone: hc_done_fn = { context, status, result in
  AsyncCompletions.complete(UInt64(UInt(bitPattern: context)), status: status, result: result)
}

/// Pending async calls of every driver in this process, by request id.
enum AsyncCompletions {
  struct Pending {
    var context: HostContext
    var operation: String
    var completion: @Sendable (RawOutcome) -> Void
  }
  struct State {
    var pending: [UInt64: Pending] = [:]
    /// Recently finished requests, to attribute a second `done` to its driver.
    var finished: [UInt64: HostContext] = [:]
    var finishedOrder: [UInt64] = []
  }
  static let state = Mutex(State())
  private static let nextID = Atomic<UInt64>(1)

  /// A request id unique in this process (never 0).
  static func newRequestID() -> UInt64 { nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

  static func register(
    _ id: UInt64, context: HostContext, operation: String, completion: @escaping @Sendable (RawOutcome) -> Void
  ) {
    state.withLock { $0.pending[id] = Pending(context: context, operation: operation, completion: completion) }
  }

  /// Removes a request whose call_async failed; false if done had already been called.
  static func withdraw(_ id: UInt64) -> Bool {
    state.withLock { $0.pending.removeValue(forKey: id) != nil }
  }

  static func complete(_ id: UInt64, status: Int32, result: hc_buf) {
    let (pending, repeatContext): (Pending?, HostContext?) = state.withLock { state in
      if let pending = state.pending.removeValue(forKey: id) {
        state.finished[id] = pending.context
        state.finishedOrder.append(id)
        if state.finishedOrder.count > 4096 {
          for old in state.finishedOrder.prefix(2048) { state.finished.removeValue(forKey: old) }
          state.finishedOrder.removeFirst(2048)
        }
        return (pending, nil)
      }
      return (nil, state.finished[id])
    }
    guard let pending else {
      if let repeatContext {
        repeatContext.violations.record("done was called more than once for request \(id) (it must be called exactly once)")
        repeatContext.allocator.free(result.ptr)
      } else {
        // Unknown request: free the buffer (the header format is shared by every host allocator).
        HostAllocator.orphans.free(result.ptr)
      }
      return
    }
    let json = pending.context.allocator.take(result)
    var checked = status
    if status < 0 || status >= HC_STATUS_COUNT {
      pending.context.violations.record("\(pending.operation) completed with status \(status), which is not an hc_status")
      checked = HC_ERR_INTERNAL
    }
    pending.completion(RawOutcome(status: checked, json: json))
  }
}

extension HostAllocator {
  /// Frees buffers that cannot be attributed to a driver.
  static let orphans = HostAllocator()
}
