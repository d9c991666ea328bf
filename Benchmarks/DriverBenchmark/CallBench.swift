// Sections 2 and 3: calls into an in-process driver.
//
//   2. A trivial vtable entry (`cancel` with an unknown id) called through the ABI function
//      pointer, against the same work done by a direct `@inline(never)` Swift call.
//   3. A 1 KiB-JSON-in / 256 B-JSON-out call (`echo256` of Benchmarks/Drivers/bench.c) through
//      the raw vtable (the floor), NativeDriver.callRaw (no String copies), NativeDriver.call
//      (String in/out), and, for context, the Driver façade's async `call` and `callBlocking`.
import Dispatch
import DriverABI
import DriverHost
import Foundation
import Glibc

/// The Swift peer of `bench_cancel`: the same single store, reached by a direct call.
nonisolated(unsafe) var directCancelSink: UInt64 = 0

@inline(never)
func directCancel(_ instance: UnsafeMutableRawPointer?, _ requestID: UInt64) {
  directCancelSink = requestID
}

typealias CancelFunction = @convention(c) (UnsafeMutableRawPointer?, UInt64) -> Void
typealias ExtensionFunction = @convention(c) (UnsafePointer<CChar>?) -> UnsafeRawPointer?
typealias CallFunction = @convention(c) (UnsafeMutableRawPointer?, hc_str, hc_str, UnsafeMutablePointer<hc_buf>?) -> hc_status

/// A driver loaded in this process, with one instance and its raw vtable.
struct InProcessSetup {
  var native: NativeDriver
  var instance: UnsafeMutableRawPointer
  /// The driver's own static vtable, obtained by calling its (idempotent) init a second time with
  /// the same host table; NativeDriver keeps a private copy of it.
  var rawAPI: UnsafePointer<hc_driver_api>

  /// Loads `path` with the host services of `host`, so that the same library can later be
  /// reached through `host.load(…, isolation: .inProcess)` too (a library is initialised once per
  /// process, bound to the services it was initialised with).
  static func load(path: String, host: DriverHost) -> InProcessSetup {
    let context = HostContext(driverName: "bench", services: host.services)
    let native: NativeDriver
    do {
      native = try NativeDriver.load(path: path, context: context)
    } catch {
      fail("cannot load \(path): \(error)")
    }
    guard case .success(let instance) = native.create(config: "{}") else { fail("bench create failed") }
    let api = reinitialize(path: path, host: native.context.table)
    guard api.pointee.cancel != nil, api.pointee.get_extension != nil else { fail("bench driver without cancel") }
    return InProcessSetup(native: native, instance: instance, rawAPI: api)
  }

  /// Calls the bench driver's init again with `host` as its host table (bench.c's init only
  /// records the table and returns its static vtable). Error output is not expected.
  static func reinitialize(path: String, host: UnsafePointer<hc_host_api>) -> UnsafePointer<hc_driver_api> {
    guard let handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD),
      let symbol = dlsym(handle, HC_DRIVER_INIT_SYMBOL)
    else { fail("cannot find \(HC_DRIVER_INIT_SYMBOL) again") }
    let initialize = unsafeBitCast(symbol, to: hc_driver_init_fn.self)
    var api: UnsafePointer<hc_driver_api>?
    var errorBuffer = hc_buf(ptr: nil, len: 0)
    let status = withHCStr(HiclawVersion.current) { version in
      withHCStr("") { stateDirectory in
        var args = hc_init_args(
          struct_size: UInt32(MemoryLayout<hc_init_args>.size), host_abi_major: UInt32(HC_ABI_MAJOR),
          host_abi_minor: UInt32(HC_ABI_MINOR), flags: 0, host: host, host_version: version,
          state_dir: stateDirectory)
        return initialize(&args, &api, &errorBuffer)
      }
    }
    guard status == HC_OK, let api, errorBuffer.ptr == nil else { fail("the bench driver's second init failed (\(status))") }
    return api
  }

  /// A host table whose alloc/free are plain malloc/free (no header, no counters, no context
  /// lookup): with it, a raw vtable call costs the driver's own work and nothing of the host.
  nonisolated(unsafe) static let mallocHostTable: UnsafePointer<hc_host_api> = {
    let table = UnsafeMutablePointer<hc_host_api>.allocate(capacity: 1)
    table.initialize(to: hc_host_api(
      struct_size: UInt32(MemoryLayout<hc_host_api>.size), abi_minor: UInt32(HC_ABI_MINOR), host_ctx: nil,
      alloc: { _, size in size == 0 ? nil : malloc(size) }, free: { _, pointer in Glibc.free(pointer) },
      log_enabled: nil, log: nil, emit_event: nil, state_put: nil, state_get: nil, secret_get: nil,
      http_request: nil, http_request_async: nil, monotonic_ns: nil))
    return UnsafePointer(table)
  }()
}

