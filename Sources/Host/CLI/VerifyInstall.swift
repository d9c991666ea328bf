import ArgumentParser
import DriverConformance
import DriverHost
import DriverProtocols
import Foundation

enum VerifyMode: String, ExpressibleByArgument, CaseIterable {
  case both
  case inProcess = "in-process"
  case runner

  var isolations: [DriverIsolation] {
    switch self {
    case .both: [.inProcess, .process]
    case .inProcess: [.inProcess]
    case .runner: [.process]
    }
  }
}

enum VerifyOutput: String, ExpressibleByArgument, CaseIterable { case text, json }

/// One printed line per check: `PASS  runner      call.ping           OK {…}`.
func printCheck(_ result: CheckResult) {
  let outcome = ["pass": "PASS", "fail": "FAIL", "skip": "SKIP"][result.outcome.rawValue]!
  let mode = result.mode == "process" ? "runner" : result.mode
  print("\(outcome)  \(mode.padding(toLength: 10, withPad: " ", startingAt: 0))  \(result.check.padding(toLength: 22, withPad: " ", startingAt: 0))  \(result.message)")
}

/// `12 checks passed, 0 failed, 3 skipped` — worded so that test-log scanners do not mistake it
/// for a test runner's summary.
func summary(_ results: [CheckResult]) -> String {
  let passed = results.filter { $0.outcome == .pass }.count
  let failed = results.filter { $0.outcome == .fail }.count
  let skipped = results.filter { $0.outcome == .skip }.count
  return "\(passed) checks passed, \(failed) failed, \(skipped) skipped"
}

