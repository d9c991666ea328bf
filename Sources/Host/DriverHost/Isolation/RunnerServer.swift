import DriverABI
import Foundation
import Synchronization

/// Arguments of `hiclaw-driver-runner` (set by ``RunnerConnection``; not meant for people).
public struct RunnerArguments: Sendable {
  public var socketFD: Int32 = 3
  public var library = ""
  public var name: String?
  public var hostMinor = UInt32(HC_ABI_MINOR)
  public var stateDirectory = ""
  public var logLevel = Int32(HC_LOG_INFO)
  public var poison = false

  public init() {}

  /// Parses `--fd N --library PATH [--name N] [--host-minor N] [--state-dir D] [--log-level N] [--poison]`.
  public init(parsing arguments: [String]) throws(RunnerUsageError) {
    var iterator = arguments.makeIterator()
    while let flag = iterator.next() {
      func value() throws(RunnerUsageError) -> String {
        guard let value = iterator.next() else { throw RunnerUsageError(message: "\(flag) needs a value") }
        return value
      }
      switch flag {
      case "--fd": socketFD = Int32(try value()) ?? -1
      case "--library": library = try value()
      case "--name": name = try value()
      case "--host-minor": hostMinor = UInt32(try value()) ?? UInt32(HC_ABI_MINOR)
      case "--state-dir": stateDirectory = try value()
      case "--log-level": logLevel = Int32(try value()) ?? Int32(HC_LOG_INFO)
      case "--poison": poison = true
      default: throw RunnerUsageError(message: "unknown argument \(flag)")
      }
    }
    guard !library.isEmpty, socketFD >= 0 else { throw RunnerUsageError(message: "--fd and --library are required") }
  }

  var commandLine: [String] {
    var arguments = ["--fd", "\(socketFD)", "--library", library, "--host-minor", "\(hostMinor)",
      "--state-dir", stateDirectory, "--log-level", "\(logLevel)"]
    if let name { arguments += ["--name", name] }
    if poison { arguments.append("--poison") }
    return arguments
  }
}

public struct RunnerUsageError: Error, CustomStringConvertible {
  public var message: String
  public var description: String {
    "hiclaw-driver-runner: \(message)\nThis program is started by hiclaw-host and hiclaw; it is not meant to be run by hand."
  }
}

/// The runner's side of the socket: loads one driver and serves the host's frames. Everything the
/// driver asks of the host is forwarded back over the same socket.
public final class RunnerServer: @unchecked Sendable {
  let arguments: RunnerArguments
  let channel: FrameChannel
  let pool: BlockingPool
  private let instances = Mutex<[UInt64: UInt]>([:])
  private let nextInstance = Atomic<UInt64>(1)
  private var driver: NativeDriver?

  public init(arguments: RunnerArguments) {
    self.arguments = arguments
    self.channel = FrameChannel(fd: arguments.socketFD)
    self.pool = BlockingPool(size: 16, label: "runner")
  }

  /// Loads the driver, says hello and serves until the host says shutdown or goes away. Returns
  /// the process exit code.
  public func run() -> Int32 {
    let services = ForwardingHostServices(channel: channel, logLevel: arguments.logLevel)
    let context = HostContext(
      driverName: arguments.name ?? "driver", services: services, poisonFreedMemory: arguments.poison)
    var options = NativeLoadOptions()
    options.hostMinor = arguments.hostMinor
    options.expectedName = arguments.name
    options.stateDirectory = arguments.stateDirectory
    var hello = FrameWriter(type: .hello, id: 0)
    do {
      let driver = try NativeDriver.load(path: arguments.library, context: context, options: options)
      self.driver = driver
      hello.append(Int32(HC_OK))
      hello.append(encodeJSON(driver.info))
    } catch {
      hello.append(Int32(HC_ERR_FAILED_PRECONDITION))
      hello.append(encodeJSON(error))
    }
    channel.send(hello.finish())
    guard let driver else { return 3 }

    while let frame = channel.receive() {
      switch frame.type {
      case .serviceReply:
        services.deliver(frame)
      case .call:
        handleCall(frame, driver: driver)
      case .create:
        pool.submit { [self] in handleCreate(frame, driver: driver) }
      case .destroy:
        pool.submit { [self] in handleDestroy(frame, driver: driver) }
      case .cancel:
        var reader = FrameReader(frame.payload)
        if let handle = try? reader.u64(), let requestID = try? reader.u64(),
          let instance = instances.withLock({ $0[handle] })
        {
          driver.cancel(UnsafeMutableRawPointer(bitPattern: instance)!, requestID: requestID)
        }
      case .stats:
        reply(frame.id, status: HC_OK, json: statisticsJSON(driver))
      case .ping:
        reply(frame.id, status: HC_OK, json: "")
      case .shutdown:
        driver.shutdown()
        reply(frame.id, status: HC_OK, json: statisticsJSON(driver))
        return 0
      default:
        break
      }
    }
    // The host went away without a shutdown: stop the driver's threads and leave.
    driver.shutdown()
    return 0
  }

