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
  private let output = Mutex("")
  let extraArguments: [String]

  init(extraArguments: [String] = []) {
    dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-host-\(UUID().uuidString)")
    self.extraArguments = extraArguments
  }

  /// Starts the host and waits until it prints its address and answers `/readyz`.
  func start() async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Products.host)
    process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", dataDirectory.path, "--backend", "memory",
      "--log-level", "warning"] + extraArguments
    var environment = ProcessInfo.processInfo.environment
    for key in environment.keys where key.hasPrefix("HICLAW_") { environment[key] = nil }
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let lines = AsyncStream<String> { continuation in
      pipe.fileHandleForReading.readabilityHandler = { [output] handle in
        let data = handle.availableData
        if data.isEmpty {
          handle.readabilityHandler = nil
          continuation.finish()
          return
        }
        let text = String(decoding: data, as: UTF8.self)
        output.withLock { $0 += text }
        continuation.yield(text)
      }
    }
    try process.run()
    self.process = process
    var seen = ""
    let deadline = ContinuousClock.now.advanced(by: .seconds(60))
    for await chunk in lines {
      seen += chunk
      if let range = seen.range(of: #"listening on (http://127\.0\.0\.1:\d+)"#, options: .regularExpression) {
        let match = String(seen[range])
        url = URL(string: String(match.dropFirst("listening on ".count)))!
        break
      }
      if ContinuousClock.now > deadline { break }
    }
    guard process.isRunning, url.port != 1 else {
      throw HostTestError("hiclaw-host did not start: \(output.withLock { $0 })")
    }
    let ready = await eventually(timeout: .seconds(30)) {
      (try? await self.request("GET", "/readyz", token: nil).status) == 200
    }
    guard ready else { throw HostTestError("hiclaw-host never became ready: \(log)") }
  }

  /// Everything the host printed.
  var log: String { output.withLock { $0 } }

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
  }

  /// SIGKILL: no chance to clean up.
  func kill9() {
    guard let process, process.isRunning else { return }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  func remove() {
    stop()
    try? FileManager.default.removeItem(at: dataDirectory)
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
    let (data, response) = try await URLSession.shared.data(for: request)
    return Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
  }

  /// Runs the `hiclaw` CLI against this host with the admin token.
  func cli(_ arguments: String..., input: String? = nil, token: String? = nil) -> CommandResult {
    runCommand(Products.cli, arguments, environment: [
      "HICLAW_CONTROLLER_URL": url.absoluteString, "HICLAW_TOKEN": token ?? adminToken,
    ], input: input)
  }

  // MARK: The memory backend's persisted world

  struct Instance: Decodable {
    var name: String
    var id: String
    var state: String
    var labels: [String: String]
    var log: [LogLine]
    struct LogLine: Decodable { var text: String }
  }

  /// The backend's instances, read from the driver state the memory backend persists.
  func instances() throws -> [String: Instance] {
    let file = dataDirectory.appendingPathComponent("driver-state/memory.state.json")
    guard let data = FileManager.default.contents(atPath: file.path) else { return [:] }
    let entries = try JSONSerialization.jsonObject(with: data) as? [String: String] ?? [:]
    struct Snapshot: Decodable { var instances: [String: Instance] }
    guard let snapshot = entries["memory/default"] else { return [:] }
    return try JSONDecoder().decode(Snapshot.self, from: Data(snapshot.utf8)).instances
  }
}

struct HostTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Starts a host, runs `body`, removes the host.
func withHost<R>(_ body: (LiveHost) async throws -> R) async throws -> R {
  let host = LiveHost()
  defer { host.remove() }
  try await host.start()
  return try await body(host)
}

/// Waits until `condition` holds, polling every 20 ms.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
  let deadline = ContinuousClock.now.advanced(by: timeout)
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
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
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil)
  -> CommandResult
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  for (key, value) in environment { env[key] = value }
  process.environment = env
  let out = Pipe()
  let err = Pipe()
  let inPipe = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = inPipe
  do { try process.run() } catch { return CommandResult(status: -1, stdout: "", stderr: "\(error)") }
  if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
  try? inPipe.fileHandleForWriting.close()
  let errData = Mutex(Data())
  let reader = Thread { errData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
  reader.start()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
  return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self))
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
