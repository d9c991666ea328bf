// Section 1: the cost of loading a driver. A library is loaded once per process (and never
// unloaded), so every sample is taken in a fresh child process: this program re-executes itself
// with `--measure-load PATH --mode steps|host` and the child prints one JSON line.
import DriverABI
import DriverHost
import DriverProtocols
import Foundation
import Glibc

enum LoadBench {
  /// What one child measured.
  struct Sample: Codable {
    var mode: String
    var ok: Bool
    var error: String?
    // mode "steps": the host's load sequence, stage by stage.
    var dlopenNs: UInt64?
    var magicNs: UInt64?
    var contextNs: UInt64?
    var initNs: UInt64?
    var describeCallNs: UInt64?
    var describeParseNs: UInt64?
    /// The same check + decode a second time (JSONDecoder warm).
    var describeParseWarmNs: UInt64?
    // mode "host": one NativeDriver.load (dlopen … describe, as the host does it).
    var nativeLoadNs: UInt64?
  }

  static let loadTargetNs = 1_000_000.0

  // MARK: Child

  /// Runs in the child: loads `path` once, prints one JSON line, exits.
  static func child(path: String, mode: String) -> Never {
    var sample = Sample(mode: mode, ok: false)
    do {
      switch mode {
      case "steps": try measureSteps(path: path, into: &sample)
      case "host": try measureHost(path: path, into: &sample)
      default: throw ChildError(message: "unknown mode \(mode)")
      }
      sample.ok = true
    } catch {
      sample.error = "\(error)"
    }
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    let line = (try? encoder.encode(sample)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
    exit(sample.ok ? 0 : 2)
  }

  struct ChildError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  /// The host's load sequence (NativeDriver.load), split into timed stages. Mirrors what
  /// NativeDriver does so that each stage can be timed on its own: dlopen; magic = dlsym +
  /// hc_driver_magic_v1 + copy + validate; context = HostContext (the hc_host_api table);
  /// init = dlsym + hc_driver_init_v1 + vtable copy; describe = the call, then JSON check + decode.
  private static func measureSteps(path: String, into sample: inout Sample) throws {
    let t0 = nowNanoseconds()
    guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
      throw ChildError(message: "dlopen: " + (dlerror().map { String(cString: $0) } ?? "?"))
    }
    let t1 = nowNanoseconds()
    let magic = try NativeDriver.readMagic(handle: handle)
    try NativeDriver.validate(magic: magic, expectedName: nil)
    let t2 = nowNanoseconds()
    let context = HostContext(driverName: magic.name, services: SilentServices())
    let t3 = nowNanoseconds()
    guard let symbol = dlsym(handle, HC_DRIVER_INIT_SYMBOL) else { throw ChildError(message: "no init symbol") }
    let initialize = unsafeBitCast(symbol, to: hc_driver_init_fn.self)
    var api: UnsafePointer<hc_driver_api>?
    var errorBuffer = hc_buf(ptr: nil, len: 0)
    let status = withHCStr(HiclawVersion.current) { version in
      withHCStr("") { stateDirectory in
        var args = hc_init_args(
          struct_size: UInt32(MemoryLayout<hc_init_args>.size), host_abi_major: UInt32(HC_ABI_MAJOR),
          host_abi_minor: UInt32(HC_ABI_MINOR), flags: 0, host: context.table, host_version: version,
          state_dir: stateDirectory)
        return initialize(&args, &api, &errorBuffer)
      }
    }
    _ = context.allocator.take(errorBuffer)
    guard status == HC_OK, let api else { throw ChildError(message: "init returned \(status)") }
    let vtable = copyVtable(api)
    let t4 = nowNanoseconds()
    var out = hc_buf(ptr: nil, len: 0)
    let describeStatus = vtable.describe!(&out)
    let json = context.allocator.take(out)
    let t5 = nowNanoseconds()
    guard describeStatus == HC_OK else { throw ChildError(message: "describe returned \(describeStatus)") }
    try JSONCheck.validate(json)
    let description = try JSONCheck.decode(DriverDescription.self, from: json)
    let t6 = nowNanoseconds()
    guard description.name == magic.name else { throw ChildError(message: "describe.name mismatch") }
    try JSONCheck.validate(json)
    let again = try JSONCheck.decode(DriverDescription.self, from: json)
    let t7 = nowNanoseconds()
    consume(UInt64(again.methods.count))
    sample.describeParseWarmNs = t7 - t6
    sample.dlopenNs = t1 - t0
    sample.magicNs = t2 - t1
    sample.contextNs = t3 - t2
    sample.initNs = t4 - t3
    sample.describeCallNs = t5 - t4
    sample.describeParseNs = t6 - t5
  }

  private static func measureHost(path: String, into sample: inout Sample) throws {
    let context = HostContext(driverName: "bench", services: SilentServices())
    let t0 = nowNanoseconds()
    let driver = try NativeDriver.load(path: path, context: context)
    let t1 = nowNanoseconds()
    consume(UInt64(driver.info.describeJSON.utf8.count))
    sample.nativeLoadNs = t1 - t0
  }

