import Foundation
import Hummingbird
import Model
import Store

/// The one error shape of the API, and the one place that maps failures to status codes.
///
/// Every handler throws; ``APIServer`` catches whatever comes out of a request and turns it into
/// an `APIError` with ``init(_:)`` (store errors, field errors, anything else), then renders it
/// with ``response()``. So a status code is chosen here and nowhere else:
///
/// | reason | status | from |
/// |---|---|---|
/// | `BadRequest` | 400 | malformed JSON, unknown/repeated fields, wrong JSON types, wrong `kind`, name mismatch, bad query |
/// | `Unauthorized` | 401 | no or unknown bearer token |
/// | `Forbidden` | 403 | the role may not |
/// | `NotFound` | 404 | ``StoreError/Code-swift.struct/notFound``, unknown paths |
/// | `MethodNotAllowed` | 405 | a known path with another method |
/// | `AlreadyExists` | 409 | ``StoreError/Code-swift.struct/alreadyExists`` |
/// | `Conflict` | 409 | ``StoreError/Code-swift.struct/conflict`` (both versions in `details`) |
/// | `Expired` | 410 | ``StoreError/Code-swift.struct/revisionCompacted`` |
/// | `TooLarge` | 413 | a body over the limit |
/// | `Invalid` | 422 | validation errors; ``StoreError/Code-swift.struct/invalid`` |
/// | `InternalError` | 500 | a bug or a broken store (database, key file, internal) — never bad input |
/// | `Unavailable` | 503 | the store is closed (shutting down), a cancelled read |
///
/// Field errors: all of them go into `details.causes`, the first one's path into `details.field`.
/// A document with any syntax-level problem (not JSON, an unknown or repeated field, a value of
/// the wrong JSON type — ``FieldError/Reason-swift.enum`` says which) is a malformed request, 400,
/// as Kubernetes answers for strict decoding errors and as the Model documents its reasons; a
/// document that is well-formed but breaks a rule is 422. Both list every cause, so a client can
/// show all problems at once either way.
struct APIError: Error, Sendable, Equatable {
  /// The machine-readable reason (`reason` in the body); it determines the status code.
  enum Reason: String, Sendable, Equatable {
    case badRequest = "BadRequest"
    case unauthorized = "Unauthorized"
    case forbidden = "Forbidden"
    case notFound = "NotFound"
    case methodNotAllowed = "MethodNotAllowed"
    case alreadyExists = "AlreadyExists"
    case conflict = "Conflict"
    case expired = "Expired"
    case tooLarge = "TooLarge"
    case invalid = "Invalid"
    case internalError = "InternalError"
    case unavailable = "Unavailable"

    var status: HTTPResponse.Status {
      switch self {
      case .badRequest: .badRequest
      case .unauthorized: .unauthorized
      case .forbidden: .forbidden
      case .notFound: .notFound
      case .methodNotAllowed: .methodNotAllowed
      case .alreadyExists, .conflict: .conflict
      case .expired: .gone
      case .tooLarge: .contentTooLarge
      case .invalid: .unprocessableContent
      case .internalError: .internalServerError
      case .unavailable: .serviceUnavailable
      }
    }
  }

  /// One field error in `details.causes`.
  struct Cause: Sendable, Equatable, Encodable {
    var field: String
    var message: String
    var reason: String
  }

  /// `details`: what the error is about. Every member is optional and left out when absent.
  struct Details: Sendable, Equatable, Encodable {
    var kind: String?
    var name: String?
    var field: String?
    var causes: [Cause]?
    var currentResourceVersion: String?
    var expectedResourceVersion: String?

    var isEmpty: Bool { self == Details() }
  }

  var reason: Reason
  var message: String
  var details = Details()
  /// Extra response headers (`Allow` for 405, `WWW-Authenticate` for 401).
  var headers: HTTPFields = [:]

  var status: HTTPResponse.Status { reason.status }

  init(_ reason: Reason, _ message: String, details: Details = Details(), headers: HTTPFields = [:]) {
    self.reason = reason
    self.message = message
    self.details = details
    self.headers = headers
  }

  // MARK: Mapping

