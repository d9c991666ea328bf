// The REST API of hiclaw-host over the Store: resources (CRUD, list, watch), worker lifecycle,
// tokens, probes and metrics. The contract is docs/api.md.
//
// Layout:
// - APIServer.swift: configuration, the server, the request pipeline (route → authenticate →
//   method → handler → error mapping → metrics).
// - Route.swift: path → route (pure). Authorization.swift: the role matrix (pure).
// - APIError.swift: the one error shape and the one status-code mapping.
// - Resources.swift: CRUD, list, events; body decoding. WatchStream.swift: watch streams.
// - Lifecycle.swift: wake/sleep/ensure-ready/ready/status for Workers and Team members.
// - HostEndpoints.swift: probes, metrics, version, status, tokens.
import Foundation
import Hummingbird
import Logging
import Metrics
import Model
import Prometheus
import Store
import Synchronization

/// Settings of an ``APIServer``.
public struct APIServerConfiguration: Sendable {
  /// The address to listen on.
  public var host: String = "127.0.0.1"
  /// The port; 0 picks a free one (``APIServer/makeApplication(onServerRunning:)`` reports it).
  public var port: Int = 8090
  /// How the host runs (`embedded`, …); reported by `GET /api/v1/status`.
  public var mode: String = "embedded"
  /// The host's version; reported by `GET /api/v1/version`.
  public var version: String = "0.1.0"
  /// The driver ABI version the host speaks (`major.minor`); reported by `GET /api/v1/version`.
  /// The daemon passes DriverHost's; this module does not link the driver host.
  public var abiVersion: String = "1.0"
  /// Request bodies above this many bytes are refused with 413 `TooLarge` before they are parsed.
  public var maximumBodyBytes: Int = 4 << 20
  /// A watch stream that has sent nothing for this long sends a `BOOKMARK` line.
  public var bookmarkInterval: Duration = .seconds(30)
  /// Events a watch stream holds between the store and the client before it waits for the
  /// client (flow control; see `WatchStream`).
  public var watchQueueLimit: Int = 1_000
  /// The defaults applied to every object written through the API (host settings such as the
  /// default worker runtime).
  public var defaults: Defaults = .standard

  public init() {}
}

/// The hiclaw REST API (docs/api.md), served by Hummingbird over a ``Store``.
///
/// The server reads and writes the store only: it never calls a driver. Writes go through the
/// Model's decoder, defaults and validation first, so the store only ever holds valid, defaulted
/// objects; a request that fails changes nothing.
///
/// ## Ownership
/// The server does not own the store: open it before creating the server and close it after the
/// application has stopped (closing the store first ends open watch streams, which is also
/// fine). The registry is shared with the daemon, which bootstraps `MetricsSystem` over it; the
/// server records its HTTP metrics through its own `PrometheusMetricsFactory` on that registry,
/// so it works the same with or without the global bootstrap.
///
/// ## Threading
/// All methods may be called from any task. Requests are handled concurrently; ordering and
/// atomicity come from the store (one transaction per write, optimistic concurrency).
///
/// ## Errors
/// Every failure is answered in the one error shape of ``APIError``; bad input is always a 4xx.
/// A 500 means a bug or a broken store and is logged at `error` level.
public final class APIServer: Sendable {
  let store: Store
  let configuration: APIServerConfiguration
  let registry: PrometheusCollectorRegistry
  let metricsFactory: PrometheusMetricsFactory
  let logger: Logger
  private let ready = Atomic<Bool>(false)
  /// The HTTP metrics of each (method, route, status), made once: making one is a registry
  /// look-up under a lock with freshly built label arrays. The key set is bounded (known
  /// methods × route patterns × statuses).
  private let httpMetrics = Mutex<[HTTPMetricsKey: (requests: Metrics.Counter, duration: Metrics.Timer)]>([:])
  /// Serialises lifecycle writes per object (see ``KeyedSerializer``).
  let lifecycleWrites = KeyedSerializer()

  /// - Parameters:
  ///   - store: the open store to serve.
  ///   - configuration: address, limits and what the host reports about itself.
  ///   - registry: where `/metrics` reads from, and where the HTTP metrics are recorded.
  ///   - logger: for request failures (5xx at `error`, others at `debug`).
  public init(store: Store, configuration: APIServerConfiguration, registry: PrometheusCollectorRegistry, logger: Logger) {
    self.store = store
    self.configuration = configuration
    self.registry = registry
    self.metricsFactory = PrometheusMetricsFactory(registry: registry)
    self.logger = logger
  }

