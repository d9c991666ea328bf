import Dispatch
import Synchronization

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The bodies of a driver's two exported entry points.
///
/// A driver library calls these from exactly two `public` `@c` functions (see
/// ``DriverDefinition``); everything else in the library stays local (link with DriverKit's
/// `exports.map`). Each driver library embeds its own copy of DriverKit, so the state these
/// functions keep is per library.
public enum DriverExport {
  /// The body of `hc_driver_magic_v1`: the driver's static compatibility block.
  ///
  /// The block is built on the first call and then never changes or moves (it lives until
  /// process exit): `toolchain` is ``SwiftToolchain/current`` with
  /// `HC_MAGIC_F_SWIFT_DYNAMIC_RUNTIME`, or ``SwiftToolchain/staticTag`` without the flag when
  /// compiled with `-D HICLAW_STATIC_STDLIB` (set it whenever you build with
  /// `-Xswiftc -static-stdlib`). It runs no driver code besides reading `D.name`/`D.version`.
  ///
  /// Threading: [any-thread]. Never fails.
  public static func magic<D: DriverDefinition>(_ definition: D.Type) -> UnsafePointer<
    hc_driver_magic
  > {
    let bits = DriverRuntime.magicBlock.withLock { bits -> UInt in
      if bits == 0 {
        bits = UInt(bitPattern: DriverRuntime.makeMagic(name: D.name, version: D.version))
      }
      return bits
    }
    return UnsafePointer(bitPattern: bits)!
  }

  /// The body of `hc_driver_init_v1`: validates the host's arguments, negotiates the ABI minor,
  /// stores the host table and hands out DriverKit's static vtable.
  ///
  /// - Checks, in order: `args` non-NULL and large enough to hold `host` (else
  ///   `VERSION_MISMATCH`, or `INVALID_ARGUMENT` for NULL); a host table with `alloc` and `free`
  ///   (else `INVALID_ARGUMENT`); `host_abi_major == HC_ABI_MAJOR` (else `VERSION_MISMATCH`);
  ///   `api` non-NULL (else `INVALID_ARGUMENT`). Whenever the host's allocator is usable, a
  ///   failure also writes error JSON into `*err` (owned by the host).
  /// - The host table is copied, but only the bytes inside its `struct_size`; the rest reads as
  ///   NULL, so a function a smaller (older) host lacks is simply absent.
  /// - On success `*api` points at a static vtable with `abi_minor = min(host_abi_minor,
  ///   HC_ABI_MINOR)` and capabilities `HC_CAP_ASYNC | HC_CAP_CANCEL` (plus `HC_CAP_RECOVER`
  ///   for a worker backend whose `D.methods` lists `recover`).
  /// - Calling it again (a conformance suite does) replaces the host table for instances
  ///   created afterwards and re-opens a driver that was shut down.
  ///
  /// Threading: [init-thread].
  public static func initialize<D: DriverDefinition>(
    _ definition: D.Type,
    _ args: UnsafePointer<hc_init_args>?,
    _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
    _ err: UnsafeMutablePointer<hc_buf>?
  ) -> hc_status {
    DriverRuntime.initialize(D.self, args, api, err)
  }
}

/// A registered driver: what `describe`, `create` and the instances need. Immutable; the factory
/// closure only calls the definition's static `makeInstance`, which may run on any thread.
final class Registration: @unchecked Sendable {
  let name: String
  let version: String
  let methods: [String]
  let methodSet: Set<String>
  let describeJSON: Data
  let host: HostServices
  let makeInstance: (JSONValue, HostServices) throws(DriverError) -> any DriverInstance

  init(
    name: String, version: String, methods: [String], describeJSON: Data, host: HostServices,
    makeInstance: @escaping (JSONValue, HostServices) throws(DriverError) -> any DriverInstance
  ) {
    self.name = name
    self.version = version
    self.methods = methods
    self.methodSet = Set(methods)
    self.describeJSON = describeJSON
    self.host = host
    self.makeInstance = makeInstance
  }
}

/// The instance handed to the host as `void *` (retained once; released by `destroy`).
final class InstanceBox: Sendable {
  let instance: any DriverInstance
  let registration: Registration

  init(instance: any DriverInstance, registration: Registration) {
    self.instance = instance
    self.registration = registration
  }

  /// Runs one method, catching everything: the status and the result or error JSON.
  func execute(method: String, request: Data) async -> (hc_status, Data) {
    guard registration.methodSet.contains(method) else {
      return DriverRuntime.failure(DriverError.unimplemented(method))
    }
    if Task.isCancelled {
      return DriverRuntime.failure(.cancelled("the request was cancelled before it started"))
    }
    do {
      let response = try await instance.call(method: method, request: request)
      return (HC_OK, response)
    } catch {
      if Task.isCancelled, error.status != .cancelled {
        return DriverRuntime.failure(
          DriverError(
            .cancelled,
            "the request was cancelled (the driver reported "
              + "\(error.status.name): \(error.message))",
            details: ["cause": .string(error.status.name)]))
      }
      return DriverRuntime.failure(error)
    }
  }
}

