import Foundation
import Synchronization
import Testing

/// The result of running a command.
struct CommandResult {
  var status: Int32
  var stdout: String
  var stderr: String
  var output: String { stdout + stderr }
}

enum Paths {
  /// The repository root (this file is Tests/CLITests/Support.swift).
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The SwiftPM products directory: `$HICLAW_BUILD_DIR`, else the directory of the test bundle.
  static let products: URL = {
    if let explicit = ProcessInfo.processInfo.environment["HICLAW_BUILD_DIR"], !explicit.isEmpty {
      return URL(fileURLWithPath: explicit)
    }
    var url = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
    while url.path != "/" {
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("hiclaw").path) { return url }
      url.deleteLastPathComponent()
    }
    return repository.appendingPathComponent(".build/debug")
  }()

  static var hiclaw: String { products.appendingPathComponent("hiclaw").path }
  static func library(_ name: String) -> String { products.appendingPathComponent("libhc_\(name).so").path }

  /// C fixture drivers, built once per test process.
  static let fixtures: URL = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-cli-fixtures-\(getpid())")
    let result = run("/usr/bin/make", ["-s", "-C", repository.appendingPathComponent("Tests/Fixtures/Drivers").path, "OUT=\(directory.path)"])
    precondition(result.status == 0, "building the C fixtures failed: \(result.output)")
    return directory
  }()

  static func fixture(_ stem: String) -> String { fixtures.appendingPathComponent("libhc_\(stem).so").path }
}

/// Runs a program to completion, capturing its output.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) -> CommandResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  for (key, value) in environment { env[key] = value }
  process.environment = env
  if let directory { process.currentDirectoryURL = directory }
  // Output goes to files, not pipes: a pipe's write end is inherited by any process another
  // test spawns at the same moment (driver runners, hosts), and reading to EOF would then wait
  // for that process to exit.
  let base = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-cli-\(UUID().uuidString)")
  let outFile = base.appendingPathExtension("out")
  let errFile = base.appendingPathExtension("err")
  FileManager.default.createFile(atPath: outFile.path, contents: nil)
  FileManager.default.createFile(atPath: errFile.path, contents: nil)
  defer {
    try? FileManager.default.removeItem(at: outFile)
    try? FileManager.default.removeItem(at: errFile)
  }
  guard let out = try? FileHandle(forWritingTo: outFile), let err = try? FileHandle(forWritingTo: errFile) else {
    return CommandResult(status: -1, stdout: "", stderr: "cannot create output files in \(base.path)")
  }
  process.standardOutput = out
  process.standardError = err
  process.standardInput = FileHandle.nullDevice
  do { try process.run() } catch { return CommandResult(status: -1, stdout: "", stderr: "\(error)") }
  process.waitUntilExit()
  try? out.close()
  try? err.close()
  return CommandResult(
    status: process.terminationStatus,
    stdout: String(decoding: FileManager.default.contents(atPath: outFile.path) ?? Data(), as: UTF8.self),
    stderr: String(decoding: FileManager.default.contents(atPath: errFile.path) ?? Data(), as: UTF8.self))
}

func hiclaw(_ arguments: String..., environment: [String: String] = [:]) -> CommandResult {
  run(Paths.hiclaw, arguments, environment: environment)
}

/// A temporary directory removed at the end of the test.
final class TemporaryDirectory {
  let url: URL
  init() {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(at: url) }
  var path: String { url.path }
}
