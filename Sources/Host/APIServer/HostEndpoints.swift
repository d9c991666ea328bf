import Foundation
import Hummingbird
import Model
import Store

/// `GET /api/v1/version`.
struct VersionInfo: Encodable {
  var version: String
  var apiVersion: String
  var abiVersion: String
}

/// `GET /api/v1/status`.
struct HostStatus: Encodable {
  var mode: String
  var workers: Int
  var teams: Int
  var humans: Int
  var managers: Int
  /// The store's current revision.
  var revision: Int64
}

/// `POST /api/v1/tokens` body.
struct TokenRequest {
  var role: String
  var subject: String
}

/// `POST /api/v1/tokens` answer: the only time the token is shown.
struct MintedToken: Encodable {
  var id: String
  var token: String
  var role: String
  var subject: String
}

/// One entry of `GET /api/v1/tokens` (never the token).
struct TokenItem: Encodable {
  var id: String
  var role: String
  var subject: String
  var createdAt: String
}

extension APIServer {
  func metricsResponse() -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
  }

  func version(_ call: Call) throws -> Response {
    try authorize(call, .readVersion)
    return JSONResponse.make(status: .ok, VersionInfo(
      version: configuration.version, apiVersion: hiclawAPIVersion, abiVersion: configuration.abiVersion))
  }

  /// Object counts per kind (Team members are not Workers) in the default namespace.
  func hostStatus(_ call: Call) async throws -> Response {
    try authorize(call, .readHostStatus)
    var counts: [Kind: Int] = [:]
    var revision: Int64 = 0
    for kind in Kind.allCases {
      let list = try await store.list(kind: kind.rawValue, namespace: ObjectMeta.defaultNamespace)
      counts[kind] = list.items.count
      revision = max(revision, list.resourceVersion)  // the latest of the reads (each list is one read transaction)
    }
    return JSONResponse.make(status: .ok, HostStatus(
      mode: configuration.mode, workers: counts[.worker] ?? 0, teams: counts[.team] ?? 0, humans: counts[.human] ?? 0,
      managers: counts[.manager] ?? 0, revision: revision))
  }

  // MARK: Tokens

  func listTokens(_ call: Call) async throws -> Response {
    try authorize(call, .manageTokens)
    let items = try await store.tokens().map {
      TokenItem(id: $0.id, role: $0.role, subject: $0.subject, createdAt: Timestamp($0.createdAt).rfc3339)
    }
    return JSONResponse.make(status: .ok, Items(items: items))
  }

  func mintToken(_ call: Call) async throws -> Response {
    try authorize(call, .manageTokens)
    let request = try Self.decodeTokenRequest(try await readBody(call))
    let issued = try await store.createToken(role: request.role, subject: request.subject)
    return JSONResponse.make(status: .created, MintedToken(
      id: issued.identity.id, token: issued.token, role: issued.identity.role, subject: issued.identity.subject))
  }

  func revokeToken(_ call: Call, id: String) async throws -> Response {
    try authorize(call, .manageTokens)
    guard try await store.revokeToken(id: id) else { throw APIError.notFound("no token has the id \(id.debugDescription)") }
    return Response(status: .noContent)
  }

  /// Decodes `{"role","subject"}` strictly, with every problem as a cause: syntax, unknown
  /// fields and wrong types are 400; an unknown role or a bad subject is 422. `team-leader`
  /// and `worker` need a subject (the team's or worker's name); `admin` and `manager` take none.
  /// The subject need not exist yet: a token may be minted before its Worker is applied.
  static func decodeTokenRequest(_ data: Data) throws(APIError) -> TokenRequest {
    let node: JSONNode
    do {
      node = try JSONNode.parse(data)
    } catch {
      throw APIError(fields: [FieldError(FieldPath(), "the body is not valid JSON: \(error)", reason: .invalidJSON)])
    }
    guard case .object(let members) = node else {
      throw APIError.invalidField("", "expected a JSON object with role and subject, got \(node.typeName)", reason: .wrongType)
    }
    var errors = FieldErrors()
    // The parser keeps the last of repeated keys; a body saying role twice is ambiguous (a proxy
    // may read the other one), so it is refused, as the resource decoder refuses them.
    var seen = Set<String>()
    for key in topLevelKeys(data) where !seen.insert(key).inserted {
      errors.append(FieldError(FieldPath().key(key), "field given more than once; keep one", reason: .duplicateField))
    }
    for key in members.keys.sorted() where key != "role" && key != "subject" {
      errors.append(FieldError(FieldPath().key(key), "unknown field; the fields are role and subject", reason: .unknownField))
    }
    func string(_ key: String) -> String? {
      switch members[key] {
      case nil, .null?: return nil
      case .string(let value)?: return value
      case let other?:
        errors.append(FieldError(FieldPath().key(key), "expected string, got \(other.typeName)", reason: .wrongType))
        return nil
      }
    }
    let role = string("role")
    let subject = string("subject") ?? ""
    if errors.isEmpty {
      switch role {
      case nil, "":
        errors.append(FieldError("role", "required: one of \(Role.names.joined(separator: ", "))", reason: .required))
      case "admin", "manager":
        if !subject.isEmpty {
          errors.append(FieldError("subject", "the \(role!) role is not scoped; leave subject out"))
        }
      case "team-leader", "worker":
        if subject.isEmpty {
          errors.append(FieldError("subject", "required: the \(role == "worker" ? "worker" : "team")'s name", reason: .required))
        } else if !isName(subject) {
          errors.append(FieldError("subject",
            "must be a name of lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"))
        }
      case let other?:
        errors.append(FieldError("role", "unknown role \(other.debugDescription); one of \(Role.names.joined(separator: ", "))"))
      }
    }
    if !errors.isEmpty { throw APIError(fields: errors) }
    return TokenRequest(role: role ?? "", subject: subject)
  }

  /// A DNS label, the form of resource names.
  static func isName(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard !bytes.isEmpty, bytes.count <= 63 else { return false }
    func alnum(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) }
    return alnum(bytes.first!) && alnum(bytes.last!) && bytes.allSatisfy { alnum($0) || $0 == 0x2D }
  }

  /// The keys of the top-level object of a syntactically valid JSON document, in order, repeats
  /// included.
  static func topLevelKeys(_ data: Data) -> [String] {
    let bytes = Array(data)
    var keys: [String] = []
    var depth = 0
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
      case UInt8(ascii: "\""):
        let start = index
        index += 1
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
          index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        var next = index + 1
        while next < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[next]) { next += 1 }
        if depth == 1, next < bytes.count, bytes[next] == UInt8(ascii: ":"), index < bytes.count,
          let key = (try? JSONNode.parse(Data(bytes[start...index])))?.stringValue
        {
          keys.append(key)
        }
      default: break
      }
      index += 1
    }
    return keys
  }
}
