import APIServer
import CSystemShims
import DriverHost
import DriverProtocols
import Foundation
import Logging
import Model
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
    let runtimeDriverList: [Driver]
    let runtimes: LoadedRuntimes
    do {
      (runtimeDriverList, runtimes) = try await loadRuntimes(configuration, driverHost: driverHost, logger: logger)
    } catch {
      await instance.destroy()
      _ = await driver.shutdown()
      await store.close()
      throw error
    }

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
      store: store, backend: DriverWorkerBackend(instance: instance), runtimes: runtimes.drivers,
      concurrency: configuration.concurrency, logger: logger)
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
    for runtimeInstance in runtimes.instances { await runtimeInstance.destroy() }
    for runtimeDriver in runtimeDriverList { _ = await runtimeDriver.shutdown() }
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
      guard let found = try await loadNamed(name, directory: directory, driverHost: driverHost) else {
        throw HostStartupError(
          message: "no worker-backend driver \"\(name)\": neither \(directory.manifestURL(for: name).path) nor \(libraryNextToExecutable(name)) exists",
          fix: "install it with `hiclaw driver install libhc_\(name).so`, or pick another --backend")
      }
      driver = found
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

extension Host {
  /// `libhc_<name>.so` next to this executable (a build's products directory).
  static func libraryNextToExecutable(_ name: String) -> String {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    return executable.deletingLastPathComponent().appendingPathComponent("libhc_\(name).so").path
  }

  /// Where a driver named `name` comes from: its manifest in the drivers directory if
  /// installed, else `libhc_<name>.so` next to this executable; nil if neither exists.
  enum NamedDriver {
    case installed(DriverManifest, library: String)
    case bundled(library: String)

    var library: String {
      switch self {
      case .installed(_, let library), .bundled(let library): URL(fileURLWithPath: library).standardizedFileURL.path
      }
    }
  }

  static func locate(_ name: String, directory: DriverDirectory) throws(DriverLoadError) -> NamedDriver? {
    if FileManager.default.fileExists(atPath: directory.manifestURL(for: name).path) {
      let manifest = try DriverManifest.load(from: directory.manifestURL(for: name))
      return .installed(manifest, library: directory.url.appendingPathComponent(manifest.library).path)
    }
    let library = libraryNextToExecutable(name)
    return FileManager.default.fileExists(atPath: library) ? .bundled(library: library) : nil
  }

  /// Loads what ``locate(_:directory:)`` found: with the manifest's isolation, or in process.
  static func load(_ found: NamedDriver, name: String, directory: DriverDirectory, driverHost: DriverHost)
    async throws(DriverLoadError) -> Driver
  {
    switch found {
    case .installed(let manifest, _): try await driverHost.load(manifest: manifest, directory: directory.url)
    case .bundled(let library): try await driverHost.load(library: library, isolation: .inProcess, expectedName: name)
    }
  }

  /// A driver by name (see ``locate(_:directory:)``); nil if there is none.
  static func loadNamed(_ name: String, directory: DriverDirectory, driverHost: DriverHost) async throws(DriverLoadError)
    -> Driver?
  {
    guard let found = try locate(name, directory: directory) else { return nil }
    return try await load(found, name: name, directory: directory, driverHost: driverHost)
  }

  /// The loaded runtime drivers and the instances the reconcilers render with.
  struct LoadedRuntimes {
    var drivers: RuntimeDrivers
    var instances: [DriverInstance]
  }