  /// Any error as an API error: itself, a mapped ``StoreError`` or ``FieldErrors``, or (anything
  /// else — a bug) `InternalError`.
  init(_ error: any Error) {
    switch error {
    case let error as APIError: self = error
    case let error as StoreError: self.init(store: error)
    case let error as FieldErrors: self.init(fields: error)
    case let error as FieldError: self.init(fields: FieldErrors([error]))
    default: self.init(.internalError, "internal error: \(error)")
    }
  }

  /// The mapping of store errors.
  init(store error: StoreError) {
    let reason: Reason =
      switch error.code {
      case .notFound: .notFound
      case .alreadyExists: .alreadyExists
      case .conflict: .conflict
      case .invalid: .invalid
      case .revisionCompacted: .expired
      case .closed, .cancelled, .watchTooSlow: .unavailable
      default: .internalError  // database, keyFile, locked, internal, and codes added later
      }
    var details = Details()
    if let key = error.key {
      details.kind = key.kind
      details.name = key.name
    }
    details.currentResourceVersion = error.currentResourceVersion.map(String.init)
    details.expectedResourceVersion = error.expectedResourceVersion.map(String.init)
    // `description` is "message; fix" and never carries secrets (StoreError's contract);
    // SQLite's own text (`underlying`) stays in the log.
    self.init(reason, error.description, details: details)
  }

  /// The mapping of decoding and validation errors: every error in `causes`.
  init(fields errors: FieldErrors) {
    let malformed: Set<FieldError.Reason> = [.invalidJSON, .unknownField, .duplicateField, .wrongType]
    let reason: Reason = errors.contains { malformed.contains($0.reason) } ? .badRequest : .invalid
    var message = errors.first?.description ?? "the document is invalid"
    if errors.count > 1 { message += " (and \(errors.count - 1) more: see details.causes)" }
    var details = Details()
    details.field = errors.first?.path
    details.causes = errors.map { Cause(field: $0.path, message: $0.message, reason: $0.reason.rawValue) }
    self.init(reason, message, details: details)
  }

  // MARK: Constructors

  static func badRequest(_ message: String, field: String? = nil) -> APIError {
    var details = Details()
    details.field = field
    return APIError(.badRequest, message, details: details)
  }

  static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }

  static func forbidden(_ message: String) -> APIError { APIError(.forbidden, message) }

  static func methodNotAllowed(_ method: HTTPRequest.Method, _ route: Route) -> APIError {
    var headers = HTTPFields()
    headers[.allow] = route.allowedMethods.map(\.rawValue).joined(separator: ", ")
    var message = "\(method.rawValue) is not allowed on \(route.pattern); allowed: \(headers[.allow] ?? "")"
    if route.isStatus { message = "the status is written by the host only; " + message }
    return APIError(.methodNotAllowed, message, headers: headers)
  }

  /// A field error reported as one cause (the same shape as the Model's).
  static func invalidField(_ field: String, _ message: String, reason: FieldError.Reason = .invalid) -> APIError {
    var details = Details()
    details.field = field
    details.causes = [Cause(field: field, message: message, reason: reason.rawValue)]
    let status: Reason = reason == .invalid || reason == .required ? .invalid : .badRequest
    return APIError(status, field.isEmpty ? message : "\(field): \(message)", details: details)
  }

  /// The error with `kind`/`name` filled in where the error itself did not say.
  func about(kind: Kind?, name: String?) -> APIError {
    var copy = self
    if copy.details.kind == nil { copy.details.kind = kind?.rawValue }
    if copy.details.name == nil, let name, !name.isEmpty { copy.details.name = name }
    return copy
  }

  // MARK: Rendering

  struct Body: Encodable {
    var message: String
    var reason: String
    var code: Int
    var details: Details?
  }

  /// The JSON body object (also the `object` of a watch `ERROR` line).
  var body: Body {
    Body(message: message, reason: reason.rawValue, code: status.code, details: details.isEmpty ? nil : details)
  }

  /// The HTTP response.
  func response() -> Response {
    var response = JSONResponse.make(status: status, body)
    for field in headers { response.headers.append(field) }
    return response
  }
}