  private func handleCall(_ frame: Frame, driver: NativeDriver) {
    var reader = FrameReader(frame.payload)
    guard let handle = try? reader.u64(), let method = try? reader.string(), let request = try? reader.string() else {
      return reply(frame.id, status: HC_ERR_INTERNAL, json: errorJSON("INTERNAL", "runner: malformed call frame", retryable: false))
    }
    guard let raw = instances.withLock({ $0[handle] }), let instance = UnsafeMutableRawPointer(bitPattern: raw) else {
      return reply(frame.id, status: HC_ERR_NOT_FOUND, json: errorJSON("NOT_FOUND", "runner: unknown instance \(handle)", retryable: false))
    }
    if driver.info.supportsAsync {
      let status = driver.callAsync(instance, method: method, request: request, requestID: frame.id) { [self] outcome in
        reply(frame.id, status: outcome.status, json: outcome.json)
      }
      if status != HC_OK { reply(frame.id, status: status, json: "") }
    } else {
      pool.submit { [self] in
        let outcome = driver.call(UnsafeMutableRawPointer(bitPattern: raw)!, method: method, request: request)
        reply(frame.id, status: outcome.status, json: outcome.json)
      }
    }
  }

  private func handleCreate(_ frame: Frame, driver: NativeDriver) {
    var reader = FrameReader(frame.payload)
    let config = (try? reader.string()) ?? ""
    var writer = FrameWriter(type: .result, id: frame.id)
    switch driver.create(config: config) {
    case .success(let instance):
      let handle = nextInstance.wrappingAdd(1, ordering: .relaxed).oldValue
      instances.withLock { $0[handle] = UInt(bitPattern: instance) }
      writer.append(Int32(HC_OK))
      writer.append(handle)
      writer.append("")
    case .failure(let error):
      writer.append(error.status.rawValue)
      writer.append(UInt64(0))
      writer.append(errorJSON(error.status.name, error.message, retryable: error.retryable))
    }
    channel.send(writer.finish())
  }

  private func handleDestroy(_ frame: Frame, driver: NativeDriver) {
    var reader = FrameReader(frame.payload)
    if let handle = try? reader.u64(), let raw = instances.withLock({ $0.removeValue(forKey: handle) }) {
      driver.destroy(UnsafeMutableRawPointer(bitPattern: raw)!)
    }
    reply(frame.id, status: HC_OK, json: "")
  }

  private func reply(_ id: UInt64, status: Int32, json: String) {
    var writer = FrameWriter(type: .result, id: id, capacity: json.utf8.count + 8)
    writer.append(status)
    writer.append(json)
    channel.send(writer.finish())
  }

  private func statisticsJSON(_ driver: NativeDriver) -> String {
    let own = pool.threadIDs.withLock { $0 }.union([mainThreadID]).union(Deadlines.shared.threadIDs)
    let report = RunnerStatistics(
      allocator: driver.context.allocator.statistics, violations: driver.context.violations.all,
      foreignThreads: ThreadActivity.foreignThreads(excluding: own).count,
      activeForeignThreads: ThreadActivity.activeThreads(excluding: own, window: .milliseconds(200)))
    return encodeJSON(report)
  }