enum CallBench {
  static let ratioTarget = 2.0
  static let jsonCallTargetNs = 1_000.0

  // MARK: Section 2 — trivial call

  @inline(never)
  static func loopDirect(_ instance: UnsafeMutableRawPointer?, _ count: Int) -> UInt64 {
    let start = nowNanoseconds()
    for index in 0..<count { directCancel(instance, UInt64(truncatingIfNeeded: index)) }
    return nowNanoseconds() - start
  }

  @inline(never)
  static func loopFunctionPointer(_ cancel: CancelFunction, _ instance: UnsafeMutableRawPointer?, _ count: Int) -> UInt64 {
    let start = nowNanoseconds()
    for index in 0..<count { cancel(instance, UInt64(truncatingIfNeeded: index)) }
    return nowNanoseconds() - start
  }

  @inline(never)
  static func loopGetExtension(_ getExtension: ExtensionFunction, _ count: Int) -> UInt64 {
    var accumulator: UInt = 0
    let start = nowNanoseconds()
    for _ in 0..<count { accumulator &+= UInt(bitPattern: getExtension(nil)) }
    let elapsed = nowNanoseconds() - start
    consume(UInt64(accumulator))
    return elapsed
  }

  @inline(never)
  static func loopWrapper(_ native: NativeDriver, _ instance: UnsafeMutableRawPointer, _ count: Int) -> UInt64 {
    let start = nowNanoseconds()
    for index in 0..<count { native.cancel(instance, requestID: UInt64(truncatingIfNeeded: index)) }
    return nowNanoseconds() - start
  }

  static func trivial(_ setup: InProcessSetup, reps: Int, calls: Int, report: Report) {
    let cancel = setup.rawAPI.pointee.cancel!
    let getExtension = setup.rawAPI.pointee.get_extension!
    var direct: [Double] = [], pointer: [Double] = [], extensionCalls: [Double] = [], wrapper: [Double] = []
    // Warm-up, then interleaved repetitions.
    _ = loopDirect(setup.instance, calls / 10)
    _ = loopFunctionPointer(cancel, setup.instance, calls / 10)
    for _ in 0..<reps {
      direct.append(Double(loopDirect(setup.instance, calls)) / Double(calls))
      pointer.append(Double(loopFunctionPointer(cancel, setup.instance, calls)) / Double(calls))
      extensionCalls.append(Double(loopGetExtension(getExtension, calls)) / Double(calls))
      wrapper.append(Double(loopWrapper(setup.native, setup.instance, calls)) / Double(calls))
    }
    consume(directCancelSink)

    let directS = Summary(direct)
    report.heading("2. Trivial call: ABI function pointer vs direct Swift call (ns/call, median of \(reps) reps × \(calls) calls)")
    var rows: [[String]] = []
    func add(_ name: String, _ label: String, _ values: [Double], target: Bool, note: String) {
      let summary = Summary(values)
      var record = Record(section: "trivial_call", name: name, driver: "bench")
      record.set(summary)
      record.callsPerRep = calls
      record.note = note
      let ratio = summary.median / directS.median
      if name != "direct_swift" {
        record.ratio = ratio
        record.ratioTo = "direct_swift"
      }
      if target {
        record.targetRatio = ratioTarget
        record.pass = ratio <= ratioTarget
      }
      report.add(record)
      rows.append([
        label, String(format: "%.2f", summary.median), String(format: "%.2f", summary.min),
        String(format: "%.2f", summary.max), name == "direct_swift" ? "1.00x (peer)" : formatRatio(ratio),
        target ? "≤ 2.0x " + verdict(ratio <= ratioTarget) : "",
      ])
    }
    add("direct_swift", "direct @inline(never) Swift call (peer)", direct, target: false,
      note: "stores the id in a global, like bench_cancel")
    add("abi_fnptr_cancel", "ABI fn-ptr: vtable->cancel(instance, id)", pointer, target: true,
      note: "raw vtable pointer, called in a tight loop")
    add("abi_fnptr_get_extension", "ABI fn-ptr: vtable->get_extension(NULL)", extensionCalls, target: false,
      note: "returns NULL; result accumulated into a blackhole")
    add("native_driver_cancel", "NativeDriver.cancel (host wrapper)", wrapper, target: false,
      note: "through NativeDriver's private vtable copy")
    report.table(["case", "median ns", "min ns", "max ns", "ratio", "target"], rows)
  }