/// Per-library state and the C trampolines of the vtable.
enum DriverRuntime {
  /// The magic block's address (0 until built).
  static let magicBlock = Mutex<UInt>(0)
  /// The current registration (nil before init).
  private static let current = Mutex<Registration?>(nil)
  /// Outstanding tasks, for cancel and shutdown.
  private static let tracker = Mutex(TrackerState())

  struct TrackerState {
    var shuttingDown = false
    var nextToken: UInt64 = 1
    var tasks: [UInt64: Task<Void, Never>] = [:]
    /// request_id → (instance address, task token).
    var requests: [UInt64: (owner: UInt, token: UInt64)] = [:]
  }

  static var registration: Registration? { current.withLock { $0 } }

  // MARK: Magic

  static func makeMagic(name: String, version: String) -> UnsafePointer<hc_driver_magic> {
    #if HICLAW_STATIC_STDLIB
      let toolchain = SwiftToolchain.staticTag
      let flags: UInt32 = 0
    #else
      let toolchain = SwiftToolchain.current
      let flags = UInt32(HC_MAGIC_F_SWIFT_DYNAMIC_RUNTIME)
    #endif
    let block = UnsafeMutablePointer<hc_driver_magic>.allocate(capacity: 1)
    block.initialize(
      to: hc_driver_magic(
        magic: HC_MAGIC,
        struct_size: UInt32(MemoryLayout<hc_driver_magic>.size),
        abi_major: UInt32(HC_ABI_MAJOR),
        abi_minor: UInt32(HC_ABI_MINOR),
        pointer_size: UInt32(MemoryLayout<UnsafeRawPointer>.size),
        flags: flags,
        toolchain: UnsafePointer(strdup(toolchain)),
        name: UnsafePointer(strdup(name)),
        driver_version: UnsafePointer(strdup(version))))
    return UnsafePointer(block)
  }

  // MARK: Init

  /// DriverKit's vtable: static storage, valid until process exit.
  nonisolated(unsafe) static let vtable: UnsafeMutablePointer<hc_driver_api> = {
    let table = UnsafeMutablePointer<hc_driver_api>.allocate(capacity: 1)
    table.initialize(
      to: hc_driver_api(
        struct_size: UInt32(MemoryLayout<hc_driver_api>.size),
        abi_minor: UInt32(HC_ABI_MINOR),
        capabilities: 0,
        describe: { out in DriverRuntime.describe(out) },
        create: { config, out, err in DriverRuntime.create(config, out, err) },
        destroy: { instance in DriverRuntime.destroy(instance) },
        call: { instance, method, request, out in
          DriverRuntime.call(instance, method, request, out)
        },
        call_async: { instance, method, request, requestID, done, context in
          DriverRuntime.callAsync(instance, method, request, requestID, done, context)
        },
        cancel: { instance, requestID in DriverRuntime.cancel(instance, requestID) },
        get_extension: { _ in nil },
        shutdown: { DriverRuntime.shutdown() }))
    return table
  }()

  static func initialize<D: DriverDefinition>(
    _ definition: D.Type,
    _ args: UnsafePointer<hc_init_args>?,
    _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
    _ err: UnsafeMutablePointer<hc_buf>?
  ) -> hc_status {
    guard let args else { return HC_ERR_INVALID_ARGUMENT }
    let raw = UnsafeRawPointer(args)
    let argsSize = Int(raw.load(as: UInt32.self))
    func field<T>(_ path: KeyPath<hc_init_args, T>) -> T? {
      guard let offset = MemoryLayout<hc_init_args>.offset(of: path),
        offset + MemoryLayout<T>.size <= argsSize
      else { return nil }
      return raw.load(fromByteOffset: offset, as: T.self)
    }
    guard let hostPointer = field(\.host) else {
      // Too small to even name the host table (so no allocator for error JSON either).
      return HC_ERR_VERSION_MISMATCH
    }
    guard let hostPointer else { return HC_ERR_INVALID_ARGUMENT }

    // Copy the host table, only the bytes the host declared; the rest stays zero (NULL).
    let hostSize = Int(UnsafeRawPointer(hostPointer).load(as: UInt32.self))
    let copy = UnsafeMutableRawPointer.allocate(
      byteCount: MemoryLayout<hc_host_api>.size, alignment: MemoryLayout<hc_host_api>.alignment)
    copy.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<hc_host_api>.size)
    copy.copyMemory(
      from: UnsafeRawPointer(hostPointer), byteCount: min(hostSize, MemoryLayout<hc_host_api>.size))
    let table = UnsafePointer(copy.bindMemory(to: hc_host_api.self, capacity: 1))