  private let mainThreadID = ThreadActivity.currentThreadID()
}

/// What a runner reports about its driver (`stats` and `shutdown` answers).
struct RunnerStatistics: Codable, Sendable {
  var allocator: AllocatorStatistics
  var violations: [String]
  /// Threads in the runner that are not the runner's own (the driver's, or its language runtime's).
  var foreignThreads: Int
  /// Of those, the ones that were scheduled during a short observation window: threads still
  /// running code rather than parked.
  var activeForeignThreads: [ThreadActivity.ThreadSample]
}

/// Host services inside the runner: allocation is local, everything else goes to the host.
final class ForwardingHostServices: HostServiceBackend, @unchecked Sendable {
  let channel: FrameChannel
  let logLevel: Int32
  private let nextID = Atomic<UInt64>(1)
  private let waiting = Mutex<[UInt64: BlockingLatch<(Int32, [UInt8])>]>([:])

  init(channel: FrameChannel, logLevel: Int32) {
    self.channel = channel
    self.logLevel = logLevel
  }

  func deliver(_ frame: Frame) {
    var reader = FrameReader(frame.payload)
    let status = (try? reader.i32()) ?? HC_ERR_INTERNAL
    let value = (try? reader.bytes()) ?? []
    waiting.withLock { $0.removeValue(forKey: frame.id) }?.fulfil((status, value))
  }

  private func forward(_ service: ForwardedService, _ a: String, _ b: String = "") -> (Int32, String) {
    let (status, bytes) = forwardBytes(service, a, b)
    return (status, String(decoding: bytes, as: UTF8.self))
  }

  /// Sends a host-service request and blocks for the answer (status and raw bytes).
  private func forwardBytes(_ service: ForwardedService, _ a: String, _ b: String = "") -> (Int32, [UInt8]) {
    let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    let latch = BlockingLatch<(Int32, [UInt8])>()
    waiting.withLock { $0[id] = latch }
    var writer = FrameWriter(type: .serviceCall, id: id)
    writer.append(service.rawValue)
    writer.append(a)
    writer.append(b)
    guard channel.send(writer.finish()) else {
      waiting.withLock { _ = $0.removeValue(forKey: id) }
      return (HC_ERR_UNAVAILABLE, Array(errorJSON("UNAVAILABLE", "host connection lost", retryable: true).utf8))
    }
    return latch.wait()
  }

  func logEnabled(driver: String, level: Int32) -> Bool { level >= logLevel }

  func log(driver: String, level: Int32, target: String, message: String, fieldsJSON: String) {
    guard level >= logLevel else { return }
    var writer = FrameWriter(type: .log, id: 0)
    writer.append(level)
    writer.append(target)
    writer.append(message)
    writer.append(fieldsJSON)
    channel.send(writer.finish())
  }

  func emitEvent(driver: String, subject: String, eventJSON: String) {
    var writer = FrameWriter(type: .event, id: 0)
    writer.append(subject)
    writer.append(eventJSON)
    channel.send(writer.finish())
  }

  func statePut(driver: String, key: String, value: String) -> Int32 { forward(.statePut, key, value).0 }

  func stateGet(driver: String, key: String) -> (status: Int32, value: String?) {
    let (status, value) = forward(.stateGet, key)
    return (status, status == HC_OK ? value : nil)
  }

  func secretGet(driver: String, ref: String) -> (status: Int32, value: [UInt8]?) {
    let (status, value) = forwardBytes(.secretGet, ref)
    return (status, status == HC_OK ? value : nil)
  }

  func http(driver: String, requestJSON: String) -> (status: Int32, json: String) {
    forward(.http, requestJSON)
  }

  func httpAsync(driver: String, requestJSON: String, completion: @escaping @Sendable (Int32, String) -> Void) -> Int32 {
    spawnDetachedThread(name: "hc-runner-http") { [self] in
      let (status, json) = forward(.http, requestJSON)
      completion(status, json)
    }
    return HC_OK
  }
}

func encodeJSON<T: Encodable>(_ value: T) -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}
