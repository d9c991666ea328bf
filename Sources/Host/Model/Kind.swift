/// The API group and version of every hiclaw resource.
public let hiclawAPIVersion = "hiclaw.io/v1beta1"

/// The four resource kinds.
///
/// `rawValue` is the `kind` as written in documents (`Worker`); ``plural`` names the REST
/// collection (`/api/v1/workers`); ``shortName`` is the CLI abbreviation (`wk`).
/// ``init(parsing:)`` accepts any of those, case-insensitively.
public enum Kind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
  case worker = "Worker"
  case team = "Team"
  case human = "Human"
  case manager = "Manager"

  /// The lower-case singular (`worker`).
  public var singular: String { rawValue.lowercased() }

  /// The lower-case plural (`workers`), also the REST collection name.
  public var plural: String { singular + "s" }

  /// The short name of the CLI (`wk`, `tm`, `hm`, `mgr`).
  public var shortName: String {
    switch self {
    case .worker: "wk"
    case .team: "tm"
    case .human: "hm"
    case .manager: "mgr"
    }
  }

  public var description: String { rawValue }

  /// A kind from user input: singular, plural or short name in any case
  /// (`Worker`, `workers`, `WK`); `nil` for anything else.
  public init?(parsing text: String) {
    let wanted = text.lowercased()
    guard let kind = Kind.allCases.first(where: { [$0.singular, $0.plural, $0.shortName].contains(wanted) })
    else { return nil }
    self = kind
  }

  /// `worker/workers/wk, team/teams/tm, …`: the accepted spellings, for error messages.
  public static var choices: String {
    allCases.map { "\($0.singular)/\($0.plural)/\($0.shortName)" }.joined(separator: ", ")
  }
}
