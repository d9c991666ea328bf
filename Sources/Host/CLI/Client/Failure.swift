import Foundation
import YAML

/// An error the CLI reports itself: the text (possibly several lines) goes to standard error and
/// the process exits with ``exitCode``. Exit codes follow kubectl and ArgumentParser: 1 when the
/// request or the input was refused (server errors, invalid documents, unreachable host), 2 for
/// a command line that cannot mean anything (unknown kind, conflicting flags).
struct CLIFailure: Error, CustomStringConvertible {
  var message: String
  var exitCode: Int32

  static func failed(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: 1) }
  static func usage(_ message: String) -> CLIFailure {
    CLIFailure(message: message + "\nSee 'hiclaw --help' or 'hiclaw <command> --help'.", exitCode: 2)
  }

  var description: String { message }
}

/// An error answer of the host, in the one shape of docs/api.md ("Errors").
struct ServerError: Error {
  struct Cause {
    var field: String?
    var message: String
  }

  var status: Int
  var reason: String?
  var message: String
  var field: String?
  var causes: [Cause]
  var currentResourceVersion: String?
  var expectedResourceVersion: String?

  init(status: Int, body: Data) {
    self.status = status
    if let json = try? JSONText.parse(body), case .object = json {
      reason = json.text("reason")
      message = json.text("message") ?? "(no message)"
      field = json.text("details.field")
      causes = (json[path: "details.causes"]?.arrayValue ?? []).map { cause in
        Cause(field: cause.text("field"), message: cause.text("message") ?? cause.text("reason") ?? "")
      }
      currentResourceVersion = json.text("details.currentResourceVersion")
      expectedResourceVersion = json.text("details.expectedResourceVersion")
    } else {
      // Not the API's shape (a proxy in between, or not hiclaw-host at all): show the text.
      let text = String(decoding: body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      message = text.isEmpty ? "HTTP \(status) with no body" : text
      causes = []
    }
  }

  /// `Error from server (NotFound): worker/alice: …`, then one line per cause. `locate` turns a
  /// cause's field path into `file:line:column` when the object came from a file.
  func report(subject: String? = nil, locate: (String) -> String? = { _ in nil }) -> String {
    let label = reason.map { "\($0)" } ?? "HTTP \(status)"
    var lines = ["Error from server (\(label)): " + (subject.map { "\($0): " } ?? "") + message]
    var shown = causes
    if shown.isEmpty, let field, !message.hasPrefix(field) { shown = [Cause(field: field, message: message)] }
    // One cause that only repeats the message adds nothing, unless it can point into a file.
    let single = shown.count == 1 && "\(shown[0].field.map { "\($0): " } ?? "")\(shown[0].message)" == message
    for cause in shown {
      let location = cause.field.flatMap(locate)
      if single && location == nil { continue }
      let path = cause.field.map { "\($0): " } ?? ""
      lines.append("  " + (location.map { "\($0): " } ?? "") + path + cause.message)
    }
    if let currentResourceVersion, let expectedResourceVersion {
      lines.append(
        "  the object changed since resourceVersion \(expectedResourceVersion) (now \(currentResourceVersion)); get it again or drop metadata.resourceVersion"
      )
    }
    switch status {
    case 401:
      lines.append(
        "  hint: pass a token with --token, HICLAW_TOKEN or HICLAW_TOKEN_FILE; on the host itself the admin token is <data-dir>/admin.token"
      )
    case 403:
      lines.append("  hint: this token's role may not do that; an admin token can (see 'hiclaw token create --help')")
    default: break
    }
    return lines.joined(separator: "\n")
  }
}
