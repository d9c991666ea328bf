/// The metadata every object carries, as in Kubernetes.
///
/// Users write `name`, optionally `namespace`, `labels` and `annotations`; the store sets the rest
/// (`uid`, `resourceVersion`, `generation`, `creationTimestamp`, `deletionTimestamp`,
/// `finalizers`). Empty maps and lists are left out when encoding; a missing or empty `namespace`
/// decodes as `"default"`.
public struct ObjectMeta: Sendable, Hashable, Codable {
  /// The namespace objects live in when none is given.
  public static let defaultNamespace = "default"
  /// The finalizer the host puts on every object so deletion runs its cleanup first.
  public static let cleanupFinalizer = "hiclaw.io/cleanup"

  public var name: String
  public var namespace: String
  /// Unique per object lifetime; a re-created object with the same name gets a new one.
  public var uid: String?
  /// Opaque version of the object for optimistic concurrency (a string, as in Kubernetes; the
  /// store writes its global revision in decimal).
  public var resourceVersion: String?
  /// Bumped by the store on every spec change (never for metadata or status changes).
  public var generation: Int64?
  public var creationTimestamp: Timestamp?
  /// Set when deletion was requested and finalizers are still pending.
  public var deletionTimestamp: Timestamp?
  public var labels: [String: String]
  public var annotations: [String: String]
  public var finalizers: [String]

  public init(
    name: String, namespace: String = ObjectMeta.defaultNamespace, uid: String? = nil,
    resourceVersion: String? = nil, generation: Int64? = nil, creationTimestamp: Timestamp? = nil,
    deletionTimestamp: Timestamp? = nil, labels: [String: String] = [:], annotations: [String: String] = [:],
    finalizers: [String] = []
  ) {
    self.name = name
    self.namespace = namespace
    self.uid = uid
    self.resourceVersion = resourceVersion
    self.generation = generation
    self.creationTimestamp = creationTimestamp
    self.deletionTimestamp = deletionTimestamp
    self.labels = labels
    self.annotations = annotations
    self.finalizers = finalizers
  }

  enum CodingKeys: String, CodingKey {
    case name, namespace, uid, resourceVersion, generation, creationTimestamp, deletionTimestamp, labels,
      annotations, finalizers
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
    let namespace = try container.decodeIfPresent(String.self, forKey: .namespace) ?? ""
    self.namespace = namespace.isEmpty ? Self.defaultNamespace : namespace
    uid = try container.decodeIfPresent(String.self, forKey: .uid)
    resourceVersion = try container.decodeIfPresent(String.self, forKey: .resourceVersion)
    generation = try container.decodeIfPresent(Int64.self, forKey: .generation)
    creationTimestamp = try container.decodeIfPresent(Timestamp.self, forKey: .creationTimestamp)
    deletionTimestamp = try container.decodeIfPresent(Timestamp.self, forKey: .deletionTimestamp)
    labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
    finalizers = try container.decodeIfPresent([String].self, forKey: .finalizers) ?? []
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(name, forKey: .name)
    try container.encode(namespace, forKey: .namespace)
    try container.encodeIfPresent(uid, forKey: .uid)
    try container.encodeIfPresent(resourceVersion, forKey: .resourceVersion)
    try container.encodeIfPresent(generation, forKey: .generation)
    try container.encodeIfPresent(creationTimestamp, forKey: .creationTimestamp)
    try container.encodeIfPresent(deletionTimestamp, forKey: .deletionTimestamp)
    if !labels.isEmpty { try container.encode(labels, forKey: .labels) }
    if !annotations.isEmpty { try container.encode(annotations, forKey: .annotations) }
    if !finalizers.isEmpty { try container.encode(finalizers, forKey: .finalizers) }
  }
}
