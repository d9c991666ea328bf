import Foundation
import Reconcile
import YAML

/// The daemon's settings: flags win over environment variables, which win over the optional
/// YAML file (`--config`), which wins over the defaults.
///
/// | setting | flag | environment | file key | default |
/// |---|---|---|---|---|
/// | listen address | `--listen` | `HICLAW_LISTEN` | `listen` | `127.0.0.1:8090` |
/// | data directory | `--data-dir` | `HICLAW_DATA_DIR` | `dataDir` | `~/.local/share/hiclaw` |
/// | worker backend driver | `--backend` | `HICLAW_BACKEND` | `backend` | `memory` |
/// | backend driver config (JSON) | `--backend-config` | `HICLAW_BACKEND_CONFIG` | `backendConfig` | `{}` |
/// | drivers directory | `--drivers-dir` | `HICLAW_DRIVERS_DIR` | `driversDir` | `<data-dir>/drivers` |
/// | log level | `--log-level` | `HICLAW_LOG_LEVEL` | `logLevel` | `info` |
/// | reconciles per kind at once | `--concurrency` | `HICLAW_CONCURRENCY` | `concurrency` | `8` |
struct HostConfiguration: Sendable, Equatable {
  var listenHost = "127.0.0.1"
  var listenPort = 8090
  var dataDirectory: URL
  var backend = "memory"
  var backendConfig = "{}"
  var driversDirectory: URL?
  var logLevel = "info"
  var concurrency = ControllerManager.defaultConcurrency
  /// Runtime drivers to load besides the ones found by name (paths to libraries, or names as
  /// for ``backend``); see ``Host/loadRuntimes(_:driverHost:logger:)``.
  var runtimeDrivers: [String] = []

  static var defaultDataDirectory: URL {
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return URL(fileURLWithPath: home).appendingPathComponent(".local/share/hiclaw")
  }

  var effectiveDriversDirectory: URL { driversDirectory ?? dataDirectory.appendingPathComponent("drivers") }
  var adminTokenFile: URL { dataDirectory.appendingPathComponent("admin.token") }
  var storeDirectory: URL { dataDirectory.appendingPathComponent("store") }
  var driverStateDirectory: URL { dataDirectory.appendingPathComponent("driver-state") }

  /// Parses `HOST:PORT` (`[::1]:8090` for IPv6).
  static func parseListen(_ text: String) throws(ConfigurationError) -> (String, Int) {
    guard let colon = text.lastIndex(of: ":") else {
      throw ConfigurationError("listen: expected HOST:PORT, got \"\(text)\"", fix: "for example 127.0.0.1:8090, or 127.0.0.1:0 for a free port")
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
      throw ConfigurationError("listen: expected HOST:PORT with a port 0-65535, got \"\(text)\"", fix: "for example 127.0.0.1:8090")
    }
    return (host, port)
  }

  /// Applies the keys of a YAML configuration file. Unknown keys are errors (with the file,
  /// line and column), as for resources.
  mutating func apply(file path: String) throws(ConfigurationError) {
    let documents: [YAMLDocument]
    do {
      documents = try YAMLDocument.parse(contentsOfFile: path)
    } catch {
      throw ConfigurationError("\(error)", fix: "fix the configuration file")
    }
    guard let document = documents.first else { return }
    let json: JSONValue
    do { json = try document.json() } catch { throw ConfigurationError("\(error)", fix: "fix the configuration file") }
    guard let object = json.objectValue else {
      throw ConfigurationError("\(path): expected a mapping of settings", fix: "see docs/operations.md for the keys")
    }
    for (key, value) in object {
      func string() throws(ConfigurationError) -> String {
        if let text = value.stringValue { return text }
        if let number = value.intValue { return String(number) }
        throw ConfigurationError("\(path): \(key): expected a string", fix: "quote the value")
      }
      switch key {
      case "listen": (listenHost, listenPort) = try Self.parseListen(try string())
      case "dataDir": dataDirectory = URL(fileURLWithPath: try string())
      case "backend": backend = try string()
      case "backendConfig": backendConfig = value.jsonText()
      case "driversDir": driversDirectory = URL(fileURLWithPath: try string())
      case "logLevel": logLevel = try string()
      case "concurrency":
        guard let number = value.intValue, number > 0 else {
          throw ConfigurationError("\(path): concurrency: expected a positive integer", fix: "for example 4")
        }
        concurrency = number
      case "runtimeDrivers":
        let paths = value.arrayValue?.compactMap(\.stringValue)
        guard let paths, paths.count == value.arrayValue?.count else {
          throw ConfigurationError("\(path): runtimeDrivers: expected a list of library paths or driver names",
            fix: "for example [/opt/hiclaw/libhc_hermes.so]")
        }
        runtimeDrivers = paths
      default:
        throw ConfigurationError("\(path): \(key): unknown setting",
          fix: "the settings are listen, dataDir, backend, backendConfig, driversDir, logLevel, concurrency, runtimeDrivers")
      }
    }
  }
}

/// A configuration problem; the daemon prints it and exits with status 2.
struct ConfigurationError: Error, CustomStringConvertible {
  var message: String
  var fix: String
  init(_ message: String, fix: String) {
    self.message = message
    self.fix = fix
  }
  var description: String { "\(message) (\(fix))" }
}
