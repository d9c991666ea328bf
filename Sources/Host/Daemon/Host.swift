import APIServer
import CSystemShims
import DriverHost
import Foundation
import Logging
import Prometheus
import Reconcile
import ServiceLifecycle
import Store

/// Wires the host together and runs it until SIGTERM/SIGINT.
enum Host {
  static func run(configuration: HostConfiguration, registry: PrometheusCollectorRegistry, logger: Logger) async throws {
    try prepareDataDirectory(configuration.dataDirectory)

    let store: Store
    do {
      store = try Store(configuration: StoreConfiguration(directory: configuration.storeDirectory))
    } catch {
      throw HostStartupError(message: "cannot open the store in \(configuration.storeDirectory.path): \(error.message)", fix: error.fix)
    }
    try await ensureAdminToken(store: store, file: configuration.adminTokenFile, logger: logger)

    let driverHost = DriverHost(
      configuration: DriverHostConfiguration(stateDirectory: configuration.driverStateDirectory, logger: logger))
    let (driver, instance) = try await loadBackend(configuration, driverHost: driverHost, logger: logger)

    var apiConfiguration = APIServerConfiguration()
    apiConfiguration.host = configuration.listenHost
    apiConfiguration.port = configuration.listenPort
    apiConfiguration.version = HiclawHost.version
    let api = APIServer(store: store, configuration: apiConfiguration, registry: registry, logger: logger)
    let host = configuration.listenHost.contains(":") ? "[\(configuration.listenHost)]" : configuration.listenHost
    let application = api.makeApplication { port in
      // Tests and scripts read this line to find a port-0 listener.
      logger.notice("listening on http://\(host):\(port)")
      FileHandle.standardOutput.write(Data("hiclaw-host listening on http://\(host):\(port)\n".utf8))
    }
    let controllers = ControllerManager(
      store: store, backend: DriverWorkerBackend(instance: instance), concurrency: configuration.concurrency, logger: logger)
    let controllerService = ControllerService(manager: controllers, onStart: { api.setReady(true) })

    var groupConfiguration = ServiceGroupConfiguration(
      services: [
        .init(service: application),
        .init(service: controllerService),
        .init(service: MemoryReleaseService()),
      ],
      gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger)
    // A client that stops reading a watch, or stalls a request body, must not hold the host up
    // forever: after 30 s of graceful shutdown the services are cancelled.
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
    groupConfiguration.maximumCancellationDuration = .seconds(10)
    let group = ServiceGroup(configuration: groupConfiguration)
    defer { _ = driver }
    do {
      try await group.run()
    } catch {
      logger.error("the host stopped with an error", metadata: ["error": "\(error)"])
    }
    api.setReady(false)
    await instance.destroy()
    _ = await driver.shutdown()
    await store.close()
    logger.notice("stopped")
  }

  static func prepareDataDirectory(_ url: URL) throws {
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      // Also when it already existed (`hiclaw driver install` may have created it first).
      try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path)
    } catch {
      throw HostStartupError(message: "cannot create the data directory \(url.path): \(error.localizedDescription)",
        fix: "choose a writable --data-dir")
    }
  }

  /// At first start (or when the token on file no longer verifies, e.g. after the store was
  /// reset) mints an admin token and writes it to `admin.token` with mode 0600.
  static func ensureAdminToken(store: Store, file: URL, logger: Logger) async throws {
    if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
      !existing.isEmpty, (try? await store.verifyToken(existing))?.role == "admin"
    {
      return
    }
    let issued = try await store.createToken(role: "admin", subject: "admin")
    let temporary = file.deletingLastPathComponent().appendingPathComponent(".admin.token.\(getpid())")
    guard FileManager.default.createFile(atPath: temporary.path, contents: Data((issued.token + "\n").utf8),
      attributes: [.posixPermissions: 0o600])
    else {
      throw HostStartupError(message: "cannot write \(file.path)", fix: "check the permissions of the data directory")
    }
    // rename(2) replaces atomically: a reader sees the old token or the new one, never half.
    guard rename(temporary.path, file.path) == 0 else {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw HostStartupError(message: "cannot write \(file.path): \(reason)", fix: "check the permissions of the data directory")
    }
    logger.notice("wrote a new admin token", metadata: ["file": "\(file.path)"])
  }

  /// Loads the backend driver: from its manifest in the drivers directory if installed, else
  /// `libhc_<name>.so` next to this executable (a build's products directory), in process.
  static func loadBackend(_ configuration: HostConfiguration, driverHost: DriverHost, logger: Logger)
    async throws -> (Driver, DriverInstance)
  {
    let name = configuration.backend
    let directory = DriverDirectory(url: configuration.effectiveDriversDirectory)
    let driver: Driver
    do {
      if FileManager.default.fileExists(atPath: directory.manifestURL(for: name).path) {
        let manifest = try DriverManifest.load(from: directory.manifestURL(for: name))
        driver = try await driverHost.load(manifest: manifest, directory: directory.url)
      } else {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let library = executable.deletingLastPathComponent().appendingPathComponent("libhc_\(name).so").path
        guard FileManager.default.fileExists(atPath: library) else {
          throw HostStartupError(
            message: "no worker-backend driver \"\(name)\": neither \(directory.manifestURL(for: name).path) nor \(library) exists",
            fix: "install it with `hiclaw driver install libhc_\(name).so`, or pick another --backend")
        }
        driver = try await driverHost.load(library: library, isolation: .inProcess, expectedName: name)
      }
    } catch let error as DriverLoadError {
      throw HostStartupError(message: "cannot load the backend driver \"\(name)\": \(error)", fix: "run `hiclaw driver verify` on it")
    }
    guard driver.description.protocols.contains(where: { $0.hasPrefix("hiclaw.worker-backend/") }) else {
      throw HostStartupError(message: "the driver \"\(name)\" is not a worker backend (it speaks \(driver.description.protocols))",
        fix: "pick a worker-backend driver with --backend")
    }
    do {
      let instance = try await driver.makeInstance(config: configuration.backendConfig)
      logger.info("worker backend ready", metadata: ["driver": "\(name)", "version": "\(driver.description.version)"])
      return (driver, instance)
    } catch {
      throw HostStartupError(message: "the backend driver \"\(name)\" refused its configuration: \(error)",
        fix: "fix --backend-config")
    }
  }
}

/// Runs the controllers as a ServiceLifecycle service: until graceful shutdown starts.
struct ControllerService: Service {
  let manager: ControllerManager
  let onStart: @Sendable () -> Void

  func run() async throws {
    onStart()
    await withGracefulShutdownHandler {
      await cancelWhenGracefulShutdown { await manager.run() }
    } onGracefulShutdown: {}
  }
}

/// Every few seconds hands the heap's free memory back to the kernel. glibc keeps what a burst
/// (an apply of a thousand objects, a long watch replay) freed, so without this an idle host
/// stays at its peak RSS. `malloc_trim` of a mostly free heap costs well under a millisecond.
struct MemoryReleaseService: Service {
  var interval: Duration = .seconds(3)

  func run() async throws {
    await cancelWhenGracefulShutdown {
      while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        hc_release_free_memory()
      }
    }
  }
}
