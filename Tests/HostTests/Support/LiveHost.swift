import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Where the built executables are: `$HICLAW_BUILD_DIR`, else the nearest ancestor of the test
/// bundle holding `hiclaw-host`.
enum Products {
  static let directory: URL = {
    if let explicit = ProcessInfo.processInfo.environment["HICLAW_BUILD_DIR"], !explicit.isEmpty {
      return URL(fileURLWithPath: explicit)
    }
    var url = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
    while url.path != "/" {
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("hiclaw-host").path) { return url }
      url.deleteLastPathComponent()
    }
    return repository.appendingPathComponent(".build/debug")
  }()

  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static var host: String { directory.appendingPathComponent("hiclaw-host").path }
  static var cli: String { directory.appendingPathComponent("hiclaw").path }
}

/// A live `hiclaw-host` on 127.0.0.1, port 0, with a temporary data directory and the real
/// in-memory backend driver (`hc_memory`, persisted through the host's driver state, so it
/// survives a restart of the host). Stopped and removed by ``stop()``/``remove()``.
final class LiveHost: @unchecked Sendable {
  let dataDirectory: URL
  private(set) var process: Process?
  private(set) var url: URL = URL(string: "http://127.0.0.1:1")!
  /// One session per host process: a shared session could hand a later host that got the same
  /// port a pooled connection to this one ("Empty reply from server").
  private var session = URLSession(configuration: .ephemeral)
  /// Where the host's stdout and stderr go (kept across restarts).
  let logFile: URL
  let extraArguments: [String]

  init(extraArguments: [String] = []) {
    dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-host-\(UUID().uuidString)")
    logFile = dataDirectory.appendingPathExtension("log")
    self.extraArguments = extraArguments
  }

  /// Starts the host and waits until it prints its address and answers `/readyz`.
  func start() async throws {
    session = URLSession(configuration: .ephemeral)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Products.host)
    process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path, "--backend", "memory",
      "--log-level", "warning"] + extraArguments
    var environment = ProcessInfo.processInfo.environment
    for key in environment.keys where key.hasPrefix("HICLAW_") { environment[key] = nil }
    process.environment = environment
    // The host writes to a file (see runCommand for why not a pipe); poll it for the address.
    FileManager.default.createFile(atPath: logFile.path, contents: nil)
    let handle = try FileHandle(forWritingTo: logFile)
    try handle.seekToEnd()
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    let startOffset = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
    try process.run()
    try? handle.close()
    self.process = process
    let deadline = ContinuousClock.now.advanced(by: .seconds(60))
    while ContinuousClock.now < deadline, process.isRunning {
      let text = String(decoding: (FileManager.default.contents(atPath: logFile.path) ?? Data()).dropFirst(startOffset), as: UTF8.self)
      if let range = text.range(of: #"listening on (http://127\.0\.0\.1:\d+)"#, options: .regularExpression) {
        url = URL(string: String(text[range].dropFirst("listening on ".count)))!
        break
      }
      try await Task.sleep(for: .milliseconds(20))
    }
    guard process.isRunning, url.port != 1 else {
      throw HostTestError("hiclaw-host did not start: \(log)")
    }
    let ready = await eventually(timeout: .seconds(30)) {
      (try? await self.request("GET", "/readyz", token: nil).status) == 200
    }
    guard ready else { throw HostTestError("hiclaw-host never became ready: \(log)") }
  }

  /// Everything the host printed.
  var log: String { String(decoding: FileManager.default.contents(atPath: logFile.path) ?? Data(), as: UTF8.self) }

  /// The admin token the host wrote at first start.
  var adminToken: String {
    (try? String(contentsOf: dataDirectory.appendingPathComponent("admin.token"), encoding: .utf8))?
      .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
  }

  /// SIGTERM (graceful) and wait.
  func stop() {
    guard let process, process.isRunning else { return }
    process.terminate()
    process.waitUntilExit()
    session.invalidateAndCancel()
  }

  /// SIGKILL: no chance to clean up.
  func kill9() {
    guard let process, process.isRunning else { return }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    session.invalidateAndCancel()
  }

  func remove() {
    stop()
    session.invalidateAndCancel()
    try? FileManager.default.removeItem(at: dataDirectory)
    try? FileManager.default.removeItem(at: logFile)
  }

  // MARK: HTTP

  struct Response {
    var status: Int
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
      guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
        throw HostTestError("not a JSON object: \(text)")
      }
      return object
    }
  }

  /// One HTTP request with the admin token unless `token` says otherwise (nil: no header).
  func request(_ method: String, _ path: String, body: Any? = nil, token: String?? = .some(nil)) async throws -> Response {
    var request = URLRequest(url: URL(string: path, relativeTo: url)!)
    request.httpMethod = method
    request.timeoutInterval = 30
    let bearer: String? = switch token {
    case .none: nil
    case .some(.none): adminToken
    case .some(.some(let explicit)): explicit
    }
    if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
    if let body {
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
      if let raw = body as? Data { request.httpBody = raw } else if let text = body as? String {
        request.httpBody = Data(text.utf8)
      } else {
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
      }
    }
    let (data, response) = try await session.data(for: request)
    return Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
  }

  /// Runs the `hiclaw` CLI against this host with the admin token.
  /// Runs the CLI against this host, waiting for it on a thread of its own (a cooperative
  /// thread blocked in `waitUntilExit` is one of only two on this machine).
  func cli(_ arguments: String..., input: String? = nil, token: String? = nil) async -> CommandResult {
    await runCommandOnThread(Products.cli, arguments, environment: [
      "HICLAW_CONTROLLER_URL": url.absoluteString, "HICLAW_TOKEN": token ?? adminToken,
    ], input: input)
  }

  // MARK: The memory backend's persisted world

  struct Instance: Decodable {
    var name: String
    var id: String
    var state: String
    var labels: [String: String]
    var image: String
    var command: [String]?
    var env: [String: String]?
    var log: [LogLine]
    struct LogLine: Decodable { var text: String }
  }

  /// The backend's instances, read from the state the memory backend persists through
  /// hiclaw-host (one key per instance, `memory/default/instances/<id>`, "" once deleted), in
  /// the host's driver state files: a JSON snapshot plus an append-only journal of puts.
  func instances() throws -> [String: Instance] {
    let directory = dataDirectory.appendingPathComponent("driver-state")
    var entries: [String: String] = [:]
    if let data = FileManager.default.contents(atPath: directory.appendingPathComponent("memory.state.json").path) {
      entries = try JSONSerialization.jsonObject(with: data) as? [String: String] ?? [:]
    }
    if let data = FileManager.default.contents(atPath: directory.appendingPathComponent("memory.state.log").path) {
      for line in data.split(separator: UInt8(ascii: "\n")) {
        // The host may be writing the last line right now.
        guard let put = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: String],
          let key = put["k"], let value = put["v"]
        else { continue }
        entries[key] = value
      }
    }
    var instances: [String: Instance] = [:]
    for (key, value) in entries where key.hasPrefix("memory/default/instances/") && !value.isEmpty {
      let instance = try JSONDecoder().decode(Instance.self, from: Data(value.utf8))
      instances[instance.name] = instance
    }
    return instances
  }
}

