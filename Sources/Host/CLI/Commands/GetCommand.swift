import ArgumentParser
import Foundation
import Model
import YAML

struct GetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "get",
    abstract: "List objects of a kind, or show one.",
    discussion: """
      KIND is worker(s)/wk, team(s)/tm, human(s)/hm or manager(s)/mgr.
      -w streams changes after the listing: one table row per change (PHASE Deleted for a deletion),
      or with -o json one object per line. The watch resumes where it stopped when the connection
      drops.
      """)

  @Argument(help: "worker(s)/wk, team(s)/tm, human(s)/hm, manager(s)/mgr", transform: parseKind)
  var kind: Kind

  @Argument(help: "One object's name (all objects of the kind when left out).")
  var name: String?

  @Option(name: .shortAndLong, help: "table, wide, json or yaml.")
  var output: OutputFormat = .table

  @Option(name: [.customShort("l"), .customLong("selector")], help: ArgumentHelp("Only objects whose labels match (key=value,key!=value,key,!key).", valueName: "selector"), transform: { try LabelSelector($0) })
  var selector: LabelSelector?

  @Flag(name: [.customShort("w"), .long], help: "After listing, stream changes until interrupted.")
  var watch = false

  @OptionGroup var connection: ConnectionOptions

  func validate() throws {
    if name != nil && selector != nil { throw ValidationError("a name and -l cannot be combined: the name already picks one object") }
  }

  func run() throws {
    let client = APIClient(connection: try connection.resolve())
    var printer = ObjectPrinter(kind: kind, format: output, streaming: watch)
    var resourceVersion: String?
    if let name {
      let object = try client.call("GET", objectPath(name), subject: "\(kind.singular)/\(name)")
      printer.printObject(object)
      resourceVersion = object.text("metadata.resourceVersion")
    } else {
      resourceVersion = try list(client: client, printer: &printer, announceEmpty: !watch)
    }
    guard watch else { return }
    try watchChanges(client: client, printer: &printer, from: resourceVersion)
  }

  private var collection: String { "/api/v1/\(kind.plural)" }
  private func objectPath(_ name: String) -> String { "\(collection)/\(APIClient.encode(name))" }

  /// Lists and prints; returns the revision the list was read at (where a watch continues).
  private func list(client: APIClient, printer: inout ObjectPrinter, announceEmpty: Bool) throws -> String? {
    let query = selector.map { [("labelSelector", $0.description)] } ?? []
    let list = try client.call("GET", collection, query: query)
    let items = (list["items"]?.arrayValue ?? []).filter { selector?.matches($0.labels) ?? true }
    printer.printList(list, items: items, announceEmpty: announceEmpty, streaming: watch)
    return list.text("metadata.resourceVersion")
  }

  /// Follows `?watch=1` from `resourceVersion`, reconnecting from the last revision seen when the
  /// stream ends or breaks, and listing again when that revision was compacted away (410).
  private func watchChanges(client: APIClient, printer: inout ObjectPrinter, from start: String?) throws {
    var resourceVersion = start
    var consecutiveFailures = 0
    var localPrinter = printer
    defer { printer = localPrinter }
    while true {
      var query = [("watch", "1")]
      if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
      var sawEvent = false
      var expired = false
      let end: StreamEnd
      do {
        end = try client.stream(collection, query: query) { line in
        let event: JSONValue
        do { event = try JSONText.parse(line) } catch {
          throw CLIFailure.failed("error: the watch stream sent a line that is not JSON (\(error))")
        }
        sawEvent = true
        let type = event.text("type") ?? ""
        let object = event["object"] ?? .null
        if type == "ERROR" {
          if object["code"]?.intValue == 410 || object.text("reason") == "Expired" {
            expired = true
            throw WatchRestart()
          }
          throw CLIFailure.failed("error: the watch failed: \(object.text("message") ?? object.compactJSON)")
        }
        if let version = object.text("metadata.resourceVersion") { resourceVersion = version }
        guard type != "BOOKMARK" else { return }
        if let name, object.text("metadata.name") != name { return }
        if let selector, !selector.matches(object.labels) { return }
        localPrinter.printEvent(type: type, object: object)
        }
      } catch is WatchRestart {
        end = .closed
      }
      switch end {
      case .closed:
        consecutiveFailures = 0
        // A host that keeps closing streams at once must not make us spin.
        if !sawEvent { Thread.sleep(forTimeInterval: 1) }
      case .rejected(let error) where error.status == 410:
        expired = true
      case .rejected(let error):
        throw CLIFailure.failed(error.report())
      case .broken(let message):
        consecutiveFailures = sawEvent ? 1 : consecutiveFailures + 1
        if consecutiveFailures > 10 { throw CLIFailure.failed(message + "\nerror: gave up watching after 10 failed reconnects") }
        if consecutiveFailures == 1 { printError("warning: the watch was interrupted; reconnecting from revision \(resourceVersion ?? "now")") }
        Thread.sleep(forTimeInterval: min(30, Double(1 << min(consecutiveFailures - 1, 5))))
      }
      if expired {
        // History before our revision is gone: list again for the current state, then go on.
        if let name {
          let object = try client.call("GET", objectPath(name), subject: "\(kind.singular)/\(name)")
          localPrinter.printEvent(type: "MODIFIED", object: object)
          resourceVersion = object.text("metadata.resourceVersion")
        } else {
          resourceVersion = try list(client: client, printer: &localPrinter, announceEmpty: false)
        }
      }
    }
  }

  /// Thrown from the line handler to end a stream whose revision expired.
  private struct WatchRestart: Error {}
}