  // MARK: Section 3 — JSON call

  /// A JSON object of exactly 1024 bytes.
  static func request1KiB() -> String {
    let head = #"{"name":"bench-worker-0001","image":"ghcr.io/hiclaw/worker:1.0.0","labels":{"team":"alpha","tier":"bench"},"env":{"MODE":"echo","SIZE":"256"},"pad":""#
    let tail = #""}"#
    let json = head + String(repeating: "x", count: 1024 - head.utf8.count - tail.utf8.count) + tail
    precondition(json.utf8.count == 1024)
    return json
  }

  /// Bytes that stay put for the whole run, borrowed as hc_str by the raw loops.
  final class PinnedString: @unchecked Sendable {
    let bytes: UnsafeMutableBufferPointer<CChar>
    init(_ string: String) {
      let utf8 = Array(string.utf8)
      bytes = .allocate(capacity: utf8.count)
      for (index, byte) in utf8.enumerated() { bytes[index] = CChar(bitPattern: byte) }
    }
    var hcStr: hc_str { hc_str(ptr: UnsafePointer(bytes.baseAddress), len: bytes.count) }
  }

  @inline(never)
  static func loopRawVtable(
    _ call: CallFunction, _ table: UnsafePointer<hc_host_api>, _ instance: UnsafeMutableRawPointer,
    _ method: hc_str, _ request: hc_str, _ count: Int
  ) -> UInt64 {
    let free = table.pointee.free!
    let context = table.pointee.host_ctx
    var accumulator: UInt64 = 0
    let start = nowNanoseconds()
    for _ in 0..<count {
      var out = hc_buf(ptr: nil, len: 0)
      let status = call(instance, method, request, &out)
      accumulator &+= UInt64(bitPattern: Int64(status)) &+ UInt64(out.len) &+ UInt64(UInt8(bitPattern: out.ptr![0]))
      free(context, out.ptr)
    }
    let elapsed = nowNanoseconds() - start
    consume(accumulator)
    return elapsed
  }

  @inline(never)
  static func loopCallRaw(
    _ native: NativeDriver, _ instance: UnsafeMutableRawPointer, _ method: hc_str, _ request: hc_str, _ count: Int
  ) -> UInt64 {
    var accumulator: UInt64 = 0
    let start = nowNanoseconds()
    for _ in 0..<count {
      accumulator &+= native.callRaw(instance, method: method, request: request) { status, out in
        UInt64(bitPattern: Int64(status)) &+ UInt64(out.len) &+ UInt64(UInt8(bitPattern: out.ptr![0]))
      }
    }
    let elapsed = nowNanoseconds() - start
    consume(accumulator)
    return elapsed
  }

  @inline(never)
  static func loopCall(
    _ native: NativeDriver, _ instance: UnsafeMutableRawPointer, _ method: String, _ request: String, _ count: Int
  ) -> UInt64 {
    var accumulator: UInt64 = 0
    let start = nowNanoseconds()
    for _ in 0..<count {
      let outcome = native.call(instance, method: method, request: request)
      accumulator &+= UInt64(bitPattern: Int64(outcome.status)) &+ UInt64(outcome.json.utf8.count)
    }
    let elapsed = nowNanoseconds() - start
    consume(accumulator)
    return elapsed
  }

  /// Per-call latencies (each call timed on its own; includes ~2 clock reads of overhead).
  @inline(never)
  static func timedCalls(_ count: Int, _ body: () -> UInt64) -> [UInt64] {
    var latencies = [UInt64]()
    latencies.reserveCapacity(count)
    var accumulator: UInt64 = 0
    for _ in 0..<count {
      let start = nowNanoseconds()
      accumulator &+= body()
      latencies.append(nowNanoseconds() - start)
    }
    consume(accumulator)
    return latencies
  }

