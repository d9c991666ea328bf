import ArgumentParser
import Foundation
import Model
import YAML

struct DeleteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract: "Delete objects by kind and name, or those a file declares.",
    discussion: """
      hiclaw delete worker alice bob      hiclaw delete worker/alice team/alpha      hiclaw delete -f team.yaml
      Deletion is asynchronous: the host's finalizer tears down containers, accounts and rooms
      first, then removes the object. --wait polls until it is gone.
      Objects are deleted Managers and Workers first, then Teams, then Humans (Teams name their
      admin Humans).
      """)

  @Argument(help: ArgumentHelp("KIND NAME [NAME…], or KIND/NAME …", valueName: "kind-and-names"))
  var arguments: [String] = []

  @Option(name: [.customShort("f"), .customLong("filename")], help: ArgumentHelp("Delete the objects this file, directory or - declares. Repeatable.", valueName: "file"))
  var files: [String] = []

  @Flag(help: "Wait until each object is gone (its cleanup finished).")
  var wait = false

  @Option(help: ArgumentHelp("How long --wait waits in all (30s, 2m, 1h).", valueName: "duration"))
  var timeout: String = "2m"

  @Flag(help: "Treat objects that do not exist as deleted.")
  var ignoreNotFound = false

  @Option(name: .customLong("dry-run"), help: "none or server (the host checks, deletes nothing).")
  var dryRun: DryRunMode = .none

  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    if !files.isEmpty && !arguments.isEmpty { throw ValidationError("give either -f FILE or KIND NAME…, not both") }
    if files.isEmpty && arguments.isEmpty { throw ValidationError("name what to delete: KIND NAME…, KIND/NAME… or -f FILE") }
    if dryRun == .client { throw ValidationError("delete has no client dry run; use --dry-run=server") }
    if Rules.parseDuration(timeout) == nil { throw ValidationError("--timeout \"\(timeout)\": use a duration such as 30s, 2m or 1h") }
    _ = try targets()
  }

  /// The objects named on the command line (files are read in `run`).
  private func targets() throws -> [ManifestReference] {
    guard !arguments.isEmpty else { return [] }
    if arguments[0].contains("/") {
      return try arguments.map { argument in
        let parts = argument.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
          throw ValidationError("\"\(argument)\": write KIND/NAME for every object, or KIND NAME NAME…")
        }
        return ManifestReference(kind: try parseKind(parts[0]), name: parts[1])
      }
    }
    let kind = try parseKind(arguments[0])
    guard arguments.count > 1 else { throw ValidationError("name the \(kind.singular) to delete: hiclaw delete \(kind.singular) NAME") }
    return arguments.dropFirst().map { ManifestReference(kind: kind, name: $0) }
  }

  func run() throws {
    var targets = try targets()
    if !files.isEmpty {
      var reader = ManifestReader()
      targets = reader.references(files)
      reader.warnings.forEach(printError)
      guard reader.errors.isEmpty else {
        reader.errors.forEach(printError)
        throw CLIFailure.failed("error: nothing was deleted")
      }
      targets = targets.enumerated().sorted {
        (ApplyOrder.deletionRank($0.element.kind), $0.offset) < (ApplyOrder.deletionRank($1.element.kind), $1.offset)
      }.map(\.element)
    }
    let client = APIClient(connection: try connection.resolve())
    var failures = 0
    var deleted: [ManifestReference] = []
    for target in targets {
      let response = try client.send("DELETE", path(target), query: dryRun.query)
      if let error = response.serverError {
        if error.status == 404 && ignoreNotFound { continue }
        printError(error.report(subject: target.reference))
        failures += 1
        continue
      }
      emit("\(target.reference) deleted\(dryRun.suffix)")
      deleted.append(target)
    }
    if wait && dryRun == .none && !deleted.isEmpty {
      failures += try waitUntilGone(deleted, client: client)
    }
    if failures > 0 { throw ExitCode(1) }
  }

  private func path(_ target: ManifestReference) -> String {
    "/api/v1/\(target.kind.plural)/\(APIClient.encode(target.name))"
  }

  /// Polls each object until 404, printing progress on standard error whenever its phase or
  /// message changes (what the cleanup is doing); returns the number that did not go in time.
  private func waitUntilGone(_ targets: [ManifestReference], client: APIClient) throws -> Int {
    let limit = Rules.parseDuration(timeout) ?? .seconds(120)
    let deadline = ContinuousClock.now + limit
    var pending = targets
    var lastProgress: [String: String] = [:]
    let started = ContinuousClock.now
    while !pending.isEmpty {
      var stillThere: [ManifestReference] = []
      for target in pending {
        let response = try client.send("GET", path(target))
        if response.status == 404 {
          let seconds = Int((ContinuousClock.now - started).components.seconds)
          printError("\(target.reference) gone after \(seconds)s")
          continue
        }
        if let error = response.serverError { throw CLIFailure.failed(error.report(subject: target.reference)) }
        stillThere.append(target)
        let object = try response.json()
        let progress = [ResourceColumns.displayPhase(object), object.text("status.message")].compactMap { $0 }.joined(separator: ": ")
        if lastProgress[target.reference] != progress {
          lastProgress[target.reference] = progress
          printError("waiting for \(target.reference) to be deleted (\(progress))")
        }
      }
      pending = stillThere
      guard !pending.isEmpty else { break }
      if ContinuousClock.now >= deadline {
        for target in pending {
          printError("error: timed out after \(timeout) waiting for \(target.reference) to be deleted (last: \(lastProgress[target.reference] ?? "unknown")); its cleanup is still running on the host")
        }
        return pending.count
      }
      Thread.sleep(forTimeInterval: 1)
    }
    return 0
  }
}