struct HostTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Starts a host, runs `body`, removes the host.
func withHost<R>(extraArguments: [String] = [], _ body: (LiveHost) async throws -> R) async throws -> R {
  let host = LiveHost(extraArguments: extraArguments)
  defer { host.remove() }
  try await host.start()
  return try await body(host)
}

/// Waits until `condition` holds, polling every 20 ms.
func eventually(
  timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
  let deadline = ContinuousClock.now.advanced(by: timeout)
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: interval)
  }
  return try await condition()
}

struct CommandResult {
  var status: Int32
  var stdout: String
  var stderr: String
  var output: String { stdout + stderr }
}

/// Runs a program to completion, capturing its output.
/// ``runCommand(_:_:environment:input:)`` on a thread of its own, for a command that waits on
/// something the test itself must do meanwhile: blocking a cooperative thread for it could
/// leave the test (and the rest of the suite, on 2 cores) without one.
func runCommandOnThread(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
  input: String? = nil) async -> CommandResult
{
  await withCheckedContinuation { continuation in
    Thread.detachNewThread {
      continuation.resume(returning: runCommand(executable, arguments, environment: environment, input: input))
    }
  }
}

func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil)
  -> CommandResult
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  for (key, value) in environment { env[key] = value }
  process.environment = env
  // Files, not pipes: a pipe's write end is inherited by any process another test spawns at the
  // same moment (hosts live for seconds), and EOF would then wait for that process.
  let base = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-run-\(UUID().uuidString)")
  let files = ["out", "err", "in"].map { base.appendingPathExtension($0) }
  FileManager.default.createFile(atPath: files[0].path, contents: nil)
  FileManager.default.createFile(atPath: files[1].path, contents: nil)
  FileManager.default.createFile(atPath: files[2].path, contents: Data((input ?? "").utf8))
  defer { for file in files { try? FileManager.default.removeItem(at: file) } }
  guard let out = try? FileHandle(forWritingTo: files[0]), let err = try? FileHandle(forWritingTo: files[1]),
    let stdin = input == nil ? FileHandle.nullDevice : try? FileHandle(forReadingFrom: files[2])
  else { return CommandResult(status: -1, stdout: "", stderr: "cannot create files at \(base.path)") }
  process.standardOutput = out
  process.standardError = err
  process.standardInput = stdin
  do { try process.run() } catch { return CommandResult(status: -1, stdout: "", stderr: "\(error)") }
  process.waitUntilExit()
  try? out.close()
  try? err.close()
  return CommandResult(status: process.terminationStatus,
    stdout: String(decoding: FileManager.default.contents(atPath: files[0].path) ?? Data(), as: UTF8.self),
    stderr: String(decoding: FileManager.default.contents(atPath: files[1].path) ?? Data(), as: UTF8.self))
}

/// A Worker manifest.
func workerYAML(_ name: String, model: String = "qwen3", labels: [String: String] = [:]) -> String {
  let labelLines = labels.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)" }.joined(separator: "\n")
  return """
    apiVersion: hiclaw.io/v1beta1
    kind: Worker
    metadata:
      name: \(name)
    \(labels.isEmpty ? "" : "  labels:\n" + labelLines)
    spec:
      model: \(model)
    """
}

/// A Worker object for the REST API.
func workerJSON(_ name: String, model: String = "qwen3", resourceVersion: String? = nil) -> [String: Any] {
  var metadata: [String: Any] = ["name": name]
  if let resourceVersion { metadata["resourceVersion"] = resourceVersion }
  return ["apiVersion": "hiclaw.io/v1beta1", "kind": "Worker", "metadata": metadata, "spec": ["model": model]]
}