  static func json(
    _ setup: InProcessSetup, host: DriverHost, libraryPath: String, reps: Int, calls: Int, timed: Int,
    report: Report
  ) {
    let requestString = request1KiB()
    let method = PinnedString("echo256")
    let request = PinnedString(requestString)
    let call = setup.rawAPI.pointee.call!
    let table = setup.native.context.table

    // Check the driver does what the benchmark claims before timing it.
    let check = setup.native.call(setup.instance, method: "echo256", request: requestString)
    guard check.ok, check.json.utf8.count == 256, check.json.hasPrefix(#"{"ok":true,"bytes":    1024,"#),
      (try? JSONSerialization.jsonObject(with: Data(check.json.utf8))) != nil
    else { fail("echo256 returned \(check.status): \(check.json)") }

    // The driver's own work: raw vtable with a malloc/free host table (re-init, loop, re-init back).
    _ = InProcessSetup.reinitialize(path: setup.native.path, host: InProcessSetup.mallocHostTable)
    var work: [Double] = []
    _ = loopRawVtable(call, InProcessSetup.mallocHostTable, setup.instance, method.hcStr, request.hcStr, calls / 10)
    for _ in 0..<reps {
      work.append(Double(loopRawVtable(call, InProcessSetup.mallocHostTable, setup.instance, method.hcStr, request.hcStr, calls)) / Double(calls))
    }
    _ = InProcessSetup.reinitialize(path: setup.native.path, host: table)

    var floor: [Double] = [], raw: [Double] = [], strings: [Double] = []
    _ = loopRawVtable(call, table, setup.instance, method.hcStr, request.hcStr, calls / 10)
    _ = loopCallRaw(setup.native, setup.instance, method.hcStr, request.hcStr, calls / 10)
    _ = loopCall(setup.native, setup.instance, "echo256", requestString, calls / 10)
    for _ in 0..<reps {
      floor.append(Double(loopRawVtable(call, table, setup.instance, method.hcStr, request.hcStr, calls)) / Double(calls))
      raw.append(Double(loopCallRaw(setup.native, setup.instance, method.hcStr, request.hcStr, calls)) / Double(calls))
      strings.append(Double(loopCall(setup.native, setup.instance, "echo256", requestString, calls)) / Double(calls))
    }
    let rawTimed = timedCalls(timed) {
      setup.native.callRaw(setup.instance, method: method.hcStr, request: request.hcStr) { status, out in
        UInt64(bitPattern: Int64(status)) &+ UInt64(out.len)
      }
    }
    let stringTimed = timedCalls(timed) {
      let outcome = setup.native.call(setup.instance, method: "echo256", request: requestString)
      return UInt64(outcome.json.utf8.count)
    }

    // Floors of the façade's thread hop: a bare condvar round trip to a worker thread, and the
    // host's own BlockingPool running native.call with a condvar wait (what InProcessTransport
    // does, without its bookkeeping).
    let handOff: [UInt64] = {
      let requests = CondSemaphore(), replies = CondSemaphore()
      startThread {
        while true {
          requests.wait()
          replies.post()
        }
      }
      for _ in 0..<(timed / 10) {
        requests.post()
        replies.wait()
      }
      return timedCalls(timed) {
        requests.post()
        replies.wait()
        return 1
      }
    }()
    let (poolHop, poolHopTimer): ([UInt64], [UInt64]) = {
      let replies = CondSemaphore()
      let native = setup.native
      let instanceBits = UInt(bitPattern: setup.instance)
      let job: @Sendable () -> Void = {
        let outcome = native.callRaw(
          UnsafeMutableRawPointer(bitPattern: instanceBits)!, method: method.hcStr, request: request.hcStr
        ) { status, out in Int(status) + out.len }
        if outcome != 256 { fail("echo256 via BlockingPool failed") }
        replies.post()
      }
      for _ in 0..<(timed / 10) {
        host.pool.submit(job)
        replies.wait()
      }
      let plain = timedCalls(timed) {
        host.pool.submit(job)
        replies.wait()
        return 1
      }
      // The same plus the 60 s deadline timer the façade arms for every call (never fires here).
      let timer = timedCalls(timed) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(60)) {}
        host.pool.submit(job)
        replies.wait()
        return 1
      }
      return (plain, timer)
    }()

    // The Driver façade in process (BlockingPool hop + continuation resume + a deadline timer).
    let facade: (async: [UInt64], blocking: [UInt64])
    do {
      let driver = try blockingAwait { try await host.load(library: libraryPath, isolation: .inProcess) }
      let instance = try blockingAwait { try await driver.makeInstance() }
      for _ in 0..<(timed / 10) { _ = instance.callBlocking("echo256", requestString) }
      let asyncLatencies = try blockingAwait { () async throws -> [UInt64] in
        var latencies = [UInt64]()
        latencies.reserveCapacity(timed)
        var accumulator = 0
        for _ in 0..<timed {
          let start = nowNanoseconds()
          let result = try await instance.call("echo256", requestString)
          latencies.append(nowNanoseconds() - start)
          accumulator &+= result.utf8.count
        }
        consume(UInt64(accumulator))
        return latencies
      }
      var failures = 0
      let blockingLatencies = timedCalls(timed) {
        let outcome = instance.callBlocking("echo256", requestString)
        if !outcome.ok { failures += 1 }
        return UInt64(outcome.json.utf8.count)
      }
      if failures > 0 { fail("\(failures) in-process callBlocking calls failed") }
      try blockingAwait { await instance.destroy() }
      facade = (asyncLatencies, blockingLatencies)
    } catch {
      fail("in-process Driver façade: \(error)")
    }

