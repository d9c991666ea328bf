import ArgumentParser
import Foundation
import Model
import YAML

struct DescribeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "describe",
    abstract: "Show one object in detail: spec, status, conditions and recent events.")

  @Argument(help: "worker(s)/wk, team(s)/tm, human(s)/hm, manager(s)/mgr", transform: parseKind)
  var kind: Kind

  @Argument(help: "The object's name.")
  var name: String

  @OptionGroup var connection: ConnectionOptions

  func run() throws {
    let client = APIClient(connection: try connection.resolve())
    let path = "/api/v1/\(kind.plural)/\(APIClient.encode(name))"
    let subject = "\(kind.singular)/\(name)"
    let object = try client.call("GET", path, subject: subject)
    // Events are secondary: a host without them (or a role not allowed to read them) still gets
    // the object described.
    let eventsResponse = try client.send("GET", path + "/events")
    let events: [JSONValue]? = eventsResponse.isSuccess ? (try? eventsResponse.json())?["items"]?.arrayValue : nil
    emit(Self.describe(kind: kind, object: object, events: events))
  }

  static func describe(kind: Kind, object: JSONValue, events: [JSONValue]?, now: Date = Date()) -> String {
    var lines: [String] = []
    func field(_ label: String, _ value: String, indent: Int = 0) {
      let prefix = String(repeating: " ", count: indent) + label + ":"
      lines.append(prefix.padding(toLength: max(prefix.count + 1, 24), withPad: " ", startingAt: 0) + value)
    }
    func map(_ path: String) -> String {
      let entries = (object[path: path]?.objectValue ?? JSONObject()).map { "\($0.key)=\($0.value.stringValue ?? $0.value.compactJSON)" }
      return entries.isEmpty ? "<none>" : entries.joined(separator: ", ")
    }
    field("Name", object.text("metadata.name") ?? "-")
    field("Kind", kind.rawValue)
    field("Labels", map("metadata.labels"))
    field("Annotations", map("metadata.annotations"))
    if let created = object.text("metadata.creationTimestamp") {
      field("Created", "\(created) (\(age(of: created, now: now)) ago)")
    }
    if let deleting = object.text("metadata.deletionTimestamp") {
      let finalizers = (object[path: "metadata.finalizers"]?.arrayValue ?? []).compactMap(\.stringValue)
      field("Deleting since", "\(deleting) (finalizers: \(finalizers.isEmpty ? "none" : finalizers.joined(separator: ", ")))")
    }
    field("Generation", object.text("metadata.generation") ?? "-")
    field("Resource Version", object.text("metadata.resourceVersion") ?? "-")

    lines.append("Spec:")
    if let spec = object["spec"], case .object(let members) = spec, !members.isEmpty {
      lines.append(contentsOf: yamlText(summarized(spec)).split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
    } else {
      lines.append("  <empty>")
    }

    lines.append("Status:")
    let status = object["status"]?.objectValue ?? JSONObject()
    field("Phase", ResourceColumns.displayPhase(object), indent: 2)
    let generation = object.text("metadata.generation")
    let observed = object.text("status.observedGeneration")
    let behind = observed != nil && generation != nil && observed != generation
    field("Observed Generation", (observed ?? "-") + (behind ? " (generation \(generation!) not reconciled yet)" : ""), indent: 2)
    field("Message", object.text("status.message") ?? "<none>", indent: 2)
    var rest = status
    for shown in ["phase", "observedGeneration", "message", "conditions"] { rest[shown] = nil }
    if !rest.isEmpty {
      lines.append(contentsOf: yamlText(.object(rest)).split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
    }

    lines.append("Conditions:")
    let conditions = status["conditions"]?.arrayValue ?? []
    if conditions.isEmpty {
      lines.append("  <none>")
    } else {
      lines.append(contentsOf: indentedTable(
        ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"],
        conditions.map { condition in
          [
            condition.text("type") ?? "-", condition.text("status") ?? "-", condition.text("reason") ?? "-",
            age(of: condition.text("lastTransitionTime"), now: now), condition.text("message") ?? "",
          ]
        }))
    }

    lines.append("Events:")
    switch events {
    case nil: lines.append("  <unavailable>")
    case let events? where events.isEmpty: lines.append("  <none>")
    case let events?:
      lines.append(contentsOf: indentedTable(
        ["TYPE", "REASON", "AGE", "MESSAGE"],
        events.suffix(20).map { event in
          [event.text("type") ?? "-", event.text("reason") ?? "-", eventAge(event, now: now), event.text("message") ?? ""]
        }))
    }
    return lines.joined(separator: "\n")
  }

  /// kubectl's event age: `3m`, or `3m (x4 over 10m)` for a repeated event.
  static func eventAge(_ event: JSONValue, now: Date) -> String {
    let last = age(of: event.text("lastTimestamp") ?? event.text("firstTimestamp"), now: now)
    guard let count = event["count"]?.intValue, count > 1 else { return last }
    return "\(last) (x\(count) over \(age(of: event.text("firstTimestamp"), now: now)))"
  }

  /// Long texts (souls, agent instructions) shortened to their first line and a line count, so
  /// the spec stays a summary; `get -o yaml` shows them whole.
  static func summarized(_ value: JSONValue) -> JSONValue {
    switch value {
    case .string(let text) where text.contains("\n"):
      let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
      return .string("\(lines.first ?? "") … (\(lines.count) lines)")
    case .array(let items): return .array(items.map(summarized))
    case .object(let object): return .object(JSONObject(object.map { ($0.key, summarized($0.value)) }))
    default: return value
    }
  }

  private static func indentedTable(_ headers: [String], _ rows: [[String]]) -> [String] {
    var widths = headers.map(\.count)
    for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
    return ([headers] + rows).map { cells in
      "  " + cells.enumerated().map { index, cell in
        index == cells.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
      }.joined()
    }
  }
}
