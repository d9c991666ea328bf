import DriverConformance
import DriverHost
import Foundation
import Logging
import Synchronization

/// What `verify` and `install` check: a library, optionally with its manifest.
struct VerificationTarget {
  var library: String
  var manifest: (DriverManifest, URL)?
  /// The path as given (library or manifest).
  var path: String

  /// A `.json` argument is a manifest (its library is resolved next to it); anything else is a
  /// library path.
  init(path: String) throws(DriverLoadError) {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    self.path = url.path
    if url.pathExtension == "json" {
      let manifest = try DriverManifest.load(from: url)
      let directory = url.deletingLastPathComponent()
      self.library = directory.appendingPathComponent(manifest.library).path
      self.manifest = (manifest, directory)
    } else {
      guard FileManager.default.fileExists(atPath: url.path) else {
        throw DriverLoadError(.open, field: "library", "\(url.path) does not exist", fix: "pass the path of a driver library (.so) or manifest (.json)")
      }
      self.library = url.path
    }
  }

  var expectedName: String? { manifest?.0.name }
}

/// Runs the conformance suite: static checks, the in-process pass in a child process (a driver
/// that crashes or hangs there must not take `hiclaw` down), and the runner pass here.
struct Verification {
  var target: VerificationTarget
  var modes: [DriverIsolation]
  var timeout: Duration
  var report: @Sendable (CheckResult) -> Void

  static func makeHost(poison: Bool, timeout: Duration?) -> (DriverHost, URL) {
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-verify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    var logger = Logger(label: "hiclaw.verify")
    logger.logLevel = .critical
    var configuration = DriverHostConfiguration(stateDirectory: state, logger: logger)
    configuration.poisonFreedMemory = poison
    configuration.defaultCallTimeout = timeout
    configuration.poolSize = 8
    return (DriverHost(configuration: configuration, state: MemoryStateStore()), state)
  }

  func run() async -> [CheckResult] {
    let collected = Mutex<[CheckResult]>([])
    let record: @Sendable (CheckResult) -> Void = { [report] result in
      collected.withLock { $0.append(result) }
      report(result)
    }
    let suite = ConformanceSuite(timeout: timeout)
    for result in suite.runStatic(library: target.library, manifest: target.manifest) { record(result) }
    if modes.contains(.inProcess) { runInProcessChild(record) }
    if modes.contains(.process) {
      let (host, state) = Self.makeHost(poison: true, timeout: timeout)
      await suite.run(library: target.library, isolation: .process, host: host, expectedName: target.expectedName, report: record)
      try? FileManager.default.removeItem(at: state)
    }
    return collected.withLock { $0 }
  }

  /// The in-process pass, run by this process when it is the child (`--child`).
  static func runChildPass(target: VerificationTarget) async {
    let (host, state) = makeHost(poison: true, timeout: nil)
    defer { try? FileManager.default.removeItem(at: state) }
    await ConformanceSuite(timeout: nil).run(library: target.library, isolation: .inProcess, host: host,
      expectedName: target.expectedName)
    { result in
      let line = "@check " + String(decoding: (try? JSONEncoder().encode(result)) ?? Data(), as: UTF8.self) + "\n"
      FileHandle.standardOutput.write(Data(line.utf8))
    }
    FileHandle.standardOutput.write(Data("@done\n".utf8))
  }

  /// Re-executes this binary for the in-process pass and relays its results. The child is killed
  /// if it reports nothing for `timeout` (a hung driver), and a crash becomes a failed check.
  private func runInProcessChild(_ record: @escaping @Sendable (CheckResult) -> Void) {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = ["driver", "verify", target.path, "--mode", "in-process", "--child"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    let lastCheck = Mutex<String?>(nil)
    let finished = Mutex(false)
    let progress = Mutex(DispatchTime.now())
    do {
      try process.run()
    } catch {
      record(CheckResult(mode: "in-process", check: "run", outcome: .fail, message: "cannot start the in-process pass: \(error)"))
      return
    }
    let watchdogSeconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18 + 2
    let watchdog = Thread {
      while process.isRunning {
        Thread.sleep(forTimeInterval: 0.1)
        let idle = Double(DispatchTime.now().uptimeNanoseconds - progress.withLock { $0.uptimeNanoseconds }) / 1e9
        if idle > watchdogSeconds {
          kill(process.processIdentifier, SIGKILL)
          break
        }
      }
    }
    watchdog.start()
    var buffer = Data()
    let handle = pipe.fileHandleForReading
    while true {
      let chunk = handle.availableData
      if chunk.isEmpty { break }
      buffer.append(chunk)
      while let newline = buffer.firstIndex(of: 10) {
        let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
        buffer.removeSubrange(buffer.startIndex...newline)
        progress.withLock { $0 = DispatchTime.now() }
        if line == "@done" {
          finished.withLock { $0 = true }
        } else if line.hasPrefix("@check "),
          let result = try? JSONDecoder().decode(CheckResult.self, from: Data(line.dropFirst(7).utf8))
        {
          lastCheck.withLock { $0 = result.check }
          record(result)
        }
      }
    }
    process.waitUntilExit()
    guard !finished.withLock({ $0 }) else { return }
    let after = lastCheck.withLock { $0 }.map { "after check \($0)" } ?? "while loading the driver"
    if process.terminationReason == .uncaughtSignal {
      let signal = process.terminationStatus
      if signal == SIGKILL {
        record(CheckResult(mode: "in-process", check: "hang", outcome: .fail,
          message: "the driver stopped responding in process \(after) (no progress for \(Int(watchdogSeconds)) s; the pass was killed); a call blocks forever — fix it, or give every blocking call a timeout"))
      } else {
        record(CheckResult(mode: "in-process", check: "crash", outcome: .fail,
          message: "the driver crashed the process (\(signalDescription(signal))) \(after); in process, that would kill hiclaw-host — fix the crash (run it with isolation process meanwhile)"))
      }
    } else {
      record(CheckResult(mode: "in-process", check: "crash", outcome: .fail,
        message: "the in-process pass exited with status \(process.terminationStatus) \(after)"))
    }
  }
}
