/// One observation about an object, as in Kubernetes (`status.conditions[]`).
public struct Condition: Sendable, Hashable, Codable {
  /// CamelCase, unique within one object (`Ready`, `Provisioned`, `ContainerRunning`).
  public var type: String
  /// `True`, `False` or `Unknown`.
  public var status: ConditionStatus
  /// A CamelCase machine-readable cause (`BackendUnavailable`).
  public var reason: String
  /// A sentence for humans.
  public var message: String
  /// When `status` last changed (not when the condition was last written).
  public var lastTransitionTime: Timestamp
  /// The `metadata.generation` the condition was computed from.
  public var observedGeneration: Int64?

  public init(
    type: String, status: ConditionStatus, reason: String, message: String = "",
    lastTransitionTime: Timestamp = .now(), observedGeneration: Int64? = nil
  ) {
    self.type = type
    self.status = status
    self.reason = reason
    self.message = message
    self.lastTransitionTime = lastTransitionTime
    self.observedGeneration = observedGeneration
  }
}

/// The part of `status` every kind shares. Written only by the host.
public protocol ResourceStatus: Sendable, Hashable, Codable {
  /// The coarse state (see ``Phase`` for which values each kind uses).
  var phase: Phase? { get set }
  /// The `metadata.generation` of the last fully successful reconcile.
  var observedGeneration: Int64? { get set }
  var conditions: [Condition]? { get set }
  /// The last reconcile error, cleared on success.
  var message: String? { get set }
  /// An empty status (what a new object has).
  init()
}

extension ResourceStatus {
  /// The condition of type `type`, if present.
  public func condition(_ type: String) -> Condition? {
    conditions?.first { $0.type == type }
  }

  /// Adds or updates the condition of `condition.type` with Kubernetes' rule: the stored
  /// `lastTransitionTime` changes only when `status` changes; reason, message and
  /// observedGeneration are always taken from `condition`.
  public mutating func setCondition(_ condition: Condition) {
    var list = conditions ?? []
    if let index = list.firstIndex(where: { $0.type == condition.type }) {
      var updated = condition
      if list[index].status == condition.status { updated.lastTransitionTime = list[index].lastTransitionTime }
      list[index] = updated
    } else {
      list.append(condition)
    }
    conditions = list
  }

  /// Removes the condition of type `type`, if present.
  public mutating func removeCondition(_ type: String) {
    conditions?.removeAll { $0.type == type }
    if conditions?.isEmpty == true { conditions = nil }
  }

  /// Whether the status carries nothing (a new object's status); such a status is not encoded.
  public var isEmpty: Bool { self == Self() }
}
