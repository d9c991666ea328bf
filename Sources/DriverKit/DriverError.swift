@_exported import DriverABI
@_exported import DriverProtocols

/// The one error type of DriverKit: an ABI status plus the error-JSON fields.
///
/// Every driver entry point that can fail uses typed throws, `throws(DriverError)`. DriverKit's
/// trampolines turn a thrown `DriverError` into the `hc_status` return value and error JSON
/// (`{"code","message","retryable","details"}`) written into a host-allocated buffer, so no Swift
/// error ever crosses the C boundary.
///
/// Write messages that say what went wrong and how it may be fixed; they reach the user through
/// the host's status conditions and `hiclaw driver verify`.
public struct DriverError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The status returned to the host. Never ``DriverStatus/ok``.
  public var status: DriverStatus
  /// A human-readable message.
  public var message: String
  /// Whether retrying the same call may succeed; defaults to ``DriverStatus/retryable``.
  public var retryable: Bool
  /// Structured details (for example `{"id": …}` with `ALREADY_EXISTS`).
  public var details: [String: JSONValue]

  /// Creates an error. A status of `.ok` is turned into `.internal`, since success is not an error.
  public init(
    _ status: DriverStatus, _ message: String, retryable: Bool? = nil,
    details: [String: JSONValue] = [:]
  ) {
    let status = status == .ok ? .internal : status
    self.status = status
    self.message = message
    self.retryable = retryable ?? status.retryable
    self.details = details
  }

  /// Creates an error from error JSON received from a peer (a host service, for instance).
  public init(body: DriverErrorBody, fallback: DriverStatus = .internal) {
    self.init(
      body.status ?? fallback, body.message, retryable: body.retryable, details: body.details)
  }

  /// The error JSON body.
  public var body: DriverErrorBody {
    DriverErrorBody(status: status, message: message, retryable: retryable, details: details)
  }

  public var description: String { "\(status.name): \(message)" }

  // MARK: Factories, one per status

  /// `INVALID_ARGUMENT`: bad arguments or JSON. Name the field in the message.
  public static func invalidArgument(_ message: String, details: [String: JSONValue] = [:]) -> Self
  {
    Self(.invalidArgument, message, details: details)
  }

  /// `NOT_FOUND`: the object does not exist.
  public static func notFound(_ message: String, details: [String: JSONValue] = [:]) -> Self {
    Self(.notFound, message, details: details)
  }

  /// `ALREADY_EXISTS`: the object exists; `id` (if given) goes into `details.id`, which the host
  /// uses when it treats a repeated `create` as success.
  public static func alreadyExists(
    _ message: String, id: String? = nil, details: [String: JSONValue] = [:]
  ) -> Self {
    var details = details
    if let id { details["id"] = .string(id) }
    return Self(.alreadyExists, message, details: details)
  }

  /// `FAILED_PRECONDITION`: the world does not allow this now.
  public static func failedPrecondition(_ message: String, details: [String: JSONValue] = [:])
    -> Self
  {
    Self(.failedPrecondition, message, details: details)
  }

  /// `ABORTED`: a conflicting operation is in flight.
  public static func aborted(_ message: String, details: [String: JSONValue] = [:]) -> Self {
    Self(.aborted, message, details: details)
  }

  /// `UNAVAILABLE`: transient; the host retries.
  public static func unavailable(_ message: String, details: [String: JSONValue] = [:]) -> Self {
    Self(.unavailable, message, details: details)
  }

  /// `DEADLINE_EXCEEDED`: the operation took too long.
  public static func deadlineExceeded(_ message: String, details: [String: JSONValue] = [:])
    -> Self
  {
    Self(.deadlineExceeded, message, details: details)
  }

  /// `CANCELLED`: the host cancelled the request.
  public static func cancelled(_ message: String = "the request was cancelled") -> Self {
    Self(.cancelled, message)
  }

  /// `UNIMPLEMENTED` for a method: the message names the driver and the methods it implements.
  public static func unimplemented(_ method: String) -> Self {
    guard let registration = DriverRuntime.registration else {
      return Self(.unimplemented, "method '\(method)' is not implemented")
    }
    return Self(
      .unimplemented,
      "method '\(method)' is not implemented by driver '\(registration.name)'; "
        + "implemented methods: "
        + registration.methods.joined(separator: ", "),
      details: [
        "method": .string(method), "implemented": .array(registration.methods.map { .string($0) }),
      ])
  }

  /// `UNIMPLEMENTED` for a feature other than a method.
  public static func unimplemented(feature message: String) -> Self {
    Self(.unimplemented, message)
  }

  /// `PERMISSION_DENIED`: the credentials lack the right.
  public static func permissionDenied(_ message: String, details: [String: JSONValue] = [:])
    -> Self
  {
    Self(.permissionDenied, message, details: details)
  }

  /// `RESOURCE_EXHAUSTED`: quota or capacity.
  public static func resourceExhausted(_ message: String, details: [String: JSONValue] = [:])
    -> Self
  {
    Self(.resourceExhausted, message, details: details)
  }

  /// `INTERNAL`: a bug in the driver.
  public static func internalError(_ message: String, details: [String: JSONValue] = [:]) -> Self {
    Self(.internal, message, details: details)
  }

  /// `VERSION_MISMATCH`: an ABI or protocol version is not supported.
  public static func versionMismatch(_ message: String, details: [String: JSONValue] = [:]) -> Self
  {
    Self(.versionMismatch, message, details: details)
  }
}
