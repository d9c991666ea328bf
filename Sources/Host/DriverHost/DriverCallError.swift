import DriverABI
import DriverProtocols
import Foundation

/// A failed driver call as the rest of the host sees it: the ABI status, the driver's message
/// and whether retrying makes sense.
public struct DriverCallError: Error, Sendable, Equatable, CustomStringConvertible {
  public var status: DriverStatus
  public var message: String
  public var retryable: Bool
  /// The `details` object of the driver's error JSON, if any (raw JSON).
  public var detailsJSON: String?

  public init(_ status: DriverStatus, _ message: String, retryable: Bool? = nil, detailsJSON: String? = nil) {
    self.status = status
    self.message = message
    self.retryable = retryable ?? status.retryable
    self.detailsJSON = detailsJSON
  }

  /// From a raw status and the error JSON a driver returned with it.
  public init(status raw: Int32, json: String, operation: String) {
    let status = DriverStatus(rawValue: raw) ?? .internal
    var message = "\(operation): \(status.name)"
    var retryable = status.retryable
    var details: String?
    if let parts = DriverErrorBody.quickParts(of: json) {
      if let text = parts.message { message = text }
      if let flag = parts.retryable { retryable = flag }
      details = parts.detailsJSON
    } else if let data = json.data(using: .utf8), !json.isEmpty,
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    {
      if let text = object["message"] as? String, !text.isEmpty { message = text }
      if let flag = object["retryable"] as? Bool { retryable = flag }
      if let detail = object["details"], JSONSerialization.isValidJSONObject(detail) { details = jsonString(detail) }
    }
    self.init(status, message, retryable: retryable, detailsJSON: details)
  }

  public var description: String { "\(status.name): \(message)" }
}

/// `"NOT_FOUND (2)"` for a raw status, or `"status 42 (not an hc_status)"`.
func statusName(_ status: Int32) -> String {
  guard let known = DriverStatus(rawValue: status) else { return "status \(status) (not an hc_status)" }
  return known.name
}

/// The `message` of an error body, if `json` is one.
func errorMessage(fromJSON json: String) -> String? {
  guard !json.isEmpty, let data = json.data(using: .utf8),
    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
  else { return json.isEmpty ? nil : json }
  return object["message"] as? String ?? json
}
