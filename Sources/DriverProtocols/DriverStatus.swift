/// The stable status codes of the driver ABI (`hc_status`, `HC_OK` … `HC_ERR_VERSION_MISMATCH`).
///
/// Raw values are exactly the header's numbers and are never renumbered or reused. The recovery
/// action is part of the contract: the host retries exactly the codes whose ``retryable`` is true.
public enum DriverStatus: Int32, Sendable, Hashable, CaseIterable {
  /// Success.
  case ok = 0
  /// Bad method arguments or JSON. Do not retry.
  case invalidArgument = 1
  /// The object does not exist. Idempotent success for deletes.
  case notFound = 2
  /// The object exists. Idempotent success for creates.
  case alreadyExists = 3
  /// The world is not in a state that allows this. Not retried as is: the condition must be fixed
  /// first (the host's reconcilers try again when something changes).
  case failedPrecondition = 4
  /// A conflicting operation is in flight. Retry with backoff.
  case aborted = 5
  /// Transient: a service is down, a runner is restarting. Retry.
  case unavailable = 6
  /// The call took too long. The host may retry (calls are idempotent).
  case deadlineExceeded = 7
  /// Cancelled by the host.
  case cancelled = 8
  /// Method or feature not supported. Never retry.
  case unimplemented = 9
  /// The credentials lack the right. Do not retry.
  case permissionDenied = 10
  /// Quota or capacity. Retry later.
  case resourceExhausted = 11
  /// A bug in the driver. The host reports it.
  case `internal` = 12
  /// ABI or protocol version not supported. Never retry.
  case versionMismatch = 13

  /// One past the highest defined code (`HC_STATUS_COUNT`).
  public static let count: Int32 = 14

  /// The wire name used in error JSON (`"NOT_FOUND"`).
  public var name: String {
    switch self {
    case .ok: "OK"
    case .invalidArgument: "INVALID_ARGUMENT"
    case .notFound: "NOT_FOUND"
    case .alreadyExists: "ALREADY_EXISTS"
    case .failedPrecondition: "FAILED_PRECONDITION"
    case .aborted: "ABORTED"
    case .unavailable: "UNAVAILABLE"
    case .deadlineExceeded: "DEADLINE_EXCEEDED"
    case .cancelled: "CANCELLED"
    case .unimplemented: "UNIMPLEMENTED"
    case .permissionDenied: "PERMISSION_DENIED"
    case .resourceExhausted: "RESOURCE_EXHAUSTED"
    case .internal: "INTERNAL"
    case .versionMismatch: "VERSION_MISMATCH"
    }
  }

  /// Whether the host retries a call that failed with this status (the header's "retry" marks):
  /// `ABORTED`, `UNAVAILABLE`, `DEADLINE_EXCEEDED` and `RESOURCE_EXHAUSTED`.
  public var retryable: Bool {
    switch self {
    case .aborted, .unavailable, .deadlineExceeded, .resourceExhausted: true
    default: false
    }
  }

  /// The status whose wire ``name`` is `name` (exact, upper case), or nil.
  public init?(name: String) {
    guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
    self = match
  }
}

extension DriverStatus: CustomStringConvertible {
  public var description: String { name }
}

/// The error JSON a driver may write on a non-OK status:
/// `{"code":"NOT_FOUND","message":"…","retryable":false,"details":{…}}`
/// (schema: `Sources/DriverABI/schemas/error.v1.json`).
///
/// `code` and `message` are required; a missing `retryable` defaults to the code's
/// ``DriverStatus/retryable`` and a missing `details` to `{}`.
public struct DriverErrorBody: Codable, Sendable, Hashable {
  /// The status name (`"NOT_FOUND"`); see ``DriverStatus/name``.
  public var code: String
  /// A human-readable message saying what went wrong and, where possible, how to fix it.
  public var message: String
  /// Whether retrying the same call may succeed.
  public var retryable: Bool
  /// Structured details, e.g. `{"id": "…"}` for `ALREADY_EXISTS` from `create`.
  public var details: [String: JSONValue]

  /// Creates a body for `status`; `retryable` defaults to the status's rule.
  public init(
    status: DriverStatus, message: String, retryable: Bool? = nil,
    details: [String: JSONValue] = [:]
  ) {
    self.code = status.name
    self.message = message
    self.retryable = retryable ?? status.retryable
    self.details = details
  }

  /// The status named by ``code``, or nil for an unknown name.
  public var status: DriverStatus? { DriverStatus(name: code) }

  enum CodingKeys: String, CodingKey {
    case code, message, retryable, details
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    code = try container.decode(String.self, forKey: .code)
    message = try container.decode(String.self, forKey: .message)
    retryable =
      try container.decodeIfPresent(Bool.self, forKey: .retryable)
      ?? (DriverStatus(name: code)?.retryable ?? false)
    details = try container.decodeIfPresent([String: JSONValue].self, forKey: .details) ?? [:]
  }
}