  // MARK: Parent

  struct Driver {
    var label: String
    var path: String
  }

  static func run(drivers: [Driver], children: Int, report: Report) {
    let executable = currentExecutablePath()
    var samples: [String: [Sample]] = [:]
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    // One discarded round first (page cache, dynamic linker caches), then interleaved rounds so
    // that background noise hits every driver and mode alike.
    for round in 0...children {
      for driver in drivers {
        for mode in ["steps", "host"] {
          let output: String
          do {
            let (status, text) = try runChild(executable, ["--measure-load", driver.path, "--mode", mode])
            output = text
            if status != 0 { fail("load child for \(driver.path) (\(mode)) failed: \(text)") }
          } catch {
            fail("cannot start a load child: \(error)")
          }
          guard let line = output.split(separator: "\n").last,
            let sample = try? decoder.decode(Sample.self, from: Data(line.utf8))
          else { fail("unreadable load child output: \(output)") }
          if round > 0 { samples["\(driver.label)|\(mode)", default: []].append(sample) }
        }
      }
    }

    report.heading("1. Load: dlopen + magic + init (+ describe), one fresh child process per sample, medians of \(children)")
    var rows: [[String]] = []
    var c: Double?
    for driver in drivers {
      let steps = samples["\(driver.label)|steps"] ?? []
      let host = samples["\(driver.label)|host"] ?? []
      func stage(_ name: String, _ values: [UInt64], note: String? = nil) -> Summary {
        let summary = Summary(values)
        var record = Record(section: "load", name: name, driver: driver.label)
        record.set(summary)
        record.note = note
        if name == "load" {
          record.targetNs = loadTargetNs
          record.pass = summary.median <= loadTargetNs
        }
        report.add(record)
        return summary
      }
      let dlopenS = stage("dlopen", steps.map { $0.dlopenNs! })
      let magicS = stage("magic", steps.map { $0.magicNs! }, note: "dlsym + hc_driver_magic_v1 + copy + validate")
      let contextS = stage("host_context", steps.map { $0.contextNs! }, note: "HostContext: the hc_host_api table")
      let initS = stage("init", steps.map { $0.initNs! }, note: "dlsym + hc_driver_init_v1 + vtable copy")
      let loadS = stage(
        "load", steps.map { $0.dlopenNs! + $0.magicNs! + $0.contextNs! + $0.initNs! },
        note: "per-sample sum dlopen + magic + host_context + init")
      let describeCallS = stage("describe_call", steps.map { $0.describeCallNs! })
      let describeParseS = stage(
        "describe_parse", steps.map { $0.describeParseNs! },
        note: "JSONCheck.validate + JSONDecoder into DriverDescription (first JSONDecoder use in the process)")
      let describeWarmS = stage(
        "describe_parse_warm", steps.map { $0.describeParseWarmNs! }, note: "the same parse again, JSONDecoder warm")
      let nativeS = stage(
        "native_driver_load", host.map { $0.nativeLoadNs! },
        note: "NativeDriver.load end to end, describe included")
      if c == nil { c = loadS.median }
      rows.append([
        driver.label, formatTime(dlopenS.median), formatTime(magicS.median), formatTime(contextS.median),
        formatTime(initS.median), formatTime(loadS.median), formatTime(loadS.p99),
        formatTime(describeCallS.median), formatTime(describeParseS.median), formatTime(describeWarmS.median),
        formatTime(nativeS.median),
        c.map { formatRatio(loadS.median / $0) } ?? "-",
        "≤ 1 ms " + verdict(loadS.median <= loadTargetNs),
      ])
    }
    report.table(
      ["driver", "dlopen", "magic", "context", "init", "LOAD", "load p99", "describe", "parse cold",
       "parse warm", "NativeDriver.load", "vs C", "target (load)"],
      rows)
    print("LOAD = dlopen + magic + context + init (per-sample sum). describe (the call) and its parse "
      + "(JSONCheck + JSONDecoder; cold = first use in the process) are reported apart. NativeDriver.load is the "
      + "host's whole sequence including describe and a cold parse, measured in separate children.")
  }

  static func copyVtable(_ api: UnsafePointer<hc_driver_api>) -> hc_driver_api {
    let size = Int(api.withMemoryRebound(to: UInt32.self, capacity: 1) { $0.pointee })
    var vtable = hc_driver_api()
    withUnsafeMutableBytes(of: &vtable) { destination in
      destination.copyMemory(from: UnsafeRawBufferPointer(
        start: UnsafeRawPointer(api), count: min(size, MemoryLayout<hc_driver_api>.size)))
    }
    return vtable
  }
}

/// Runs `body` with `string` borrowed as an hc_str.
func withHCStr<R>(_ string: String, _ body: (hc_str) throws -> R) rethrows -> R {
  var copy = string
  return try copy.withUTF8 { utf8 in
    try body(hc_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count))
  }
}
