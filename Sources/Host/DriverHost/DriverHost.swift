import DriverABI
import Foundation
import Logging

/// Settings of a ``DriverHost``.
public struct DriverHostConfiguration: Sendable {
  /// Path of `hiclaw-driver-runner`: `$HICLAW_RUNNER`, else next to the running executable.
  public var runnerExecutable: String = DriverHost.defaultRunnerPath()
  /// Parent of each driver's private `state_dir`.
  public var stateDirectory: URL
  /// Threads for blocking driver calls and host-service HTTP.
  public var poolSize: Int = 16
  /// Deadline of calls that do not pass their own; nil for none.
  public var defaultCallTimeout: Duration? = .seconds(60)
  /// Overwrite freed host buffers with 0xDD (conformance runs).
  public var poisonFreedMemory = false
  public var logger: Logger

  public init(stateDirectory: URL, logger: Logger) {
    self.stateDirectory = stateDirectory
    self.logger = logger
  }
}

/// Loads drivers (from manifests or bare libraries) in process or in a runner, and hands out the
/// ``Driver`` façade the rest of the host uses.
///
/// Loading follows driver-abi.md §C.9: manifest → sha256 → (runner) → dlopen → magic → init
/// (minor negotiation) → vtable validation → describe. Libraries are never unloaded.
public final class DriverHost: Sendable {
  public let configuration: DriverHostConfiguration
  public let pool: BlockingPool
  public let services: any HostServiceBackend

  /// The host's own timer thread (driver-call deadlines), if it has started: like the pool's
  /// threads, not a driver's.
  public var deadlineThreadIDs: Set<Int32> { Deadlines.shared.threadIDs }

  public init(
    configuration: DriverHostConfiguration, state: (any DriverStateStore)? = nil,
    secrets: any DriverSecretResolver = NoSecrets(), onEvent: @escaping @Sendable (DriverEvent) -> Void = { _ in }
  ) {
    self.configuration = configuration
    let pool = BlockingPool(size: configuration.poolSize, label: "driver")
    self.pool = pool
    self.services = LocalHostServices(
      logger: configuration.logger,
      state: state ?? FileStateStore(directory: configuration.stateDirectory), secrets: secrets, pool: pool,
      onEvent: onEvent)
  }

  /// `$HICLAW_RUNNER`, or `hiclaw-driver-runner` in the running executable's directory.
  public static func defaultRunnerPath() -> String {
    if let path = ProcessInfo.processInfo.environment["HICLAW_RUNNER"], !path.isEmpty { return path }
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("hiclaw-driver-runner").path
  }

  /// Loads the driver a manifest describes, after checking the library's sha256.
  public func load(manifest: DriverManifest, directory: URL, isolation: DriverIsolation? = nil)
    async throws(DriverLoadError) -> Driver
  {
    let library = directory.appendingPathComponent(manifest.library).path
    let actual = try sha256Hex(ofFile: library)
    guard actual == manifest.sha256 else {
      throw DriverLoadError(.checksum, field: "sha256",
        "\(library) has sha256 \(actual), the manifest says \(manifest.sha256)",
        fix: "the library changed after it was installed; reinstall it with `hiclaw driver install`")
    }
    return try await load(library: library, isolation: isolation ?? manifest.isolation, expectedName: manifest.name)
  }

  /// Loads a library directly (no manifest), e.g. for `hiclaw driver verify`.
  ///
  /// - Parameters:
  ///   - hostMinor: the ABI minor to offer at init (default: this host's).
  ///   - recoverRequest: builds the `recover` request sent after a runner restart, from the
  ///     instance's config. Default `{"known":[]}`.
  public func load(
    library: String, isolation: DriverIsolation, expectedName: String? = nil, hostMinor: UInt32? = nil,
    recoverRequest: @escaping @Sendable (String) -> String = { _ in #"{"known":[]}"# }
  ) async throws(DriverLoadError) -> Driver {
    let path = URL(fileURLWithPath: library).standardizedFileURL.path
    let result: Result<Driver, DriverLoadError> = await withCheckedContinuation { continuation in
      pool.submit { [self] in
        continuation.resume(returning: Result { () throws(DriverLoadError) -> Driver in
          try loadBlocking(path: path, isolation: isolation, expectedName: expectedName, hostMinor: hostMinor,
            recoverRequest: recoverRequest)
        })
      }
    }
    return try result.get()
  }

  private func loadBlocking(
    path: String, isolation: DriverIsolation, expectedName: String?, hostMinor: UInt32?,
    recoverRequest: @escaping @Sendable (String) -> String
  ) throws(DriverLoadError) -> Driver {
    let displayName = expectedName ?? Self.nameGuess(path)
    let stateDirectory = configuration.stateDirectory.appendingPathComponent(displayName).path
    try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
    switch isolation {
    case .inProcess:
      var options = NativeLoadOptions()
      options.expectedName = expectedName
      options.stateDirectory = stateDirectory
      if let hostMinor { options.hostMinor = hostMinor }
      let context = HostContext(driverName: displayName, services: services,
        poisonFreedMemory: configuration.poisonFreedMemory)
      let native = try NativeDriver.load(path: path, context: context, options: options)
      return Driver(name: native.info.magic.name, libraryPath: path, isolation: .inProcess,
        transport: InProcessTransport(native: native, pool: pool), defaultTimeout: configuration.defaultCallTimeout)
    case .process:
      var arguments = RunnerArguments()
      arguments.library = path
      arguments.name = expectedName
      arguments.stateDirectory = stateDirectory
      arguments.poison = configuration.poisonFreedMemory
      arguments.logLevel = Self.abiLevel(configuration.logger.logLevel)
      if let hostMinor { arguments.hostMinor = hostMinor }
      let transport = try RunnerTransport.start(RunnerTransport.Launch(
        executable: configuration.runnerExecutable, arguments: arguments, driverName: displayName,
        backend: services, pool: pool, logger: configuration.logger, recoverRequest: recoverRequest))
      return Driver(name: transport.info.magic.name, libraryPath: path, isolation: .process, transport: transport,
        defaultTimeout: configuration.defaultCallTimeout)
    }
  }

  /// `libhc_docker.so` → `docker`.
  static func nameGuess(_ path: String) -> String {
    var name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    for prefix in ["libhc_", "lib"] where name.hasPrefix(prefix) {
      name.removeFirst(prefix.count)
      break
    }
    return name.isEmpty ? "driver" : name
  }

  static func abiLevel(_ level: Logger.Level) -> Int32 {
    switch level {
    case .trace: Int32(HC_LOG_TRACE)
    case .debug: Int32(HC_LOG_DEBUG)
    case .info: Int32(HC_LOG_INFO)
    case .notice: Int32(HC_LOG_NOTICE)
    case .warning: Int32(HC_LOG_WARNING)
    case .error: Int32(HC_LOG_ERROR)
    case .critical: Int32(HC_LOG_CRITICAL)
    }
  }
}
