// Support for the DriverHost tests: where the build products are, the C fixture drivers (built
// once per test process), a DriverHost per test with its own temporary directory, log and event
// capture, runner-process bookkeeping and a tiny loopback HTTP server.
import DriverHost
import DriverProtocols
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - Paths

enum TestPaths {
  /// The repository root, from this file's location (Tests/DriverHostTests/Support/…).
  static let repoRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static let header = repoRoot.appendingPathComponent("Sources/DriverABI/include/hiclaw_driver.h")
  static let abiLock = repoRoot.appendingPathComponent("Sources/DriverABI/abi.lock")
  static let fixturesSource = repoRoot.appendingPathComponent("Tests/Fixtures/Drivers")

  /// The SwiftPM build products directory (holds `hiclaw-driver-runner` and `libhc_*.so`).
  ///
  /// `$HICLAW_BUILD_DIR` wins. Otherwise the directory of the running executable (the `.xctest`
  /// lives in `.build/<triple>/debug/`) and its parents are searched — `swift test` may run the
  /// tests through a helper binary elsewhere — and finally `<repo>/.build/debug`.
  static let buildDirectory: Result<URL, TestSetupError> = {
    let environment = ProcessInfo.processInfo.environment
    if let explicit = environment["HICLAW_BUILD_DIR"], !explicit.isEmpty {
      let url = URL(fileURLWithPath: explicit)
      guard isBuildDirectory(url) else {
        return .failure(TestSetupError("HICLAW_BUILD_DIR=\(explicit) contains no hiclaw-driver-runner"))
      }
      return .success(url)
    }
    var starts: [URL] = []
    if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      starts.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
    }
    if let first = CommandLine.arguments.first, first.contains("/") {
      starts.append(URL(fileURLWithPath: first).standardizedFileURL.deletingLastPathComponent())
    }
    for start in starts {
      var directory = start
      for _ in 0..<5 {
        if isBuildDirectory(directory) { return .success(directory) }
        let parent = directory.deletingLastPathComponent()
        if parent.path == directory.path { break }
        directory = parent
      }
    }
    let fallback = repoRoot.appendingPathComponent(".build/debug").resolvingSymlinksInPath()
    if isBuildDirectory(fallback) { return .success(fallback) }
    return .failure(TestSetupError(
      "cannot find the build products (hiclaw-driver-runner); searched above \(starts.map(\.path)) and \(fallback.path); run `swift build --build-tests` or set HICLAW_BUILD_DIR"))
  }()

  static func isBuildDirectory(_ url: URL) -> Bool {
    FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("hiclaw-driver-runner").path)
  }

  static func build() throws -> URL { try buildDirectory.get() }
  static func runner() throws -> String { try build().appendingPathComponent("hiclaw-driver-runner").path }
}

struct TestSetupError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

// MARK: - Processes

struct CommandResult {
  var status: Int32
  var output: String
}

/// Runs a command (no shell) and returns its exit status and combined output.
func runCommand(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> CommandResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = directory }
  // Output goes to a file, not a pipe: a pipe's write end is inherited by any process another
  // test spawns at the same moment (runners, hosts), and reading to EOF would then wait for
  // that process to exit.
  let file = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-cmd-\(UUID().uuidString).out")
  FileManager.default.createFile(atPath: file.path, contents: nil)
  defer { try? FileManager.default.removeItem(at: file) }
  let handle = try FileHandle(forWritingTo: file)
  process.standardOutput = handle
  process.standardError = handle
  process.standardInput = FileHandle.nullDevice
  try process.run()
  process.waitUntilExit()
  try? handle.close()
  let data = FileManager.default.contents(atPath: file.path) ?? Data()
  return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Finds an executable on PATH.
