// hiclaw: the operator's command-line tool. `driver …` manages driver libraries locally; every
// other command talks to hiclaw-host's REST API (docs/api.md) over HTTP and nothing else — the
// CLI never links the store or the reconcilers.
import ArgumentParser
import CCurl
import DriverHost
import Foundation

@main
struct Hiclaw: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hiclaw",
    abstract: "Control plane for teams of AI agents.",
    discussion: """
      The host: --server URL, else $HICLAW_CONTROLLER_URL, else http://127.0.0.1:8090.
      The token: --token, else $HICLAW_TOKEN, else the file $HICLAW_TOKEN_FILE, else
      <data-dir>/admin.token (data dir: $HICLAW_DATA_DIR, else ~/.local/share/hiclaw).
      --server and --token may come before or after the command.
      Exit status: 0 success, 1 refused or failed (server errors, invalid files, host unreachable),
      2 usage errors.
      """,
    subcommands: [
      ApplyCommand.self, GetCommand.self, DescribeCommand.self, DeleteCommand.self, WorkerCommand.self,
      StatusCommand.self, VersionCommand.self, TokenCommand.self, DriverCommand.self,
    ])

  /// ArgumentParser's entry point, adjusted in three ways: `--server`/`--token` before the
  /// command name apply to it (they become the environment the connection options read);
  /// ``CLIFailure`` prints its own message and exits with its code; and usage errors exit 2,
  /// as kubectl's do (ArgumentParser's default is 64).
  static func main() async {
    let arguments = hoistGlobalOptions(Array(CommandLine.arguments.dropFirst()))
    do {
      var command = try parseAsRoot(arguments)
      // A command that talks to the host loads libcurl (and its ~30 libraries) on another core
      // while this thread reads and checks its files (ccurl.h says why it is not linked).
      if talksToTheHost(command) { Thread.detachNewThread { _ = hc_curl_load() } }
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let failure as CLIFailure {
      printError(failure.message)
      Foundation.exit(failure.exitCode)
    } catch {
      if exitCode(for: error) == .validationFailure {
        printError(fullMessage(for: error))
        Foundation.exit(2)
      }
      exit(withError: error)
    }
  }

  /// Whether `command` will make HTTP requests (the driver commands, a client-side dry run and
  /// `version --client` do not).
  static func talksToTheHost(_ command: any ParsableCommand) -> Bool {
    switch command {
    case is DriverCommand, is DriverCommand.List, is DriverCommand.Remove, is DriverCommand.Verify,
      is DriverCommand.Install, is Hiclaw:
      return false
    case let apply as ApplyCommand: return apply.dryRun != .client
    case let version as VersionCommand: return !version.client
    default: return true
    }
  }

  /// Takes `--server X`, `--server=X`, `--token X`, `--token=X` from before the command name and
  /// exports them as HICLAW_CONTROLLER_URL / HICLAW_TOKEN; a flag after the command still wins.
  static func hoistGlobalOptions(_ arguments: [String]) -> [String] {
    let variables = ["--server": "HICLAW_CONTROLLER_URL", "--token": "HICLAW_TOKEN"]
    var rest = arguments[...]
    while let first = rest.first, first.hasPrefix("--") {
      let parts = first.split(separator: "=", maxSplits: 1).map(String.init)
      guard let variable = variables[parts[0]] else { break }
      if parts.count == 2 {
        setenv(variable, parts[1], 1)
        rest = rest.dropFirst()
      } else if rest.count >= 2 {
        setenv(variable, rest[rest.startIndex + 1], 1)
        rest = rest.dropFirst(2)
      } else {
        break
      }
    }
    return Array(rest)
  }
}