  /// A Hummingbird application serving the API: a ServiceLifecycle `Service` (run it in the
  /// daemon's `ServiceGroup`, or call `runService()`).
  ///
  /// On graceful shutdown the server stops accepting connections and ends open watch streams so
  /// that in-flight requests can finish.
  /// - Parameter onServerRunning: called once the socket is bound, with the bound port (the
  ///   configured one, or the one picked for port 0).
  public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
    let port = configuration.port
    return Application(
      responder: Responder(server: self),
      configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: port), serverName: nil),
      onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
      logger: logger)
  }

  /// Sets what `/readyz` answers: 200 once the store is open and the controllers run, else 503.
  /// Starts `false`.
  public func setReady(_ ready: Bool) { self.ready.store(ready, ordering: .releasing) }

  /// What `/readyz` answers.
  public var isReady: Bool { ready.load(ordering: .acquiring) }

  // MARK: The request pipeline

  /// Hummingbird's entry point: every request goes to ``APIServer/handle(_:logger:)``.
  struct Responder: HTTPResponder {
    typealias Context = BasicRequestContext
    let server: APIServer

    func respond(to request: Request, context: Context) async throws -> Response {
      await server.handle(request, logger: context.logger)
    }
  }

  /// One request in flight: what the handlers need.
  struct Call: Sendable {
    var request: Request
    var route: Route
    /// `nil` only for routes that need no token.
    var role: Role?
    var logger: Logger

    var method: HTTPRequest.Method { request.method }

    /// A query parameter (percent-decoded); `nil` if absent.
    func query(_ name: String) -> String? {
      request.uri.queryParameters[name[...]].map(String.init)
    }
  }

  /// Answers one request; never throws. Steps: route (404 for unknown paths), authenticate
  /// (401; paths under `/api/` need a token even when unknown, so probing paths without a token
  /// learns nothing), method (405), then the handler, which authorizes (403) before it reads
  /// or writes anything. Every error is mapped by ``APIError/init(_:)``; every answer is counted
  /// in the HTTP metrics under its route pattern.
  func handle(_ request: Request, logger: Logger) async -> Response {
    let start = ContinuousClock.now
    var routeLabel = "unmatched"
    let response: Response
    do {
      let route = try Route(path: request.uri.path)
      if let route { routeLabel = route.pattern }
      var role: Role?
      if route?.requiresToken ?? request.uri.path.hasPrefix("/api/") {
        role = try await authenticate(request)
      }
      guard let route else { throw APIError.notFound("no such path: \(request.uri.path)") }
      guard route.allowedMethods.contains(request.method) else { throw APIError.methodNotAllowed(request.method, route) }
      response = try await dispatch(Call(request: request, route: route, role: role, logger: logger))
    } catch {
      let apiError = APIError(error)
      if apiError.status.code >= 500 {
        logger.error("\(request.method.rawValue) \(request.uri.path) failed: \(apiError.message)")
      } else {
        logger.debug("\(request.method.rawValue) \(request.uri.path): \(apiError.status.code) \(apiError.message)")
      }
      response = apiError.response()
    }
    recordMetrics(method: request.method, route: routeLabel, status: response.status, since: start)
    return response
  }

  func authenticate(_ request: Request) async throws -> Role {
    var headers = HTTPFields()
    headers[.wwwAuthenticate] = "Bearer"
    guard let value = request.headers[.authorization] else {
      throw APIError(.unauthorized, "no bearer token: send Authorization: Bearer <token>", headers: headers)
    }
    let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else {
      throw APIError(.unauthorized, "the Authorization header is not \"Bearer <token>\"", headers: headers)
    }
    // Spaces and tabs around the token are tolerated (Foundation's trimming is a CharacterSet
    // walk that costs more than the token lookup itself).
    var token = parts[1]
    while let first = token.first, first == " " || first == "\t" { token = token.dropFirst() }
    while let last = token.last, last == " " || last == "\t" { token = token.dropLast() }
    guard let identity = try await store.verifyToken(String(token)) else {
      throw APIError(.unauthorized, "unknown or revoked token", headers: headers)
    }
    return Role(identity)
  }

  /// Throws 403 unless the caller's role allows `action`.
  func authorize(_ call: Call, _ action: Action) throws(APIError) {
    guard let role = call.role else { return }
    guard Authorization.allows(role, action) else {
      throw APIError.forbidden("the token's role may not \(call.method.rawValue) \(call.request.uri.path)")
    }
  }

  private func dispatch(_ call: Call) async throws -> Response {
    switch call.route {
    case .healthz: return JSONResponse.text(status: .ok, "ok")
    case .readyz:
      return isReady ? JSONResponse.text(status: .ok, "ok") : JSONResponse.text(status: .serviceUnavailable, "not ready")
    case .metrics: return metricsResponse()
    case .version: return try version(call)
    case .hostStatus: return try await hostStatus(call)
    case .tokens: return call.method == .post ? try await mintToken(call) : try await listTokens(call)
    case .token(let id): return try await revokeToken(call, id: id)
    case .collection(let kind):
      if call.method == .post { return try await create(call, kind: kind) }
      return try await listOrWatch(call, kind: kind)
    case .object(let kind, let name):
      switch call.method {
      case .put: return try await replace(call, kind: kind, name: name)
      case .delete: return try await delete(call, kind: kind, name: name)
      default: return try await get(call, kind: kind, name: name)
      }
    case .objectStatus(let kind, let name): return try await get(call, kind: kind, name: name)
    case .events(let kind, let name): return try await events(call, kind: kind, name: name)
    case .lifecycle(let verb, let name): return try await lifecycle(call, verb: verb, name: name)
    }
  }

  // MARK: Metrics

  /// Methods outside this set are counted as `OTHER`, so a client cannot grow the label set.
  private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

  private func recordMetrics(method: HTTPRequest.Method, route: String, status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
    let methodLabel = Self.knownMethods.contains(method.rawValue) ? method.rawValue : "OTHER"
    let key = HTTPMetricsKey(method: methodLabel, route: route, status: status.code)
    let metrics = httpMetrics.withLock { cache in
      if let made = cache[key] { return made }
      let made = (
        requests: Metrics.Counter(label: "hiclaw_http_requests_total",
          dimensions: [("method", methodLabel), ("route", route), ("status", String(status.code))], factory: metricsFactory),
        duration: Metrics.Timer(label: "hiclaw_http_request_duration_seconds",
          dimensions: [("method", methodLabel), ("route", route)], factory: metricsFactory))
      cache[key] = made
      return made
    }
    metrics.requests.increment()
    metrics.duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
  }
}

struct HTTPMetricsKey: Hashable {
  var method: String
  var route: String
  var status: Int
}

extension Duration {
  var nanoseconds: Int64 {
    let parts = components
    return parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
  }
}