/// Prints objects of one kind as a table (rows line up across calls), JSON or YAML.
struct ObjectPrinter {
  let kind: Kind
  let format: OutputFormat
  private var table: TablePrinter

  /// `streaming`: rows keep coming (a watch), so columns start wide enough for common values
  /// and later rows stay aligned with the first.
  init(kind: Kind, format: OutputFormat, streaming: Bool = false) {
    self.kind = kind
    self.format = format
    let minimumWidths = streaming ? ["NAME": 16, "PHASE": 11, "MODEL": 14, "RUNTIME": 8, "STATE": 8, "LEADER": 12] : [:]
    table = TablePrinter(headers: ResourceColumns.headers(kind, wide: format == .wide), minimumWidths: minimumWidths)
  }

  mutating func printObject(_ object: JSONValue) {
    switch format {
    case .json: emit(object.jsonText(keyOrder: .document, prettyPrinted: true))
    case .yaml: emit(yamlText(object))
    case .table, .wide: table.print([ResourceColumns.row(kind, object, wide: format == .wide)])
    }
  }

  /// `streaming` (a watch follows): JSON and YAML print each item as an event would, so the
  /// whole output is one object per line (or per document).
  mutating func printList(_ list: JSONValue, items: [JSONValue], announceEmpty: Bool, streaming: Bool = false) {
    if streaming, format == .json || format == .yaml {
      items.forEach { printEvent(type: "ADDED", object: $0) }
      return
    }
    switch format {
    case .json, .yaml:
      var filtered = list.objectValue ?? JSONObject()
      filtered["items"] = .array(items)
      if format == .json {
        emit(JSONValue.object(filtered).jsonText(keyOrder: .document, prettyPrinted: true))
      } else {
        emit(yamlText(.object(filtered)))
      }
    case .table, .wide:
      if items.isEmpty {
        // On standard error, like kubectl, so scripts reading the table get nothing.
        if announceEmpty { printError("No \(kind.plural) found.") }
        return
      }
      table.print(items.map { ResourceColumns.row(kind, $0, wide: format == .wide) })
    }
  }

  /// One watch event: a row (PHASE `Deleted` for a deletion), or the object on one line (JSON)
  /// or as its own YAML document.
  mutating func printEvent(type: String, object: JSONValue) {
    switch format {
    case .json: emit(object.compactJSON)
    case .yaml: emit("---\n" + yamlText(object))
    case .table, .wide:
      table.print([ResourceColumns.row(kind, object, wide: format == .wide, phaseOverride: type == "DELETED" ? "Deleted" : nil)])
    }
  }
}
