import ArgumentParser
import Foundation

/// Where hiclaw-host is and which token to show it. Every command that talks to the host
/// includes these options; they may also come before the command (`hiclaw --server URL get
/// workers`), see ``Hiclaw/main()``.
struct ConnectionOptions: ParsableArguments {
  static let defaultServer = "http://127.0.0.1:8090"

  @Option(name: .long, help: ArgumentHelp("The hiclaw-host API URL (default $HICLAW_CONTROLLER_URL, else \(defaultServer)).", valueName: "url"))
  var server: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Bearer token (default $HICLAW_TOKEN, else the file $HICLAW_TOKEN_FILE, else <data-dir>/admin.token).",
      valueName: "token"))
  var token: String?

  /// The connection these options, the environment and the data directory describe.
  func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CLIFailure) -> Connection {
    let server = Connection.normalize(server ?? environment["HICLAW_CONTROLLER_URL"].nonBlank ?? Self.defaultServer)
    return Connection(server: server, token: try Self.token(explicit: token, environment: environment))
  }

  static func token(explicit: String?, environment: [String: String]) throws(CLIFailure) -> String? {
    if let explicit = explicit.nonBlank { return explicit }
    if let token = environment["HICLAW_TOKEN"].nonBlank { return token }
    if let file = environment["HICLAW_TOKEN_FILE"].nonBlank {
      // Named explicitly, so an unreadable file is an error rather than a silent fallback.
      guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
        throw .failed("error: cannot read the token file \(file) (from HICLAW_TOKEN_FILE)")
      }
      return text.trimmingCharacters(in: .whitespacesAndNewlines).nonBlank
    }
    // The host writes an admin token here at first start; only the host's own user can read it.
    let adminToken = dataDirectory(environment: environment).appendingPathComponent("admin.token").path
    if FileManager.default.isReadableFile(atPath: adminToken), let text = try? String(contentsOfFile: adminToken, encoding: .utf8) {
      return text.trimmingCharacters(in: .whitespacesAndNewlines).nonBlank
    }
    return nil
  }

  /// `$HICLAW_DATA_DIR`, else `~/.local/share/hiclaw` (the host's default).
  static func dataDirectory(environment: [String: String]) -> URL {
    if let explicit = environment["HICLAW_DATA_DIR"].nonBlank { return URL(fileURLWithPath: explicit) }
    let home = environment["HOME"].nonBlank ?? NSHomeDirectory()
    return URL(fileURLWithPath: home).appendingPathComponent(".local/share/hiclaw")
  }
}

/// A resolved host address and token.
struct Connection: Sendable {
  /// `http://host:port` without a trailing slash.
  var server: String
  var token: String?

  /// Adds `http://` when no scheme is given (`127.0.0.1:8090`) and drops trailing slashes.
  static func normalize(_ text: String) -> String {
    var url = text.trimmingCharacters(in: .whitespaces)
    if !url.contains("://") { url = "http://" + url }
    while url.hasSuffix("/") { url.removeLast() }
    return url
  }
}

extension Optional where Wrapped == String {
  /// The string unless it is nil or only whitespace.
  var nonBlank: String? {
    guard let self, !self.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
    return self
  }
}

extension String {
  var nonBlank: String? { Optional(self).nonBlank }
}
