/// A person with a Matrix account who joins team and worker rooms (spec §2.3).
public struct Human: Resource {
  public static let kind = Kind.human

  public var metadata: ObjectMeta
  public var spec: HumanSpec
  public var status: HumanStatus

  public init(metadata: ObjectMeta, spec: HumanSpec, status: HumanStatus = HumanStatus()) {
    self.metadata = metadata
    self.spec = spec
    self.status = status
  }

  /// The Matrix localpart: `spec.username`, else `metadata.name`.
  public var effectiveUsername: String { spec.username.nonEmpty ?? metadata.name }
}

public struct HumanSpec: Sendable, Hashable, Codable {
  /// Required; the Matrix display name.
  public var displayName: String
  /// The Matrix localpart; default `metadata.name`.
  public var username: String?
  public var email: String?
  /// Required: 1 (admin-equivalent), 2 (team-scoped) or 3 (worker-only). Upstream's CLI help
  /// says 0–100 and its default 0 fails the schema (§11 item 14); hiclaw enforces 1…3 everywhere.
  public var permissionLevel: Int
  /// Team names: the human joins each Team Room.
  public var accessibleTeams: [String]?
  /// Standalone Worker names: the human joins each Worker Room.
  public var accessibleWorkers: [String]?
  public var note: String?

  public init(
    displayName: String, username: String? = nil, email: String? = nil, permissionLevel: Int,
    accessibleTeams: [String]? = nil, accessibleWorkers: [String]? = nil, note: String? = nil
  ) {
    self.displayName = displayName
    self.username = username
    self.email = email
    self.permissionLevel = permissionLevel
    self.accessibleTeams = accessibleTeams
    self.accessibleWorkers = accessibleWorkers
    self.note = note
  }
}

/// What the host observed about a Human.
public struct HumanStatus: ResourceStatus {
  /// `Pending`, `Active` or `Failed`.
  public var phase: Phase?
  public var observedGeneration: Int64?
  public var conditions: [Condition]?
  public var message: String?
  public var matrixUserID: String?
  /// The generated first password (returned by the API so the human can log in).
  public var initialPassword: String?
  /// The generation whose `displayName` was last pushed to the Matrix profile.
  public var displayNameSyncedGeneration: Int64?
  /// Room ids the human has actually joined.
  public var rooms: [String]?
  public var emailSent: Bool?

  public init() {}

  public init(
    phase: Phase? = nil, observedGeneration: Int64? = nil, conditions: [Condition]? = nil, message: String? = nil,
    matrixUserID: String? = nil, initialPassword: String? = nil, displayNameSyncedGeneration: Int64? = nil,
    rooms: [String]? = nil, emailSent: Bool? = nil
  ) {
    self.phase = phase
    self.observedGeneration = observedGeneration
    self.conditions = conditions
    self.message = message
    self.matrixUserID = matrixUserID
    self.initialPassword = initialPassword
    self.displayNameSyncedGeneration = displayNameSyncedGeneration
    self.rooms = rooms
    self.emailSent = emailSent
  }
}