    let hostMinor = field(\.host_abi_minor) ?? 0
    let negotiated = min(hostMinor, UInt32(HC_ABI_MINOR))
    let host = HostServices(
      table: table, peerSize: hostSize, driverName: D.name,
      hostVersion: field(\.host_version).map(copyString) ?? "",
      stateDirectory: field(\.state_dir).map(copyString) ?? "",
      abiMinor: negotiated)
    guard host.function(\.alloc) != nil, host.function(\.free) != nil else {
      copy.deallocate()
      return HC_ERR_INVALID_ARGUMENT
    }
    func fail(_ error: DriverError) -> hc_status {
      if let err { err.pointee = host.makeBuffer(failure(error).1) }
      return error.status.rawValue
    }

    let hostMajor = field(\.host_abi_major) ?? 0
    guard hostMajor == UInt32(HC_ABI_MAJOR) else {
      return fail(
        .versionMismatch(
          "driver '\(D.name)' implements ABI major \(HC_ABI_MAJOR); the host offered \(hostMajor)",
          details: ["host_abi_major": .number(Double(hostMajor)), "driver_abi_major": 1]))
    }
    guard let api else {
      return fail(.invalidArgument("hc_driver_init_v1: out_api is NULL"))
    }

    let methods = D.methods
    let description = DriverDescription(
      name: D.name, kind: D.kind, version: D.version, protocols: D.protocols, methods: methods,
      capabilities: D.capabilities)
    let describeJSON: Data
    do {
      describeJSON = try WireJSON.encode(description)
    } catch {
      return fail(.internalError("cannot encode the driver description: \(error)"))
    }
    let registration = Registration(
      name: D.name, version: D.version, methods: methods, describeJSON: describeJSON, host: host,
      makeInstance: {
        (config: JSONValue, host: HostServices) throws(DriverError) -> any DriverInstance in
        try D.makeInstance(config: config, host: host)
      })

