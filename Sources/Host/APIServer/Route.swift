import Foundation
import Hummingbird
import Model

/// A worker lifecycle verb (`POST /api/v1/workers/{name}/{verb}`, and `GET …/status`).
enum LifecycleVerb: String, Sendable, Hashable, CaseIterable {
  case wake
  case sleep
  case ensureReady = "ensure-ready"
  case ready
  case status
}

/// Every path the API serves, parsed from the request path by ``init(path:)``.
///
/// Routing is done here rather than with Hummingbird's `Router` on purpose: the API's paths mix
/// constant and parameter segments at the same position (`/api/v1/tokens` next to
/// `/api/v1/{plural}`, `/api/v1/workers/{name}/status` next to `/api/v1/{plural}/{name}/status`),
/// which a trie router resolves by registration order; an unknown path or method must produce
/// the API's own error shape (404/405 with `Allow`), not the router's; and metrics want the
/// route pattern with the plural spelled out (`/api/v1/workers/{name}`), a bounded label set.
/// A pure function from path to route is also trivially testable.
enum Route: Sendable, Hashable {
  case healthz
  case readyz
  case metrics
  case version
  case hostStatus
  /// `/api/v1/tokens`: GET lists, POST mints.
  case tokens
  /// `/api/v1/tokens/{id}`: DELETE revokes.
  case token(id: String)
  /// `/api/v1/{plural}`: GET lists or watches, POST creates.
  case collection(Kind)
  /// `/api/v1/{plural}/{name}`: GET, PUT, DELETE.
  case object(Kind, name: String)
  /// `/api/v1/{plural}/{name}/status` for Teams, Humans and Managers: GET returns the object.
  /// (For Workers the same path is the lifecycle status, ``lifecycle(_:name:)``.)
  case objectStatus(Kind, name: String)
  /// `/api/v1/{plural}/{name}/events`: GET.
  case events(Kind, name: String)
  /// `/api/v1/workers/{name}/{wake,sleep,ensure-ready,ready,status}`.
  case lifecycle(LifecycleVerb, name: String)

  /// Parses a request path (without the query). `nil` for paths the API does not serve.
  /// - Throws: `BadRequest` for a path segment that is not valid percent-encoding.
  init?(path: String) throws(APIError) {
    var segments = path.split(separator: "/", omittingEmptySubsequences: false)
    if segments.first == "" { segments.removeFirst() }
    // One trailing slash is tolerated (`/api/v1/workers/`), as most servers do.
    if segments.count > 1, segments.last == "" { segments.removeLast() }
    var decoded: [String] = []
    decoded.reserveCapacity(segments.count)
    for segment in segments {
      guard let value = Self.percentDecoded(segment) else {
        throw APIError.badRequest("the path segment \"\(segment)\" is not valid percent-encoding")
      }
      decoded.append(value)
    }
    switch decoded.count {
    case 1:
      switch decoded[0] {
      case "healthz": self = .healthz
      case "readyz": self = .readyz
      case "metrics": self = .metrics
      default: return nil
      }
      return
    case 0, 2:
      return nil
    default:
      break
    }
    guard decoded[0] == "api", decoded[1] == "v1" else { return nil }
    let rest = Array(decoded.dropFirst(2))
    guard rest.allSatisfy({ !$0.isEmpty }) else { return nil }
    switch rest.count {
    case 1:
      switch rest[0] {
      case "version": self = .version
      case "status": self = .hostStatus
      case "tokens": self = .tokens
      default:
        guard let kind = Self.kind(plural: rest[0]) else { return nil }
        self = .collection(kind)
      }
    case 2:
      if rest[0] == "tokens" {
        self = .token(id: rest[1])
        return
      }
      guard let kind = Self.kind(plural: rest[0]) else { return nil }
      self = .object(kind, name: rest[1])
    case 3:
      guard let kind = Self.kind(plural: rest[0]) else { return nil }
      let name = rest[1]
      switch (kind, rest[2]) {
      case (_, "events"): self = .events(kind, name: name)
      case (.worker, let sub):
        guard let verb = LifecycleVerb(rawValue: sub) else { return nil }
        self = .lifecycle(verb, name: name)
      case (_, "status"): self = .objectStatus(kind, name: name)
      default: return nil
      }
    default:
      return nil
    }
  }

  /// `segment` with every `%XX` decoded; nil if a `%` is not followed by two hex digits or the
  /// bytes are not UTF-8. Foundation's `removingPercentEncoding` answers the same, except that
  /// it sometimes repairs invalid UTF-8 to U+FFFD instead of refusing it; it also went through
  /// CFString, which cost ~8 µs per request.
  static func percentDecoded(_ segment: Substring) -> String? {
    let utf8 = segment.utf8
    guard utf8.contains(UInt8(ascii: "%")) else { return String(segment) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count)
    var index = utf8.startIndex
    while index != utf8.endIndex {
      let byte = utf8[index]
      utf8.formIndex(after: &index)
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard index != utf8.endIndex, let high = hexValue(utf8[index]) else { return nil }
      utf8.formIndex(after: &index)
      guard index != utf8.endIndex, let low = hexValue(utf8[index]) else { return nil }
      utf8.formIndex(after: &index)
      bytes.append(high << 4 | low)
    }
    return String(validating: bytes, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// Only the exact plurals (`workers`), not the CLI's other spellings: a path has one form.
  private static func kind(plural: String) -> Kind? {
    Kind.allCases.first { $0.plural == plural }
  }

  /// The route pattern: the `route` label of the HTTP metrics.
  var pattern: String {
    switch self {
    case .healthz: "/healthz"
    case .readyz: "/readyz"
    case .metrics: "/metrics"
    case .version: "/api/v1/version"
    case .hostStatus: "/api/v1/status"
    case .tokens: "/api/v1/tokens"
    case .token: "/api/v1/tokens/{id}"
    case .collection(let kind): "/api/v1/\(kind.plural)"
    case .object(let kind, _): "/api/v1/\(kind.plural)/{name}"
    case .objectStatus(let kind, _): "/api/v1/\(kind.plural)/{name}/status"
    case .events(let kind, _): "/api/v1/\(kind.plural)/{name}/events"
    case .lifecycle(let verb, _): "/api/v1/workers/{name}/\(verb.rawValue)"
    }
  }

  /// The methods this path answers.
  var allowedMethods: [HTTPRequest.Method] {
    switch self {
    case .healthz, .readyz, .metrics, .version, .hostStatus, .objectStatus, .events: [.get]
    case .tokens, .collection: [.get, .post]
    case .token: [.delete]
    case .object: [.get, .put, .delete]
    case .lifecycle(let verb, _): verb == .status ? [.get] : [.post]
    }
  }

  /// Whether the route is a `/status` path (a PUT there gets a message saying why not).
  var isStatus: Bool {
    switch self {
    case .objectStatus, .lifecycle(.status, _): true
    default: false
    }
  }

  /// Whether a bearer token is needed (everything but the probes and the metrics).
  var requiresToken: Bool {
    switch self {
    case .healthz, .readyz, .metrics: false
    default: true
    }
  }
}
