import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Model
import Prometheus
import Store
import Testing

@testable import APIServer

/// A server over a fresh store in a temporary directory, driven through HummingbirdTesting's
/// router client (no socket), plus an admin token.
struct Harness: Sendable {
  let store: Store
  let server: APIServer
  let registry: PrometheusCollectorRegistry
  let client: any TestClientProtocol
  /// An admin token.
  let admin: String

  /// Sends a request; `token: nil` sends none. `body` is sent as is.
  func call(_ method: HTTPRequest.Method, _ path: String, token: String?? = .some(nil), body: String? = nil) async throws
    -> Reply
  {
    var headers = HTTPFields()
    let bearer: String? = switch token {
    case .none: nil
    case .some(nil): admin
    case .some(let value?): value
    }
    if let bearer { headers[.authorization] = "Bearer \(bearer)" }
    if body != nil { headers[.contentType] = "application/json" }
    let response = try await client.execute(uri: path, method: method, headers: headers,
      body: body.map { ByteBuffer(string: $0) })
    return Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
  }

  func get(_ path: String, token: String?? = .some(nil)) async throws -> Reply { try await call(.get, path, token: token) }
  func post(_ path: String, _ body: String = "", token: String?? = .some(nil)) async throws -> Reply {
    try await call(.post, path, token: token, body: body)
  }
  func put(_ path: String, _ body: String, token: String?? = .some(nil)) async throws -> Reply {
    try await call(.put, path, token: token, body: body)
  }
  func delete(_ path: String, token: String?? = .some(nil)) async throws -> Reply { try await call(.delete, path, token: token) }

  /// A token for `role`/`subject`.
  func token(_ role: String, _ subject: String = "") async throws -> String {
    try await store.createToken(role: role, subject: subject).token
  }
}

/// A response, with its body parsed as JSON when it is JSON.
struct Reply: Sendable, CustomStringConvertible {
  let status: HTTPResponse.Status
  let headers: HTTPFields
  let text: String

  var json: JSONNode { (try? JSONNode.parse(Data(text.utf8))) ?? .null }
  var code: Int { status.code }
  var description: String { "\(status.code) \(text)" }

  /// The error reason of an error body.
  var reason: String? { json["reason"]?.stringValue }
}

extension JSONNode {
  subscript(index: Int) -> JSONNode? {
    if case .array(let items) = self, items.indices.contains(index) { return items[index] }
    return nil
  }

  var array: [JSONNode] {
    if case .array(let items) = self { return items }
    return []
  }

  var int: Int64? {
    if case .int(let value) = self { return value }
    return nil
  }

  var bool: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  /// `metadata.resourceVersion` as a number.
  var resourceVersion: Int64? { self["metadata"]?["resourceVersion"]?.stringValue.flatMap { Int64($0) } }
}

/// Runs `body` against a fresh server; closes the store and removes its directory afterwards.
func withAPI(
  configure: (inout APIServerConfiguration) -> Void = { _ in },
  _ body: @Sendable (Harness) async throws -> Void
) async throws {
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hiclaw-api-\(UUID().uuidString)")
  let store = try Store(configuration: StoreConfiguration(directory: directory))
  defer { try? FileManager.default.removeItem(at: directory) }
  let registry = PrometheusCollectorRegistry()
  var configuration = APIServerConfiguration()
  configuration.port = 0
  configure(&configuration)
  var logger = Logger(label: "api-test")
  logger.logLevel = .critical
  let server = APIServer(store: store, configuration: configuration, registry: registry, logger: logger)
  do {
    let admin = try await store.createToken(role: "admin").token
    let app = server.makeApplication { _ in }
    try await app.test(.router) { client in
      try await body(Harness(store: store, server: server, registry: registry, client: client, admin: admin))
    }
  } catch {
    await store.close()
    throw error
  }
  await store.close()
}

/// Documents used across the tests.
enum Doc {
  static func worker(_ name: String, model: String = "qwen3.6-plus", extra: String = "", metadata: String = "") -> String {
    """
    {"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"\(name)"\(metadata)},"spec":{"model":"\(model)"\(extra)}}
    """
  }

  static func team(_ name: String, leader: String = "lead", workers: [String] = ["w1"], metadata: String = "") -> String {
    let list = workers.map { #"{"name":"\#($0)"}"# }.joined(separator: ",")
    return """
      {"apiVersion":"hiclaw.io/v1beta1","kind":"Team","metadata":{"name":"\(name)"\(metadata)},"spec":{"leader":{"name":"\(leader)"},"workers":[\(list)]}}
      """
  }

  static func human(_ name: String) -> String {
    """
    {"apiVersion":"hiclaw.io/v1beta1","kind":"Human","metadata":{"name":"\(name)"},"spec":{"displayName":"Dana","permissionLevel":2}}
    """
  }

  static func manager(_ name: String) -> String {
    """
    {"apiVersion":"hiclaw.io/v1beta1","kind":"Manager","metadata":{"name":"\(name)"},"spec":{"model":"qwen3.6-plus"}}
    """
  }

  /// A valid document of `kind` named `name`.
  static func of(_ kind: Kind, _ name: String) -> String {
    switch kind {
    case .worker: worker(name)
    case .team: team(name, leader: "\(name)-lead", workers: ["\(name)-w1"])
    case .human: human(name)
    case .manager: manager(name)
    }
  }
}
