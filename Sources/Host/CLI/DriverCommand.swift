import ArgumentParser
import DriverConformance
import DriverHost
import Foundation
import Logging

struct DriverCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "driver",
    abstract: "Inspect, verify, install and remove driver libraries.",
    discussion: """
      Drivers live in a drivers directory as <name>.json manifests next to their libraries:
      --drivers-dir, else $HICLAW_DRIVERS_DIR, else $HICLAW_DATA_DIR/drivers, else
      ~/.local/share/hiclaw/drivers.
      """,
    subcommands: [List.self, Verify.self, Install.self, Remove.self])
}

struct DriversDirectoryOption: ParsableArguments {
  @Option(name: .long, help: "The drivers directory.")
  var driversDir: String?

  var directory: DriverDirectory { DriverDirectory.resolve(driversDir) }
}

extension DriverCommand {
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List installed drivers from their manifests (runs no driver code).")
    @OptionGroup var location: DriversDirectoryOption
    @Option(name: .shortAndLong, help: "Output format: table, wide, json or yaml.")
    var output: OutputFormat = .table

    func run() throws {
      let directory = location.directory
      var rows: [[String: Any]] = []
      for (file, result) in directory.manifests() {
        switch result {
        case .success(let manifest):
          let library = directory.url.appendingPathComponent(manifest.library).path
          let checksum: String
          if let actual = try? sha256Hex(ofFile: library) {
            checksum = actual == manifest.sha256 ? "ok" : "MISMATCH"
          } else {
            checksum = "MISSING"
          }
          rows.append([
            "name": manifest.name, "kind": manifest.kind, "version": manifest.version,
            "abi": "\(manifest.abi.major).\(manifest.abi.minMinor)", "isolation": manifest.isolation.rawValue,
            "toolchain": manifest.toolchain, "library": manifest.library, "protocols": manifest.protocols,
            "sha256": manifest.sha256, "checksum": checksum,
          ])
        case .failure(let error):
          printError("warning: skipping \(file.lastPathComponent): \(error)")
        }
      }
      switch output {
      case .json: printJSON(["apiVersion": "hiclaw.io/v1beta1", "kind": "DriverList", "items": rows])
      case .yaml: print(yaml(["apiVersion": "hiclaw.io/v1beta1", "kind": "DriverList", "items": rows]))
      case .table, .wide:
        if rows.isEmpty {
          printError("No drivers found in \(directory.url.path).")
          return
        }
        var headers = ["NAME", "KIND", "VERSION", "ABI", "ISOLATION", "TOOLCHAIN", "CHECKSUM"]
        if output == .wide { headers += ["LIBRARY", "PROTOCOLS"] }
        printTable(headers, rows.map { row in
          var cells = ["name", "kind", "version", "abi", "isolation", "toolchain", "checksum"].map { row[$0] as? String ?? "" }
          if output == .wide {
            cells += [row["library"] as? String ?? "", (row["protocols"] as? [String] ?? []).joined(separator: ",")]
          }
          return cells
        })
      }
    }
  }

  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove an installed driver (its manifest and library).")
    @Argument(help: "The driver's name.") var name: String
    @OptionGroup var location: DriversDirectoryOption

    func run() throws {
      let directory = location.directory
      let manifestURL = directory.manifestURL(for: name)
      guard FileManager.default.fileExists(atPath: manifestURL.path) else {
        printError("error: driver \"\(name)\" is not installed in \(directory.url.path) (see `hiclaw driver list`)")
        throw ExitCode(1)
      }
      if let manifest = try? DriverManifest.load(from: manifestURL) {
        try? FileManager.default.removeItem(at: directory.url.appendingPathComponent(manifest.library))
      }
      try FileManager.default.removeItem(at: manifestURL)
      print("driver/\(name) removed")
    }
  }
}
