import APIServer
import ArgumentParser
import DriverHost
import Foundation
import Logging
import Metrics
import Prometheus
import Reconcile
import ServiceLifecycle
import Store

/// `hiclaw-host`: the control plane daemon. The composition root: it opens the store, loads
/// the worker-backend driver, and runs the API server and the controllers in one
/// `ServiceGroup` that shuts down gracefully on SIGTERM or SIGINT.
@main
struct HiclawHost: AsyncParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "hiclaw-host",
    abstract: "The hiclaw control plane: stores Workers, Teams, Humans and Managers and reconciles them.",
    discussion: """
      Flags win over environment variables (HICLAW_LISTEN, HICLAW_DATA_DIR, HICLAW_BACKEND, \
      HICLAW_BACKEND_CONFIG, HICLAW_DRIVERS_DIR, HICLAW_LOG_LEVEL, HICLAW_CONCURRENCY, \
      HICLAW_RUNTIME_DRIVERS: comma-separated), which win \
      over --config. At first start an admin token is written to <data-dir>/admin.token (mode 0600); \
      the hiclaw CLI reads it from there.
      """,
    version: version)

  @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free port and logs it). Default 127.0.0.1:8090.")
  var listen: String?

  @Option(name: .customLong("data-dir"), help: "Where the store, secrets key, admin token and driver state live. Default ~/.local/share/hiclaw.")
  var dataDir: String?

  @Option(help: "The worker-backend driver to run agents with (a name in the drivers directory, or libhc_<name>.so next to this executable). Default memory.")
  var backend: String?

  @Option(name: .customLong("backend-config"), help: "JSON configuration for the backend driver instance. Default {}.")
  var backendConfig: String?

  @Option(name: .customLong("drivers-dir"), help: "The drivers directory. Default <data-dir>/drivers.")
  var driversDir: String?

  @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical. Default info.")
  var logLevel: String?

  @Option(help: "How many objects of one kind are reconciled at once. Default \(ControllerManager.defaultConcurrency).")
  var concurrency: Int?

  @Option(name: .customLong("runtime-driver"),
    help: "An agent-runtime driver to load (a library path, or a name as for --backend); repeatable. Runtime drivers found by name (libhc_<runtime>.so) are loaded too.")
  var runtimeDriver: [String] = []

  @Option(help: "A YAML file with the same settings (keys: listen, dataDir, backend, backendConfig, driversDir, logLevel, concurrency, runtimeDrivers).")
  var config: String?

  func resolvedConfiguration() throws(ConfigurationError) -> HostConfiguration {
    let environment = ProcessInfo.processInfo.environment
    func setting(_ flag: String?, _ variable: String) -> String? {
      if let flag, !flag.isEmpty { return flag }
      if let value = environment[variable], !value.isEmpty { return value }
      return nil
    }
    var configuration = HostConfiguration(dataDirectory: HostConfiguration.defaultDataDirectory)
    if let config { try configuration.apply(file: config) }
    if let listen = setting(listen, "HICLAW_LISTEN") {
      (configuration.listenHost, configuration.listenPort) = try HostConfiguration.parseListen(listen)
    }
    if let path = setting(dataDir, "HICLAW_DATA_DIR") { configuration.dataDirectory = URL(fileURLWithPath: path) }
    if let name = setting(backend, "HICLAW_BACKEND") { configuration.backend = name }
    if let json = setting(backendConfig, "HICLAW_BACKEND_CONFIG") { configuration.backendConfig = json }
    if let path = setting(driversDir, "HICLAW_DRIVERS_DIR") { configuration.driversDirectory = URL(fileURLWithPath: path) }
    if let level = setting(logLevel, "HICLAW_LOG_LEVEL") { configuration.logLevel = level }
    if !runtimeDriver.isEmpty {
      configuration.runtimeDrivers = runtimeDriver
    } else if let list = environment["HICLAW_RUNTIME_DRIVERS"], !list.isEmpty {
      configuration.runtimeDrivers = list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
    }
    if let text = setting(concurrency.map(String.init), "HICLAW_CONCURRENCY") {
      guard let number = Int(text), number > 0 else {
        throw ConfigurationError("concurrency: expected a positive integer, got \(text)", fix: "for example 4")
      }
      configuration.concurrency = number
    }
    guard Logger.Level(rawValue: configuration.logLevel) != nil else {
      throw ConfigurationError("log level: unknown level \"\(configuration.logLevel)\"",
        fix: "use one of trace, debug, info, notice, warning, error, critical")
    }
    return configuration
  }

  func run() async throws {
    let configuration: HostConfiguration
    do {
      configuration = try resolvedConfiguration()
    } catch {
      FileHandle.standardError.write(Data("hiclaw-host: \(error)\n".utf8))
      throw ExitCode(2)
    }
    let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let logger = Logger(label: "hiclaw.host")
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

    do {
      try await Host.run(configuration: configuration, registry: registry, logger: logger)
    } catch let error as HostStartupError {
      logger.critical("\(error.message)", metadata: ["fix": "\(error.fix)"])
      FileHandle.standardError.write(Data("hiclaw-host: \(error.message) (\(error.fix))\n".utf8))
      throw ExitCode(1)
    }
  }
}

/// Why the host could not start.
struct HostStartupError: Error {
  var message: String
  var fix: String
}
