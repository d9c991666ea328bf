import ArgumentParser
import Foundation
import YAML

/// `hiclaw worker wake|sleep|ensure-ready|ready|status NAME`: the lifecycle endpoints, which
/// take standalone Workers and Team members alike (by member name).
struct WorkerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "worker",
    abstract: "Wake, sleep or check a worker (standalone or a Team member).",
    subcommands: [Wake.self, Sleep.self, EnsureReady.self, Ready.self, Status.self])

  struct Target: ParsableArguments {
    @Argument(help: "The worker's name (a standalone Worker, or a Team member's name).")
    var name: String

    @Option(name: .shortAndLong, help: "text or json.")
    var output: LifecycleOutput = .text

    @OptionGroup var connection: ConnectionOptions

    var path: String { "/api/v1/workers/\(APIClient.encode(name))" }

    /// Calls one endpoint and prints `worker/NAME phase=…` (or the JSON answer).
    func perform(_ method: String, _ action: String) throws {
      let client = APIClient(connection: try connection.resolve())
      let answer = try client.call(method, path + "/" + action, subject: "worker/\(name)")
      if output == .json {
        emit(answer.jsonText(keyOrder: .document, prettyPrinted: true))
        return
      }
      emit("worker/\(name) " + Self.summary(answer))
    }

    /// `phase=Running state=Running ready=true team=alpha role=worker message="…"`: the fields
    /// the host sent, in a stable order, as key=value.
    static func summary(_ answer: JSONValue) -> String {
      var parts: [String] = []
      for key in ["phase", "state", "ready", "team", "role", "message"] {
        guard let value = answer.text(key), !value.isEmpty else { continue }
        parts.append("\(key)=" + (value.contains(" ") ? "\"\(value)\"" : value))
      }
      return parts.isEmpty ? "ok" : parts.joined(separator: " ")
    }
  }

  enum LifecycleOutput: String, ExpressibleByArgument, CaseIterable {
    case text, json
  }

  struct Wake: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set the worker's desired state to Running.")
    @OptionGroup var target: Target
    func run() throws { try target.perform("POST", "wake") }
  }

  struct Sleep: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set the worker's desired state to Sleeping.")
    @OptionGroup var target: Target
    func run() throws { try target.perform("POST", "sleep") }
  }

  struct EnsureReady: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ensure-ready", abstract: "Wake the worker if it sleeps or stopped; phase Ready once it runs and reported ready.")
    @OptionGroup var target: Target
    func run() throws { try target.perform("POST", "ensure-ready") }
  }

  struct Ready: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Report the worker ready (what the agent itself calls).")
    @OptionGroup var target: Target
    func run() throws {
      let client = APIClient(connection: try target.connection.resolve())
      _ = try client.call("POST", target.path + "/ready", subject: "worker/\(target.name)")
      if target.output == .json {
        emit(#"{"name":\#(JSONValue.string(target.name).compactJSON),"ready":true}"#)
      } else {
        emit("worker/\(target.name) ready reported")
      }
    }
  }

  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the worker's phase, desired state and readiness.")
    @OptionGroup var target: Target
    func run() throws { try target.perform("GET", "status") }
  }
}
