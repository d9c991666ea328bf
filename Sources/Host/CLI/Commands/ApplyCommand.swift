import ArgumentParser
import Foundation
import Model
import YAML

struct ApplyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Create or update objects from YAML files.",
    discussion: """
      Every document of every file is checked first (YAML syntax, the schema, validation); if any
      is bad, each problem is printed as file:line:column: field.path: message and nothing is sent.
      Objects are then sent in dependency order, not file order: Humans that Teams name as admin or
      human members, Teams, Workers, the other Humans, Managers. Each object is one PUT, which creates
      it when absent; objects of the same group are sent --concurrency at a time (a group waits for
      the one before it). Output, in that order: <kind>/<name> created|configured|unchanged.

      --dry-run=client checks the files without contacting the host and prints the order it would
      apply them in (<kind>/<name> validated (dry run)); --dry-run=server has the host check and
      default each object and write nothing.

      --prune -l key=value then deletes the objects of the applied kinds that carry that label but
      are not in the files. Pruning is skipped when any object failed to apply.
      """)

  @Option(name: [.customShort("f"), .customLong("filename")], help: ArgumentHelp("A file, a directory of *.yaml/*.yml/*.json files, or - for standard input. Repeatable.", valueName: "file"))
  var files: [String] = []

  @Option(name: .customLong("dry-run"), help: "none, client (no host contact) or server (the host checks, writes nothing).")
  var dryRun: DryRunMode = .none

  @Flag(help: "Delete objects of the applied kinds that match -l but are not in the files.")
  var prune = false

  @Option(name: [.customShort("l"), .customLong("selector")], help: ArgumentHelp("The label selector of --prune (key=value,…).", valueName: "selector"), transform: { try LabelSelector($0) })
  var selector: LabelSelector?

  @Flag(help: "Warn about unknown or repeated fields and drop them, instead of refusing the document.")
  var lenient = false

  @Option(help: "How many objects of one dependency group are sent at a time (1: one after the other).")
  var concurrency = 8

  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    if files.isEmpty { throw ValidationError("apply needs at least one -f FILE (a file, a directory or - for standard input)") }
    if prune && selector == nil { throw ValidationError("--prune needs -l key=value: it only deletes objects carrying that label") }
    if !prune && selector != nil { throw ValidationError("-l only selects what --prune deletes; add --prune or drop -l") }
    if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-f -) can be given only once") }
    if concurrency < 1 || concurrency > 64 { throw ValidationError("--concurrency must be between 1 and 64, got \(concurrency)") }
  }

  func run() throws {
    var reader = ManifestReader(mode: lenient ? .lenient : .strict)
    let manifests = reader.manifests(files)
    reader.warnings.forEach(printError)
    guard reader.errors.isEmpty else {
      reader.errors.forEach(printError)
      let count = reader.errors.count
      throw CLIFailure.failed("error: \(count) problem\(count == 1 ? "" : "s") found; nothing was applied")
    }
    guard !manifests.isEmpty else { throw CLIFailure.failed("error: no objects passed to apply") }
    let ordered = ApplyOrder.sorted(manifests)

    if dryRun == .client {
      let output = LineBatch()
      for manifest in ordered { output.add("\(manifest.reference) validated\(dryRun.suffix)") }
      output.flush()
      if prune {
        printError("note: --dry-run=client prunes nothing: what to prune depends on the host's objects (use --dry-run=server)")
      }
      return
    }

    let client = APIClient(connection: try connection.resolve())
    var failures = 0
    let output = LineBatch()
    defer { output.flush() }
    for group in ApplyOrder.groups(ordered) {
      var transportFailure: CLIFailure?
      let requests = group.map { manifest in
        APIRequest(method: "PUT", path: "/api/v1/\(manifest.kind.plural)/\(APIClient.encode(manifest.name))",
          query: dryRun.query, body: manifest.body)
      }
      client.sendAll(requests, parallel: concurrency) { index, result in
        let manifest = group[index]
        switch result {
        case .success(let response):
          if let error = response.serverError {
            failures += 1
            output.flush()
            printError(error.report(subject: manifest.reference) { manifest.location(of: $0) })
          } else {
            output.add("\(manifest.reference) \(Self.outcome(of: response).rawValue)\(dryRun.suffix)")
          }
        case .failure(let failure):
          if transportFailure == nil { transportFailure = failure }
        }
      } beforeWaiting: {
        output.flush()
      }
      output.flush()
      // A transport failure (the host went away) stops the apply, as before.
      if let transportFailure { throw transportFailure }
    }
    if prune, let selector {
      if failures > 0 {
        printError("error: --prune skipped: \(failures) object\(failures == 1 ? "" : "s") failed to apply, so the set in the files is not what the host has")
      } else {
        failures += try pruneObjects(except: ordered, selector: selector, client: client)
      }
    }
    if failures > 0 { throw ExitCode(1) }
  }

  enum Outcome: String {
    case created, configured, unchanged
  }

  /// What a successful PUT did: the host says it in the `Hiclaw-Outcome` header (docs/api.md).
  static func outcome(of response: APIResponse) -> Outcome {
    if let said = response.outcome.flatMap(Outcome.init(rawValue:)) { return said }
    // A host without the header: the status tells created from the rest.
    return response.status == 201 ? .created : .configured
  }

  /// Deletes the labelled objects of the applied kinds that the files do not contain; returns the
  /// number of failures.
  private func pruneObjects(except applied: [Manifest], selector: LabelSelector, client: APIClient) throws -> Int {
    let kept = Set(applied.map(\.reference))
    let kinds = Set(applied.map(\.kind)).sorted { ApplyOrder.deletionRank($0) < ApplyOrder.deletionRank($1) }
    var failures = 0
    for kind in kinds {
      let list = try client.call("GET", "/api/v1/\(kind.plural)", query: [("labelSelector", selector.description)])
      for item in list["items"]?.arrayValue ?? [] {
        guard let name = item.text("metadata.name"), !kept.contains("\(kind.singular)/\(name)") else { continue }
        // Already being deleted: its finalizer is running, nothing to do.
        if item.text("metadata.deletionTimestamp") != nil { continue }
        // The host does not filter by label for us in every version; check again here.
        guard selector.matches(item.labels) else { continue }
        let response = try client.send("DELETE", "/api/v1/\(kind.plural)/\(APIClient.encode(name))", query: dryRun.query)
        if let error = response.serverError, error.status != 404 {
          printError(error.report(subject: "\(kind.singular)/\(name)"))
          failures += 1
        } else {
          emit("\(kind.singular)/\(name) pruned\(dryRun.suffix)")
        }
      }
    }
    return failures
  }
}
