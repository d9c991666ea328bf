import DriverHost
import DriverProtocols
import Foundation
import Model

/// The loaded `hiclaw.agent-runtime/1` drivers that implement `render`, by the runtime they serve
/// (a Worker's `spec.runtime`).
///
/// For each agent whose runtime has a driver here, the reconcilers call `render` and build the
/// container from its answer (image, command, environment, ports) and hand its files to the
/// ``AgentFilesPublisher``; for a runtime without one they use the host's own defaults
/// (``ReconcileSettings/images``), as before runtime drivers existed. `render` is a pure function
/// of its request, so calling it on every reconcile is safe.
public struct RuntimeDrivers: Sendable {
  private let instances: [Runtime: DriverInstance]
  public let callTimeout: Duration

  /// - Parameter instances: one driver instance per runtime id.
  public init(_ instances: [Runtime: DriverInstance] = [:], callTimeout: Duration = .seconds(30)) {
    self.instances = instances
    self.callTimeout = callTimeout
  }

  /// No runtime drivers: every agent gets the host's defaults.
  public static let none = RuntimeDrivers()

  /// The runtimes with a driver, sorted.
  public var runtimes: [Runtime] { instances.keys.sorted() }

  /// True if `runtime` has a driver.
  public func serves(_ runtime: Runtime) -> Bool { instances[runtime] != nil }

  /// The driver's `render` for `request`, or nil if `runtime` has no driver.
  /// - Throws: `DriverCallError` from the driver (`INVALID_ARGUMENT` for a spec the runtime
  ///   cannot run, which the reconcilers treat as terminal), or `INTERNAL` for an answer that
  ///   does not decode.
  public func render(_ runtime: Runtime, _ request: AgentRuntimeV1.RenderRequest) async throws
    -> AgentRuntimeV1.RenderResponse?
  {
    guard let instance = instances[runtime] else { return nil }
    let body = String(decoding: try WireJSON.encode(request), as: UTF8.self)
    let json = try await instance.call("render", body, timeout: callTimeout)
    let response: AgentRuntimeV1.RenderResponse
    do {
      response = try WireJSON.decode(AgentRuntimeV1.RenderResponse.self, from: Data(json.utf8))
    } catch {
      throw DriverCallError(.internal, "the \(runtime) runtime's render answer does not decode: \(WireJSON.describe(error))")
    }
    for (index, file) in response.files.enumerated() {
      if let problem = Self.problem(with: file) {
        throw DriverCallError(.internal, "the \(runtime) runtime rendered files[\(index)] \(file.path.debugDescription): \(problem)")
      }
    }
    for key in response.env.keys.sorted() where !Self.isEnvironmentName(key) {
      throw DriverCallError(.internal,
        "the \(runtime) runtime rendered the environment variable \(key.debugDescription): not a name (letters, digits and _, not starting with a digit)")
    }
    return response
  }

  /// `^[A-Za-z_][A-Za-z0-9_]*$`, the rule for `spec.env` keys.
  static func isEnvironmentName(_ key: String) -> Bool {
    guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
    return key.utf8.allSatisfy { byte in
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }
  }

  /// Why a rendered file cannot be published, or nil. The protocol's rules: a path relative to
  /// the agent's home, without `..` (a file must never land outside the agent's own prefix),
  /// and an octal permission without setuid, setgid or sticky bits (`0644`, `600`).
  static func problem(with file: AgentRuntimeV1.RenderedFile) -> String? {
    let components = file.path.split(separator: "/", omittingEmptySubsequences: false)
    if file.path.isEmpty { return "the path is empty" }
    if file.path.hasPrefix("/") { return "the path is absolute; paths are relative to the agent's home" }
    if components.contains("..") { return "the path leaves the agent's home (..)" }
    if components.contains("") || components.contains(".") { return "the path has empty or . segments" }
    if file.path.utf8.contains(0) { return "the path contains a NUL byte" }
    if let mode = file.mode {
      let digits = mode.count == 4 && mode.hasPrefix("0") ? mode.dropFirst() : Substring(mode)
      guard digits.count == 3, digits.allSatisfy({ ("0"..."7").contains($0) }) else {
        return "the mode \(mode.debugDescription) is not a permission like \"0644\" (no setuid, setgid or sticky bits)"
      }
    }
    return nil
  }
}

/// Where the configuration files a runtime driver renders go: the agent's storage prefix, from
/// which the agent syncs them (upstream keeps them in object storage). The storage issue makes
/// it real; until then ``NoOpFilesPublisher`` drops them.
///
/// Idempotent: called on every reconcile with the full set of files.
public protocol AgentFilesPublisher: Sendable {
  func publish(_ files: [AgentRuntimeV1.RenderedFile], for agent: AgentSubject) async throws
}

/// Publishes nothing.
public struct NoOpFilesPublisher: AgentFilesPublisher {
  public init() {}
  public func publish(_ files: [AgentRuntimeV1.RenderedFile], for agent: AgentSubject) async throws {}
}