func which(_ name: String) -> String? {
  let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
  for directory in path.split(separator: ":") {
    let candidate = "\(directory)/\(name)"
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  return nil
}

/// Child processes of this process whose command line contains `fragment`.
func childProcesses(commandLineContaining fragment: String) -> [pid_t] {
  let me = getpid()
  let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
  return entries.compactMap { entry -> pid_t? in
    guard let pid = pid_t(entry),
      let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let paren = stat.lastIndex(of: ")")
    else { return nil }
    // After "pid (comm) ": state ppid …
    let fields = stat[stat.index(after: paren)...].split(separator: " ")
    guard fields.count > 2, pid_t(fields[1]) == me else { return nil }
    guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
    let text = String(decoding: cmdline.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    return text.contains(fragment) ? pid : nil
  }
}

/// True while `/proc/<pid>` exists (a zombie counts: it has not been reaped).
func processExists(_ pid: pid_t) -> Bool {
  FileManager.default.fileExists(atPath: "/proc/\(pid)")
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns its last value.
func eventually(timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  while clock.now < deadline {
    if await condition() { return true }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return await condition()
}

// MARK: - C fixtures

enum Fixtures {
  /// `libhc_<stem>.so` for every `Tests/Fixtures/Drivers/<stem>.c`, built once per process into a
  /// temporary directory (removed at exit). Swift's lazy `static let` makes concurrent first uses
  /// wait for the one build.
  static let directory: Result<URL, TestSetupError> = {
    let out = FileManager.default.temporaryDirectory
      .appendingPathComponent("hiclaw-fixtures-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    do {
      try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
      registerRemovalAtExit(out.path)
      guard let make = which("make") else { return .failure(TestSetupError("make is not installed")) }
      let result = try runCommand(make, ["-s", "-j2", "-C", TestPaths.fixturesSource.path, "OUT=\(out.path)"])
      guard result.status == 0 else {
        return .failure(TestSetupError("building the C fixtures failed (make exit \(result.status)):\n\(result.output)"))
      }
      return .success(out)
    } catch {
      return .failure(TestSetupError("cannot build the C fixtures: \(error)"))
    }
  }()

  static func path(_ stem: String) throws -> String {
    let path = try directory.get().appendingPathComponent("libhc_\(stem).so").path
    guard FileManager.default.fileExists(atPath: path) else {
      throw TestSetupError("fixture \(path) was not built (is Tests/Fixtures/Drivers/\(stem).c missing?)")
    }
    return path
  }

  private static let removeAtExit = Mutex<[String]>([])
  private static func registerRemovalAtExit(_ path: String) {
    let first = removeAtExit.withLock { paths in
      paths.append(path)
      return paths.count == 1
    }
    if first {
      atexit {
        for path in Fixtures.removeAtExit.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
      }
    }
  }
}

// MARK: - Logs and events

/// A Mutex in a class, so closures can share it.
final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>
  init(_ value: Value) { mutex = Mutex(value) }
  func withLock<R>(_ body: (inout sending Value) -> sending R) -> R { mutex.withLock(body) }
  var value: Value { mutex.withLock { $0 } }
}

/// Log records captured from a ``DriverHost``'s logger.
final class LogCapture: Sendable {
  struct Entry: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
  }
  private let storage = Mutex<[Entry]>([])

  func append(_ entry: Entry) { storage.withLock { $0.append(entry) } }
  var entries: [Entry] { storage.withLock { $0 } }

  func entries(containing fragment: String) -> [Entry] { entries.filter { $0.message.contains(fragment) } }
}

struct CapturingLogHandler: LogHandler {
  let capture: LogCapture
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]
  var metadataProvider: Logger.MetadataProvider?

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var merged = metadata
    for (key, value) in event.metadata ?? [:] { merged[key] = value }
    capture.append(LogCapture.Entry(
      level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" }))
  }
}

// MARK: - A host per test

/// One test's DriverHost, its temporary directory, captured logs and events, and every driver it
/// loaded (shut down by ``close()``).
final class TestHost: Sendable {
  let directory: URL
  let host: DriverHost
  let logs = LogCapture()
  private let eventStorage = Locked<[DriverEvent]>([])
  private let loaded = Mutex<[Driver]>([])
  private let copies = Mutex<[String: String]>([:])

  init(timeout: Duration = .seconds(10), poolSize: Int = 6, state: (any DriverStateStore)? = nil) throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("hiclaw-host-test-\(UUID().uuidString.prefix(8).lowercased())")
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("lib"), withIntermediateDirectories: true)
    let capture = logs
    var logger = Logger(label: "hiclaw.test") { _ in CapturingLogHandler(capture: capture) }
    logger.logLevel = .info
    var configuration = DriverHostConfiguration(
      stateDirectory: directory.appendingPathComponent("state"), logger: logger)
    configuration.runnerExecutable = try TestPaths.runner()
    configuration.defaultCallTimeout = timeout
    configuration.poisonFreedMemory = true
    configuration.poolSize = poolSize
    let events = eventStorage
    host = DriverHost(configuration: configuration, state: state) { event in events.withLock { $0.append(event) } }
  }

  var events: [DriverEvent] { eventStorage.withLock { $0 } }
  var stateDirectory: URL { host.configuration.stateDirectory }

  /// A private copy of C fixture `stem` (`libhc_<stem>.so`) in this test's directory.
  ///
  /// Why a copy: a library is dlopen'ed and initialised once per process and never unloaded, so
  /// two tests loading the same path in process would share one driver (its statistics, its
  /// shutdown, the first host's services). A copy at a new path is a new library.
  func fixture(_ stem: String, copy variant: String = "") throws -> String {
    try copy(Fixtures.path(stem), variant: variant)
  }

  /// A private copy of the SwiftPM product `libhc_<name>.so` from the build directory.
  func swiftDriver(_ name: String) throws -> String {
    let path = try TestPaths.build().appendingPathComponent("libhc_\(name).so").path
    guard FileManager.default.fileExists(atPath: path) else {
      throw TestSetupError("\(path) was not built; run `swift build --build-tests`")
    }
    return try copy(path)
  }

  /// `variant` makes another copy (another library) of the same file, under `lib/<variant>/`.
  private func copy(_ source: String, variant: String = "") throws -> String {
    let key = source + "\u{0}" + variant
    if let existing = copies.withLock({ $0[key] }) { return existing }
    var folder = directory.appendingPathComponent("lib")
    if !variant.isEmpty { folder = folder.appendingPathComponent(variant) }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let destination = folder.appendingPathComponent(URL(fileURLWithPath: source).lastPathComponent)
    try FileManager.default.copyItem(atPath: source, toPath: destination.path)
    copies.withLock { $0[key] = destination.path }
    return destination.path
  }

  /// Registers a driver loaded some other way (e.g. from a manifest) for ``close()``.
  @discardableResult
  func adopt(_ driver: Driver) -> Driver {
    loaded.withLock { $0.append(driver) }
    return driver
  }

  /// Loads a library; the driver is shut down by ``close()`` if the test does not do it.
  func load(
    _ library: String, _ isolation: DriverIsolation, expectedName: String? = nil, hostMinor: UInt32? = nil,
    recoverRequest: @escaping @Sendable (String) -> String = { _ in #"{"known":[]}"# }
  ) async throws(DriverLoadError) -> Driver {
    let driver = try await host.load(
      library: library, isolation: isolation, expectedName: expectedName, hostMinor: hostMinor,
      recoverRequest: recoverRequest)
    loaded.withLock { $0.append(driver) }
    return driver
  }

  /// Runner processes started for this test's libraries that are still around (not reaped).
  func runnerProcesses() -> [pid_t] {
    childProcesses(commandLineContaining: directory.path)
  }

  /// Shuts every loaded driver down, checks that no runner is left and removes the directory.
  func close() async {
    for driver in loaded.withLock({ $0 }) { await driver.shutdown() }
    let clean = await eventually(timeout: .seconds(5)) { runnerProcesses().isEmpty }
    let leftovers = runnerProcesses()
    for pid in leftovers { kill(pid, SIGKILL) }
    #expect(clean, "runner processes left behind after shutdown: \(leftovers)")
    try? FileManager.default.removeItem(at: directory)
  }
}

/// Runs `body` with a fresh ``TestHost`` and always closes it (even when `body` throws).
func withTestHost<R>(
  timeout: Duration = .seconds(10), poolSize: Int = 6, state: (any DriverStateStore)? = nil,
  _ body: (TestHost) async throws -> R
) async throws -> R {
  let host = try TestHost(timeout: timeout, poolSize: poolSize, state: state)
  do {
    let result = try await body(host)
    await host.close()
    return result
  } catch {
    await host.close()
    throw error
  }
}

// MARK: - Small helpers

extension RawOutcome {
  /// The status as a ``DriverStatus`` (nil for a number outside the ABI's set).
  var driverStatus: DriverStatus? { DriverStatus(rawValue: status) }

  /// The `message` of the error JSON, if any.
  var errorMessage: String? {
    guard let object = jsonObject(json) else { return nil }
    return object["message"] as? String
  }
}

func jsonObject(_ text: String) -> [String: Any]? {
  guard let data = text.data(using: .utf8) else { return nil }
  return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

/// Runs `body` and returns the ``DriverCallError`` it throws (nil if it succeeded; any other
/// error is recorded as an issue).
func callError<T>(
  _ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation
) async -> DriverCallError? {
  do {
    _ = try await body()
    return nil
  } catch let error as DriverCallError {
    return error
  } catch {
    Issue.record("expected a DriverCallError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// Runs `body` and returns the ``DriverLoadError`` it throws (nil if it succeeded; any other
/// error is recorded as an issue).
func loadError<T>(
  _ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation
) async -> DriverLoadError? {
  do {
    _ = try await body()
    return nil
  } catch let error as DriverLoadError {
    return error
  } catch {
    Issue.record("expected a DriverLoadError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// Milliseconds elapsed while running `body`.
func measure<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
  let clock = ContinuousClock()
  let start = clock.now
  let value = try await body()
  let elapsed = clock.now - start
  return (value, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
}

// MARK: - Loopback HTTP server

/// A minimal HTTP/1.1 server on 127.0.0.1 (an ephemeral port): answers every request with 200
/// and a fixed body, records the request lines, one connection at a time, on its own thread.
final class LoopbackHTTPServer: @unchecked Sendable {
  let port: UInt16
  let body: String
  private let listener: Int32
  private let requests = Mutex<[String]>([])

  init(body: String) throws {
    self.body = body
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
      close(fd)
      throw TestSetupError("bind/listen: \(String(cString: strerror(errno)))")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    port = UInt16(bigEndian: address.sin_port)
    listener = fd
    Thread.detachNewThread { [self] in serve() }
  }

  var requestLines: [String] { requests.withLock { $0 } }

  private func serve() {
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR { continue }
        return
      }
      var received: [UInt8] = []
      var chunk = [UInt8](repeating: 0, count: 4096)
      while !received.containsHeaderEnd {
        let n = read(client, &chunk, chunk.count)
        if n <= 0 { break }
        received.append(contentsOf: chunk[0..<n])
      }
      let text = String(decoding: received, as: UTF8.self)
      if let line = text.split(separator: "\r\n").first { requests.withLock { $0.append(String(line)) } }
      let payload = Array(body.utf8)
      let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(payload.count)\r\nX-Test: loopback\r\nConnection: close\r\n\r\n"
      let response = Array(head.utf8) + payload
      var sent = 0
      while sent < response.count {
        let n = response[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        sent += n
      }
      close(client)
    }
  }

  func stop() {
    shutdown(listener, Int32(SHUT_RDWR))
    close(listener)
  }
}

extension [UInt8] {
  fileprivate var containsHeaderEnd: Bool {
    guard count >= 4 else { return false }
    for index in 0...(count - 4) where self[index] == 13 && self[index + 1] == 10 && self[index + 2] == 13 && self[index + 3] == 10 {
      return true
    }
    return false
  }
}
