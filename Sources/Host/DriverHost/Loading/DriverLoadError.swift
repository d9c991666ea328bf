/// Why a driver could not be loaded: the stage that failed, the field at fault, what is wrong
/// (with both the expected and the actual value where there are two) and how to fix it.
///
/// The same error comes back whether the driver was loaded in process or by
/// `hiclaw-driver-runner` (the runner sends it over its socket), so messages stay identical.
public struct DriverLoadError: Error, Sendable, Codable, Equatable, CustomStringConvertible {
  public enum Stage: String, Sendable, Codable {
    case manifest, checksum, open, symbol, magic, initialize, vtable, describe, runner
  }

  public var stage: Stage
  /// The field at fault, e.g. `abi_major`, `library`, `hc_driver_api.call`.
  public var field: String?
  public var message: String
  public var fix: String

  public init(_ stage: Stage, field: String? = nil, _ message: String, fix: String) {
    self.stage = stage
    self.field = field
    self.message = message
    self.fix = fix
  }

  public var description: String {
    let location = field.map { "\(stage.rawValue) \($0)" } ?? stage.rawValue
    return "\(location): \(message); fix: \(fix)"
  }
}
