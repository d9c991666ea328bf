/// A hiclaw object: `apiVersion`, `kind`, `metadata`, `spec` and `status`, as in Kubernetes.
///
/// The four kinds (``Worker``, ``Team``, ``Human``, ``Manager``) conform; ``AnyResource`` holds
/// any of them. Encoding writes `apiVersion` and `kind`, and leaves `status` out while it is
/// empty. Decoding with a plain `JSONDecoder` checks `apiVersion`/`kind` and requires `spec`;
/// ``ResourceDecoder`` is the strict, error-collecting entry point for user input.
public protocol Resource: Sendable, Hashable, Codable {
  associatedtype Spec: Sendable & Hashable & Codable
  associatedtype Status: ResourceStatus

  static var kind: Kind { get }
  var metadata: ObjectMeta { get set }
  var spec: Spec { get set }
  var status: Status { get set }

  init(metadata: ObjectMeta, spec: Spec, status: Status)
}

enum ResourceCodingKeys: String, CodingKey {
  case apiVersion, kind, metadata, spec, status
}

extension Resource {
  public var name: String { metadata.name }
  public var namespace: String { metadata.namespace }
  public var kind: Kind { Self.kind }

  /// `kind/name`, as the CLI prints it (`worker/alice`).
  public var reference: String { "\(Self.kind.singular)/\(metadata.name)" }

  /// Every kind decodes the same envelope (the kinds declare only their fields).
  public init(from decoder: any Decoder) throws {
    let (metadata, spec, status) = try Self.decodeEnvelope(from: decoder)
    self.init(metadata: metadata, spec: spec, status: status)
  }

  /// Every kind encodes the same envelope: `apiVersion`, `kind`, `metadata`, `spec`, and
  /// `status` unless it is empty.
  public func encode(to encoder: any Encoder) throws { try encodeEnvelope(to: encoder) }

  static func decodeEnvelope(from decoder: any Decoder) throws -> (ObjectMeta, Spec, Status) {
    let container = try decoder.container(keyedBy: ResourceCodingKeys.self)
    let apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
    let kind = try container.decodeIfPresent(String.self, forKey: .kind)
    // ResourceDecoder checks these itself (with better messages) before decoding.
    if !(decoder is StrictDecoder) {
      guard apiVersion == hiclawAPIVersion else {
        throw DecodingError.dataCorruptedError(
          forKey: .apiVersion, in: container,
          debugDescription: "apiVersion must be \(hiclawAPIVersion), got \(apiVersion ?? "nothing")")
      }
      guard kind == Self.kind.rawValue else {
        throw DecodingError.dataCorruptedError(
          forKey: .kind, in: container, debugDescription: "kind must be \(Self.kind.rawValue), got \(kind ?? "nothing")")
      }
    }
    let metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta(name: "")
    let spec = try container.decode(Spec.self, forKey: .spec)
    let status = try container.decodeIfPresent(Status.self, forKey: .status) ?? Status()
    return (metadata, spec, status)
  }

  func encodeEnvelope(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: ResourceCodingKeys.self)
    try container.encode(hiclawAPIVersion, forKey: .apiVersion)
    try container.encode(Self.kind.rawValue, forKey: .kind)
    try container.encode(metadata, forKey: .metadata)
    try container.encode(spec, forKey: .spec)
    if !status.isEmpty { try container.encode(status, forKey: .status) }
  }
}

/// Any one of the four kinds.
public enum AnyResource: Sendable, Hashable, Codable {
  case worker(Worker)
  case team(Team)
  case human(Human)
  case manager(Manager)

  public init(_ resource: some Resource) {
    switch resource {
    case let worker as Worker: self = .worker(worker)
    case let team as Team: self = .team(team)
    case let human as Human: self = .human(human)
    case let manager as Manager: self = .manager(manager)
    default: preconditionFailure("AnyResource: \(type(of: resource)) is not one of the four kinds")
    }
  }

  /// The wrapped value as an existential (for code generic over ``Resource``).
  public var base: any Resource {
    switch self {
    case .worker(let value): value
    case .team(let value): value
    case .human(let value): value
    case .manager(let value): value
    }
  }

  public var kind: Kind {
    switch self {
    case .worker: .worker
    case .team: .team
    case .human: .human
    case .manager: .manager
    }
  }

  public var metadata: ObjectMeta {
    get { base.metadata }
    set {
      switch self {
      case .worker(var value): value.metadata = newValue; self = .worker(value)
      case .team(var value): value.metadata = newValue; self = .team(value)
      case .human(var value): value.metadata = newValue; self = .human(value)
      case .manager(var value): value.metadata = newValue; self = .manager(value)
      }
    }
  }

  public var name: String { metadata.name }
  public var namespace: String { metadata.namespace }
  /// `kind/name` (`team/alpha`).
  public var reference: String { "\(kind.singular)/\(metadata.name)" }

  public var worker: Worker? { if case .worker(let value) = self { value } else { nil } }
  public var team: Team? { if case .team(let value) = self { value } else { nil } }
  public var human: Human? { if case .human(let value) = self { value } else { nil } }
  public var manager: Manager? { if case .manager(let value) = self { value } else { nil } }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: ResourceCodingKeys.self)
    let kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? ""
    switch Kind(rawValue: kind) {
    case .worker: self = .worker(try Worker(from: decoder))
    case .team: self = .team(try Team(from: decoder))
    case .human: self = .human(try Human(from: decoder))
    case .manager: self = .manager(try Manager(from: decoder))
    case nil:
      throw DecodingError.dataCorruptedError(
        forKey: .kind, in: container, debugDescription: "kind must be one of Worker, Team, Human, Manager")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    try base.encode(to: encoder)
  }
}