    report.heading("3. 1 KiB JSON in / 256 B JSON out, in process, single-threaded (target ≤ 1 µs per call)")
    var rows: [[String]] = []
    let floorMedian = Summary(floor).median
    func loopRow(_ name: String, _ label: String, _ values: [Double], target: Bool, note: String) {
      let summary = Summary(values)
      var record = Record(section: "json_call", name: name, driver: "bench")
      record.set(summary)
      record.callsPerRep = calls
      record.ratio = summary.median / floorMedian
      record.ratioTo = "raw_vtable_call"
      record.note = note
      if target {
        record.targetNs = jsonCallTargetNs
        record.pass = summary.median <= jsonCallTargetNs
      }
      report.add(record)
      rows.append([
        label, "loop mean, median of \(reps)", formatTime(summary.median), "-", formatTime(summary.min),
        formatRatio(summary.median / floorMedian), target ? "≤ 1 µs " + verdict(summary.median <= jsonCallTargetNs) : "",
      ])
    }
    func timedRow(_ name: String, _ label: String, _ values: [UInt64], target: Bool, note: String) {
      let summary = Summary(values)
      var record = Record(section: "json_call", name: name, driver: "bench")
      record.set(summary)
      record.ratio = summary.median / floorMedian
      record.ratioTo = "raw_vtable_call"
      record.note = note
      if target {
        record.targetNs = jsonCallTargetNs
        record.pass = summary.median <= jsonCallTargetNs
      }
      report.add(record)
      rows.append([
        label, "\(values.count) timed calls", formatTime(summary.median), formatTime(summary.p99),
        formatTime(summary.min), formatRatio(summary.median / floorMedian),
        target ? "≤ 1 µs " + verdict(summary.median <= jsonCallTargetNs) : "",
      ])
    }
    loopRow("driver_work_malloc_table", "driver work: raw vtable->call, malloc/free host table", work, target: false,
      note: "the driver's own work: its static vtable, a host table whose alloc/free are bare malloc/free")
    loopRow("raw_vtable_call", "raw vtable->call + host alloc/free (floor)", floor, target: false,
      note: "the driver's call through its static vtable with the host's HostAllocator, output freed through hc_host_api.free")
    loopRow("native_call_raw", "NativeDriver.callRaw (no String copies)", raw, target: true,
      note: "hc_str in, hc_buf handed to a closure, then freed")
    loopRow("native_call", "NativeDriver.call (String in/out)", strings, target: true,
      note: "Strings borrowed in, result copied into a String")
    timedRow("native_call_raw_timed", "NativeDriver.callRaw, per call", rawTimed, target: false,
      note: "each call timed alone (includes two clock reads, ~40 ns)")
    timedRow("native_call_timed", "NativeDriver.call, per call", stringTimed, target: false,
      note: "each call timed alone (includes two clock reads, ~40 ns)")
    timedRow("condvar_round_trip", "context floor: condvar hand-off to a thread and back", handOff, target: false,
      note: "2 thread wake-ups, nothing else")
    timedRow("blocking_pool_call_raw", "context floor: BlockingPool.submit(callRaw) + condvar", poolHop, target: false,
      note: "the host's pool running the call, the caller waiting on a condvar")
    timedRow("blocking_pool_call_raw_with_timer", "context floor: the same + a 60 s asyncAfter before submit", poolHopTimer,
      target: false, note: "plus DispatchQueue.global().asyncAfter(60 s), as Completion.swift after() does per call")
    timedRow("facade_async_call_in_process", "Driver façade: await instance.call (context)", facade.async,
      target: false, note: "in process: BlockingPool hop, continuation resume, 60 s deadline timer per call")
    timedRow("facade_call_blocking_in_process", "Driver façade: callBlocking (context)", facade.blocking,
      target: false, note: "in process: BlockingPool hop, latch wake-up, 60 s deadline timer per call")
    report.table(["case", "how", "median", "p99", "min", "vs floor", "target"], rows)
  }
}