    var capabilities = UInt64(HC_CAP_ASYNC) | UInt64(HC_CAP_CANCEL)
    if D.kind == .workerBackend, methods.contains(WorkerBackendV1.Method.recover.rawValue) {
      capabilities |= UInt64(HC_CAP_RECOVER)
    }
    vtable.pointee.abi_minor = negotiated
    vtable.pointee.capabilities = capabilities
    current.withLock { $0 = registration }
    tracker.withLock { $0.shuttingDown = false }
    api.pointee = UnsafePointer(vtable)
    return HC_OK
  }

  // MARK: Results

  /// The status and error JSON of `error`.
  static func failure(_ error: DriverError) -> (hc_status, Data) {
    let json =
      (try? WireJSON.encode(error.body))
      ?? Data(
        #"{"code":"INTERNAL","message":"cannot encode an error","retryable":false,"details":{}}"#
          .utf8)
    return (error.status.rawValue, json)
  }

  private static func write(
    _ result: (hc_status, Data), to out: UnsafeMutablePointer<hc_buf>?, host: HostServices
  ) -> hc_status {
    out?.pointee = host.makeBuffer(result.1)
    return result.0
  }

  // MARK: Trampolines

  static func describe(_ out: UnsafeMutablePointer<hc_buf>?) -> hc_status {
    guard let out else { return HC_ERR_INVALID_ARGUMENT }
    out.pointee = hc_buf(ptr: nil, len: 0)
    guard let registration else { return HC_ERR_FAILED_PRECONDITION }
    out.pointee = registration.host.makeBuffer(registration.describeJSON)
    return HC_OK
  }

  static func create(
    _ config: hc_str, _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    _ err: UnsafeMutablePointer<hc_buf>?
  ) -> hc_status {
    guard let registration else { return HC_ERR_FAILED_PRECONDITION }
    let host = registration.host
    guard let out else {
      return write(failure(.invalidArgument("create: out_instance is NULL")), to: err, host: host)
    }
    out.pointee = nil
    if tracker.withLock({ $0.shuttingDown }) {
      return write(failure(.unavailable("the driver is shut down")), to: err, host: host)
    }
    let text = copyData(config)
    let value: JSONValue
    if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
      value = .object([:])
    } else {
      do {
        value = try JSONValue(jsonData: text)
      } catch {
        return write(
          failure(.invalidArgument("invalid driver config: \(WireJSON.describe(error))")),
          to: err, host: host)
      }
    }
    guard case .object = value else {
      return write(
        failure(.invalidArgument("the config must be a JSON object, not \(value.typeName)")),
        to: err, host: host)
    }
    do {
      let instance = try registration.makeInstance(value, host)
      let box = InstanceBox(instance: instance, registration: registration)
      out.pointee = Unmanaged.passRetained(box).toOpaque()
      return HC_OK
    } catch {
      return write(failure(error), to: err, host: host)
    }
  }

  static func destroy(_ instance: UnsafeMutableRawPointer?) {
    guard let instance else { return }
    let box = Unmanaged<InstanceBox>.fromOpaque(instance).takeRetainedValue()
    box.instance.close()
  }

  static func call(
    _ instance: UnsafeMutableRawPointer?, _ method: hc_str, _ request: hc_str,
    _ out: UnsafeMutablePointer<hc_buf>?
  ) -> hc_status {
    out?.pointee = hc_buf(ptr: nil, len: 0)
    guard let instance else { return HC_ERR_INVALID_ARGUMENT }
    let box = Unmanaged<InstanceBox>.fromOpaque(instance).takeUnretainedValue()
    let host = box.registration.host
    let method = copyString(method)
    guard box.registration.methodSet.contains(method) else {
      return write(failure(.unimplemented(method)), to: out, host: host)
    }
    let request = copyData(request)
    let slot = CallSlot()
    let started = start(requestID: nil, owner: UInt(bitPattern: instance)) {
      slot.result = await box.execute(method: method, request: request)
      slot.semaphore.signal()
    }
    guard started else {
      return write(failure(.unavailable("the driver is shut down")), to: out, host: host)
    }
    slot.semaphore.wait()
    return write(slot.result, to: out, host: host)
  }

  static func callAsync(
    _ instance: UnsafeMutableRawPointer?, _ method: hc_str, _ request: hc_str,
    _ requestID: UInt64, _ done: hc_done_fn?, _ context: UnsafeMutableRawPointer?
  ) -> hc_status {
    guard let instance, let done else { return HC_ERR_INVALID_ARGUMENT }
    let box = Unmanaged<InstanceBox>.fromOpaque(instance).takeUnretainedValue()
    let method = copyString(method)
    let request = copyData(request)
    let completion = Completion(done: done, context: context)
    let started = start(requestID: requestID, owner: UInt(bitPattern: instance)) {
      let (status, payload) = await box.execute(method: method, request: request)
      completion.done(completion.context, status, box.registration.host.makeBuffer(payload))
    }
    return started ? HC_OK : HC_ERR_UNAVAILABLE
  }

  static func cancel(_ instance: UnsafeMutableRawPointer?, _ requestID: UInt64) {
    guard let instance else { return }
    let owner = UInt(bitPattern: instance)
    let task = tracker.withLock { state -> Task<Void, Never>? in
      guard let entry = state.requests[requestID], entry.owner == owner else { return nil }
      return state.tasks[entry.token]
    }
    task?.cancel()
  }

  /// Stops accepting work, cancels every outstanding task and waits for all of them, so that no
  /// DriverKit-started task runs after it returns.
  static func shutdown() {
    let tasks = tracker.withLock { state -> [Task<Void, Never>] in
      state.shuttingDown = true
      return Array(state.tasks.values)
    }
    guard !tasks.isEmpty else { return }
    for task in tasks { task.cancel() }
    let finished = DispatchSemaphoreBox()
    Task.detached {
      for task in tasks { await task.value }
      finished.semaphore.signal()
    }
    finished.semaphore.wait()
  }

  // MARK: Task tracking

  /// Starts `body` in a detached task tracked for cancel and shutdown; false after shutdown.
  private static func start(
    requestID: UInt64?, owner: UInt, _ body: @escaping @Sendable () async -> Void
  ) -> Bool {
    tracker.withLock { state in
      guard !state.shuttingDown else { return false }
      let token = state.nextToken
      state.nextToken += 1
      // Created under the lock, so the task's own `finish` cannot run before it is recorded.
      state.tasks[token] = Task.detached {
        await body()
        DriverRuntime.finish(token: token, requestID: requestID)
      }
      if let requestID { state.requests[requestID] = (owner, token) }
      return true
    }
  }

  private static func finish(token: UInt64, requestID: UInt64?) {
    tracker.withLock { state in
      state.tasks[token] = nil
      if let requestID, state.requests[requestID]?.token == token {
        state.requests[requestID] = nil
      }
    }
  }
}

/// The result slot of a blocking `call`; written by the task before it signals.
private final class CallSlot: @unchecked Sendable {
  var result: (hc_status, Data) = (HC_ERR_INTERNAL, Data())
  let semaphore = DispatchSemaphore(value: 0)
}

private final class DispatchSemaphoreBox: @unchecked Sendable {
  let semaphore = DispatchSemaphore(value: 0)
}

/// The host's completion callback and context (a C function pointer and an opaque pointer).
private struct Completion: @unchecked Sendable {
  let done: hc_done_fn
  let context: UnsafeMutableRawPointer?
}
