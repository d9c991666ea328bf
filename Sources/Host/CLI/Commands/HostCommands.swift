import ArgumentParser
import DriverHost
import Foundation
import YAML

struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Show the host's mode, object counts and store revision.")

  @Option(name: .shortAndLong, help: "text or json.")
  var output: WorkerCommand.LifecycleOutput = .text

  @OptionGroup var connection: ConnectionOptions

  func run() throws {
    let connection = try connection.resolve()
    let status = try APIClient(connection: connection).call("GET", "/api/v1/status")
    if output == .json {
      emit(status.jsonText(keyOrder: .document, prettyPrinted: true))
      return
    }
    emit("server:    \(connection.server)")
    for (key, value) in status.objectValue ?? JSONObject() {
      let label = (key + ":").padding(toLength: 10, withPad: " ", startingAt: 0)
      emit("\(label) \(value.stringValue ?? value.compactJSON)")
    }
  }
}

struct VersionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "version", abstract: "Print the client's version and the host's.")

  @Flag(help: "Only the client's version (no host contact).")
  var client = false

  @Option(name: .shortAndLong, help: "text or json.")
  var output: WorkerCommand.LifecycleOutput = .text

  @OptionGroup var connection: ConnectionOptions

  func run() throws {
    let clientLine = "hiclaw \(HiclawVersion.current) (driver ABI \(DriverABIVersion.description))"
    if client {
      if output == .json {
        emit(JSONValue.object(["client": .object(["version": .string(HiclawVersion.current), "abiVersion": .string(DriverABIVersion.description)])]).jsonText(prettyPrinted: true))
      } else {
        emit("client: " + clientLine)
      }
      return
    }
    if output == .text { emit("client: " + clientLine) }
    // Like kubectl: the client line first, then the host's (or why it could not be read).
    let server = try APIClient(connection: try connection.resolve()).call("GET", "/api/v1/version")
    if output == .json {
      var answer = JSONObject()
      answer["client"] = .object(["version": .string(HiclawVersion.current), "abiVersion": .string(DriverABIVersion.description)])
      answer["server"] = server
      emit(JSONValue.object(answer).jsonText(prettyPrinted: true))
      return
    }
    emit(
      "server: hiclaw-host \(server.text("version") ?? "?") (API \(server.text("apiVersion") ?? "?"), driver ABI \(server.text("abiVersion") ?? "?"))"
    )
  }
}

struct TokenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token", abstract: "Mint, list and revoke API tokens (admin only).",
    subcommands: [Create.self, List.self, Revoke.self])

  enum Role: String, ExpressibleByArgument, CaseIterable {
    case admin, manager
    case teamLeader = "team-leader"
    case worker
  }

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Mint a token; prints only the token on standard output (it is shown once).",
      discussion: "team-leader tokens need --subject TEAM, worker tokens --subject WORKER.")

    @Option(help: "admin, manager, team-leader or worker.")
    var role: Role

    @Option(help: "The team (team-leader) or worker (worker) the token speaks for.")
    var subject: String?

    @Option(name: .shortAndLong, help: "text or json.")
    var output: WorkerCommand.LifecycleOutput = .text

    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
      if (role == .teamLeader || role == .worker) && subject.nonBlank == nil {
        throw ValidationError("--role \(role.rawValue) needs --subject (the \(role == .worker ? "worker" : "team") it speaks for)")
      }
    }

    func run() throws {
      var request = JSONObject()
      request["role"] = .string(role.rawValue)
      if let subject { request["subject"] = .string(subject) }
      let client = APIClient(connection: try connection.resolve())
      let answer = try client.call("POST", "/api/v1/tokens", json: JSONValue.object(request).jsonData())
      if output == .json {
        emit(answer.jsonText(prettyPrinted: true))
        return
      }
      // The token alone on standard output, so `TOKEN=$(hiclaw token create …)` works.
      printError("token/\(answer.text("id") ?? "?") created (role \(role.rawValue)\(subject.map { ", subject \($0)" } ?? ""))")
      emit(answer.text("token") ?? "")
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

    @Option(name: .shortAndLong, help: "text or json.")
    var output: WorkerCommand.LifecycleOutput = .text

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
      let answer = try APIClient(connection: try connection.resolve()).call("GET", "/api/v1/tokens")
      if output == .json {
        emit(answer.jsonText(prettyPrinted: true))
        return
      }
      let items = answer["items"]?.arrayValue ?? []
      guard !items.isEmpty else {
        printError("No tokens found.")
        return
      }
      var table = TablePrinter(headers: ["ID", "ROLE", "SUBJECT", "AGE"])
      table.print(items.map { [$0.text("id") ?? "-", $0.text("role") ?? "-", $0.text("subject").flatMap(\.nonBlank) ?? "-", age(of: $0.text("createdAt"))] })
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke a token by id; requests with it fail from now on.")

    @Argument(help: "The token's id (see `hiclaw token list`).")
    var id: String

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
      _ = try APIClient(connection: try connection.resolve()).call("DELETE", "/api/v1/tokens/\(APIClient.encode(id))", subject: "token/\(id)")
      emit("token/\(id) revoked")
    }
  }
}
