import Foundation

/// A drivers directory: `<name>.json` manifests next to the libraries they name.
public struct DriverDirectory: Sendable {
  public let url: URL

  public init(url: URL) { self.url = url }

  /// `--drivers-dir`, else `$HICLAW_DRIVERS_DIR`, else `$HICLAW_DATA_DIR/drivers`, else
  /// `~/.local/share/hiclaw/drivers`.
  public static func resolve(_ explicit: String?) -> DriverDirectory {
    let environment = ProcessInfo.processInfo.environment
    if let explicit, !explicit.isEmpty { return DriverDirectory(url: URL(fileURLWithPath: explicit)) }
    if let path = environment["HICLAW_DRIVERS_DIR"], !path.isEmpty { return DriverDirectory(url: URL(fileURLWithPath: path)) }
    if let data = environment["HICLAW_DATA_DIR"], !data.isEmpty {
      return DriverDirectory(url: URL(fileURLWithPath: data).appendingPathComponent("drivers"))
    }
    let home = environment["HOME"] ?? NSHomeDirectory()
    return DriverDirectory(url: URL(fileURLWithPath: home).appendingPathComponent(".local/share/hiclaw/drivers"))
  }

  /// One entry per `*.json` file: the manifest, or why it could not be read.
  public func manifests() -> [(file: URL, manifest: Result<DriverManifest, DriverLoadError>)] {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
    return files.filter { $0.hasSuffix(".json") }.sorted().map { file in
      let fileURL = url.appendingPathComponent(file)
      return (fileURL, Result { () throws(DriverLoadError) -> DriverManifest in
        let manifest = try DriverManifest.load(from: fileURL)
        let stem = String(file.dropLast(5))
        guard manifest.name == stem else {
          throw DriverLoadError(.manifest, field: "name", "\(fileURL.path): name \"\(manifest.name)\" differs from the file name \"\(stem)\"",
            fix: "name the manifest file <name>.json")
        }
        return manifest
      })
    }
  }

  public func manifestURL(for name: String) -> URL { url.appendingPathComponent("\(name).json") }
}