  /// Loads the agent-runtime drivers: each `--runtime-driver`, then, for every known runtime
  /// none of those serves, its driver found by name (as for the backend). A driver serves the
  /// runtime its `describe` names.
  ///
  /// A bundled driver found by name (`libhc_<runtime>.so` next to this executable) that does
  /// not implement `describe` and `render` — the first-party runtimes are still skeletons — is
  /// unloaded again and its runtime gets the host's defaults. Everything the operator asked for
  /// must work, or the start-up stops with the reason: an explicit `--runtime-driver`, or a
  /// driver installed in the drivers directory, that does not load, cannot render, or serves a
  /// runtime another one already serves. Explicit drivers load first, and no library is loaded
  /// twice: an in-process library, once shut down, cannot be loaded again.
  static func loadRuntimes(_ configuration: HostConfiguration, driverHost: DriverHost, logger: Logger) async throws
    -> ([Driver], LoadedRuntimes)
  {
    let directory = DriverDirectory(url: configuration.effectiveDriversDirectory)
    var kept: [Driver] = []
    var instances: [Runtime: DriverInstance] = [:]
    var loadedLibraries: Set<String> = []

    /// Keeps `driver` if it can render; otherwise unloads it and, if `required`, throws.
    func adopt(_ driver: Driver, required: Bool, source: String) async throws {
      func refuse(_ message: String, fix: String) async throws {
        _ = await driver.shutdown()
        if required { throw HostStartupError(message: "runtime driver \(source): \(message)", fix: fix) }
        logger.debug("runtime driver not used", metadata: ["driver": "\(source)", "reason": "\(message)"])
      }
      let description = driver.description
      guard description.protocols.contains(where: { $0.hasPrefix("hiclaw.agent-runtime/") }) else {
        return try await refuse("it is not an agent-runtime driver (it speaks \(description.protocols))",
          fix: "name an agent-runtime driver")
      }
      guard description.methods.contains("render"), description.methods.contains("describe") else {
        return try await refuse("it does not implement render and describe (methods: \(description.methods))",
          fix: "use a runtime driver that renders agent configuration")
      }
      let instance: DriverInstance
      do {
        instance = try await driver.makeInstance()
      } catch {
        return try await refuse("it refused to make an instance: \(error)", fix: "run `hiclaw driver verify` on it")
      }
      let runtime: Runtime
      do {
        let answer = try await instance.call("describe", "{}", timeout: .seconds(30))
        runtime = Runtime(rawValue: try WireJSON.decode(AgentRuntimeV1.RuntimeDescription.self, from: Data(answer.utf8)).runtime)
      } catch {
        await instance.destroy()
        return try await refuse("describe failed: \(error)", fix: "run `hiclaw driver verify` on it")
      }
      guard runtime.isKnown else {
        await instance.destroy()
        return try await refuse("it serves the runtime \"\(runtime)\", which no resource can name (known: \(Runtime.known))",
          fix: "use a driver for one of the known runtimes")
      }
      guard instances[runtime] == nil else {
        await instance.destroy()
        return try await refuse("another runtime driver already serves \(runtime)", fix: "load one driver per runtime")
      }
      instances[runtime] = instance
      kept.append(driver)
      logger.info("runtime driver ready",
        metadata: ["runtime": "\(runtime)", "driver": "\(description.name)", "version": "\(description.version)"])
    }

    do {
      for entry in configuration.runtimeDrivers {
        let driver: Driver
        do {
          if entry.contains("/") || entry.hasSuffix(".so") {
            let library = URL(fileURLWithPath: entry).standardizedFileURL.path
            guard loadedLibraries.insert(library).inserted else {
              throw HostStartupError(message: "runtime driver \(entry) is named twice", fix: "name each runtime driver once")
            }
            driver = try await driverHost.load(library: library, isolation: .inProcess)
          } else if let found = try locate(entry, directory: directory) {
            guard loadedLibraries.insert(found.library).inserted else {
              throw HostStartupError(message: "runtime driver \(entry) is named twice", fix: "name each runtime driver once")
            }
            driver = try await load(found, name: entry, directory: directory, driverHost: driverHost)
          } else {
            throw HostStartupError(
              message: "no runtime driver \"\(entry)\": neither \(directory.manifestURL(for: entry).path) nor \(libraryNextToExecutable(entry)) exists",
              fix: "install it with `hiclaw driver install`, or give the library's path")
          }
        } catch let error as DriverLoadError {
          throw HostStartupError(message: "cannot load the runtime driver \(entry): \(error)", fix: "run `hiclaw driver verify` on it")
        }
        try await adopt(driver, required: true, source: entry)
      }
      for runtime in Runtime.known where instances[runtime] == nil {
        let found: NamedDriver?
        do {
          found = try locate(runtime.rawValue, directory: directory)
        } catch {
          throw HostStartupError(message: "the installed runtime driver \(runtime) is unusable: \(error)", fix: "reinstall it or remove it")
        }
        guard let found, loadedLibraries.insert(found.library).inserted else { continue }
        let installed = if case .installed = found { true } else { false }
        do {
          let driver = try await load(found, name: runtime.rawValue, directory: directory, driverHost: driverHost)
          try await adopt(driver, required: installed, source: installed ? "\(runtime) (installed)" : found.library)
        } catch let error as DriverLoadError {
          if installed {
            throw HostStartupError(message: "cannot load the installed runtime driver \(runtime): \(error)",
              fix: "run `hiclaw driver verify` on it, or remove it")
          }
          logger.warning("runtime driver not loaded", metadata: ["runtime": "\(runtime)", "error": "\(error)"])
        }
      }
    } catch {
      for instance in instances.values { await instance.destroy() }
      for driver in kept { _ = await driver.shutdown() }
      throw error
    }
    return (kept, LoadedRuntimes(drivers: RuntimeDrivers(instances), instances: Array(instances.values)))
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
