// hiclaw: the operator's command-line tool. This commands manage drivers; the resource
// commands (apply, get, delete …) talk to hiclaw-host's REST API only.
import ArgumentParser
import DriverHost

@main
struct Hiclaw: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hiclaw",
    abstract: "Control plane for teams of AI agents.",
    subcommands: [DriverCommand.self, VersionCommand.self])
}

struct VersionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the hiclaw version.")
  func run() {
    print("hiclaw \(HiclawVersion.current) (driver ABI \(DriverABIVersion.description))")
  }
}