extension DriverCommand {
  struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run the driver conformance suite against a library or manifest.",
      discussion: """
        Checks the manifest and exported symbols, then loads the driver in process (inside a
        child process, so a crash is reported, not suffered) and through hiclaw-driver-runner,
        and exercises it through the C ABI: negotiation, describe, errors, async completion,
        concurrency, the protocol methods it declares, shutdown and memory balance.
        Exits non-zero if any check fails.
        """)

    @Argument(help: "A driver library (.so) or its manifest (.json).") var path: String
    @Option(help: "Which isolation modes to exercise: both, in-process or runner.") var mode: VerifyMode = .both
    @Option(help: "Seconds each call (and each in-process check) may take.") var timeout: Int = 10
    @Option(name: .shortAndLong, help: "Output format: text or json.") var output: VerifyOutput = .text
    @Flag(help: .hidden) var child = false

    func run() async throws {
      let target: VerificationTarget
      do {
        target = try VerificationTarget(path: path)
      } catch {
        printError("error: \(error)")
        throw ExitCode(2)
      }
      if child {
        await Verification.runChildPass(target: target)
        return
      }
      let text = output == .text
      if text { print("Verifying \(target.library)") }
      let results = await Verification(target: target, modes: mode.isolations, timeout: .seconds(timeout)) { result in
        if text { printCheck(result) }
      }.run()
      if text {
        print(summary(results))
      } else {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let report = VerifyReport(library: target.library, checks: results,
          passed: results.filter { $0.outcome == .pass }.count, failed: results.filter { $0.outcome == .fail }.count,
          skipped: results.filter { $0.outcome == .skip }.count)
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
      }
      if results.contains(where: { $0.outcome == .fail }) { throw ExitCode(1) }
    }
  }

  struct VerifyReport: Codable {
    var library: String
    var checks: [CheckResult]
    var passed: Int
    var failed: Int
    var skipped: Int
  }

  struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Verify a driver library and install it into the drivers directory.",
      discussion: """
        Runs the conformance suite first and refuses a driver that fails any check. Copies the
        library into the drivers directory and writes <name>.json with its sha256. Third-party
        drivers default to process isolation; use --isolation in-process only for drivers you
        trust not to crash.
        """)

    @Argument(help: "The driver library (.so).") var library: String
    @Option(help: "A manifest to install with the library (its fields must agree with the driver).") var manifest: String?
    @Option(help: "process (default) or in-process.") var isolation: DriverIsolation?
    @Option(help: "Seconds each verification call may take.") var timeout: Int = 10
    @OptionGroup var location: DriversDirectoryOption

    func run() async throws {
      let source: VerificationTarget
      var given: DriverManifest?
      do {
        source = try VerificationTarget(path: library)
        if let manifest { given = try DriverManifest.load(from: URL(fileURLWithPath: manifest)) }
      } catch {
        printError("error: \(error)")
        throw ExitCode(2)
      }
      let target = source
      print("Verifying \(source.library)")
      let results = await Verification(target: target, modes: [.inProcess, .process], timeout: .seconds(timeout)) { _ in }.run()
      let failures = results.filter { $0.outcome == .fail }
      guard failures.isEmpty else {
        for failure in failures { printCheck(failure) }
        printError("error: refusing to install \(source.library): \(summary(results)) (run `hiclaw driver verify \(source.library)` for every check)")
        throw ExitCode(1)
      }
      print(summary(results))

      // Read the driver's identity through a runner (no driver code runs in this process).
      let (host, state) = Verification.makeHost(poison: false, timeout: .seconds(timeout))
      defer { try? FileManager.default.removeItem(at: state) }
      let info: DriverInfo
      do {
        let driver = try await host.load(library: source.library, isolation: .process)
        info = driver.info
        await driver.shutdown()
      } catch {
        printError("error: \(error)")
        throw ExitCode(1)
      }
      let description = info.description
      if let given {
        var problems: [String] = []
        if given.name != info.magic.name { problems.append("name: manifest \"\(given.name)\", driver \"\(info.magic.name)\"") }
        if given.kind != description.kind.rawValue { problems.append("kind: manifest \(given.kind), driver \(description.kind.rawValue)") }
        if given.version != info.magic.version { problems.append("version: manifest \(given.version), driver \(info.magic.version)") }
        if Set(given.protocols) != Set(description.protocols) {
          problems.append("protocols: manifest \(given.protocols), driver \(description.protocols)")
        }
        guard problems.isEmpty else {
          printError("error: the manifest does not match the driver: \(problems.joined(separator: "; "))")
          throw ExitCode(1)
        }
      }

      let directory = location.directory
      let fileName = URL(fileURLWithPath: source.library).lastPathComponent
      let destination = directory.url.appendingPathComponent(fileName)
      let manifestURL = directory.manifestURL(for: info.magic.name)
      let newManifest = DriverManifest(
        name: info.magic.name, kind: description.kind.rawValue, library: fileName,
        abi: .init(major: info.magic.abiMajor, minMinor: info.negotiatedMinor), protocols: description.protocols,
        version: info.magic.version, toolchain: info.magic.toolchain, sha256: try sha256Hex(ofFile: source.library),
        isolation: isolation ?? given?.isolation ?? .process)
      let previous = try? DriverManifest.load(from: manifestURL)
      let libraryUnchanged = (try? sha256Hex(ofFile: destination.path)) == newManifest.sha256
      if previous == newManifest && libraryUnchanged {
        print("driver/\(newManifest.name) unchanged")
        return
      }
      try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true)
      try replaceAtomically(destination, with: FileManager.default.contents(atPath: source.library) ?? Data(), mode: 0o755)
      try replaceAtomically(manifestURL, with: newManifest.encoded() + Data("\n".utf8), mode: 0o644)
      print("driver/\(newManifest.name) \(previous == nil ? "installed" : "configured")")
    }
  }
}

extension DriverIsolation: ExpressibleByArgument {}

/// Writes `data` next to `url` and renames it into place, so readers never see half a file.
func replaceAtomically(_ url: URL, with data: Data, mode: Int) throws {
  let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
  guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: mode]) else {
    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
  }
  guard rename(temporary.path, url.path) == 0 else {
    let reason = String(cString: strerror(errno))
    try? FileManager.default.removeItem(at: temporary)
    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: reason])
  }
}
