/// Wire models of the `hiclaw.worker-backend/1` protocol (schema: `worker-backend.v1.json`).
///
/// A worker backend runs named instances (containers, Pods, VMs). Every method is idempotent and
/// keyed by the instance `name`; the host promises at most one in-flight call per name.
///
/// | method | request → response | idempotency |
/// |---|---|---|
/// | `ping` | ``EmptyRequest`` → ``PingResponse`` | read-only |
/// | `create` | ``CreateRequest`` → ``InstanceStatus`` | existing name → `ALREADY_EXISTS`, `{"id"}` |
/// | `start` | ``StartRequest`` → ``InstanceStatus`` | running → OK; unknown → `NOT_FOUND` |
/// | `stop` | ``StopRequest`` → ``InstanceStatus`` | stopped → OK; unknown → `NOT_FOUND` |
/// | `delete` | ``DeleteRequest`` → ``DeleteResponse`` | unknown → `NOT_FOUND` (host: success) |
/// | `inspect` | ``InspectRequest`` → ``InstanceStatus`` | read-only; unknown → `NOT_FOUND` |
/// | `list` | ``ListRequest`` → ``InstanceList`` | read-only |
/// | `logs` | ``LogsRequest`` → ``LogsResponse`` | read-only; unknown → `NOT_FOUND` |
/// | `recover` | ``RecoverRequest`` → ``InstanceList`` | read-only; unknown names are absent |
///
/// The host treats `ALREADY_EXISTS` from `create` and `NOT_FOUND` from `delete` as success.
public enum WorkerBackendV1 {
  /// `"hiclaw.worker-backend/1"`.
  public static let protocolID = "hiclaw.worker-backend/1"

  /// The methods, in schema order.
  public enum Method: String, Sendable, Hashable, CaseIterable {
    case ping, create, start, stop, delete, inspect, list, logs, recover
  }

  // MARK: create

  /// A port to publish: `{"name"?,"container":8080,"host":0?,"protocol":"tcp"?}`.
  public struct Port: Codable, Sendable, Hashable {
    /// An optional name (`"http"`), echoed in endpoints.
    public var name: String?
    /// The port inside the instance.
    public var container: Int
    /// The host port; 0 or absent lets the backend choose (or not publish).
    public var host: Int?
    /// `"tcp"` (default) or `"udp"`.
    public var `protocol`: String?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String? = nil, container: Int, host: Int? = nil, protocol: String? = nil) {
      self.name = name
      self.container = container
      self.host = host
      self.protocol = `protocol`
    }

    enum CodingKeys: String, CodingKey {
      case name, container, host, `protocol`
    }
  }

  /// A bind mount: `{"source","target","read_only"?}`.
  public struct Mount: Codable, Sendable, Hashable {
    /// The host path or volume name.
    public var source: String
    /// The path inside the instance.
    public var target: String
    /// Mount read-only (default false).
    public var readOnly: Bool?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(source: String, target: String, readOnly: Bool? = nil) {
      self.source = source
      self.target = target
      self.readOnly = readOnly
    }

    enum CodingKeys: String, CodingKey {
      case source, target
      case readOnly = "read_only"
    }
  }

  /// Resource limits, Kubernetes quantity syntax: `{"cpu"?:"1","memory"?:"1Gi"}`.
  public struct Resources: Codable, Sendable, Hashable {
    /// CPU limit (`"1"`, `"500m"`).
    public var cpu: String?
    /// Memory limit (`"1Gi"`, `"512Mi"`).
    public var memory: String?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(cpu: String? = nil, memory: String? = nil) {
      self.cpu = cpu
      self.memory = memory
    }
  }

  /// `create` request.
  public struct CreateRequest: Codable, Sendable, Hashable {
    /// The instance name; unique per backend. Required, non-empty.
    public var name: String
    /// The image to run. Required.
    public var image: String
    /// The command (entrypoint + args); nil keeps the image's.
    public var command: [String]?
    /// Environment variables.
    public var env: [String: String]?
    /// Labels; `list` selects on them.
    public var labels: [String: String]?
    /// Ports to publish.
    public var ports: [Port]?
    /// Mounts.
    public var mounts: [Mount]?
    /// Resource limits.
    public var resources: Resources?
    /// The network to attach to (backend-specific name).
    public var network: String?
    /// Start the instance once it is created (default false): one call instead of `create`,
    /// then `start`. Added in a later revision of protocol 1: a backend that does not know it
    /// ignores it and returns the instance as created, so callers check the returned state and
    /// call `start` if it is not running.
    public var start: Bool?
    /// Free-form, backend-specific settings.
    public var config: [String: JSONValue]?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(
      name: String, image: String, command: [String]? = nil, env: [String: String]? = nil,
      labels: [String: String]? = nil, ports: [Port]? = nil, mounts: [Mount]? = nil,
      resources: Resources? = nil, network: String? = nil, start: Bool? = nil, config: [String: JSONValue]? = nil
    ) {
      self.name = name
      self.image = image
      self.command = command
      self.env = env
      self.labels = labels
      self.ports = ports
      self.mounts = mounts
      self.resources = resources
      self.network = network
      self.start = start
      self.config = config
    }
  }

  // MARK: instance status

  /// The state of an instance. Unknown wire values decode as ``unknown``.
  public enum InstanceState: String, Codable, Sendable, Hashable, CaseIterable {
    /// Created, never started.
    case created
    /// Running.
    case running
    /// Stopped on request (`stop`).
    case stopped
    /// Exited on its own; see ``InstanceStatus/exitCode``.
    case exited
    /// The backend cannot tell.
    case unknown

    public init(from decoder: any Decoder) throws {
      let raw = try decoder.singleValueContainer().decode(String.self)
      self = InstanceState(rawValue: raw) ?? .unknown
    }
  }

  /// A reachable endpoint of an instance: `{"name"?,"url"}`.
  public struct Endpoint: Codable, Sendable, Hashable {
    /// The port name it belongs to.
    public var name: String?
    /// The URL (`http://127.0.0.1:32768`).
    public var url: String

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String? = nil, url: String) {
      self.name = name
      self.url = url
    }
  }

  /// The status of one instance, returned by create/start/stop/inspect and in lists:
  /// `{"name","id","state","exit_code"?,"labels":{},"image"?,"endpoints"?,"message"?}`.
  public struct InstanceStatus: Codable, Sendable, Hashable {
    /// The instance name.
    public var name: String
    /// The backend's id (container id, Pod uid, VM id).
    public var id: String
    /// The state.
    public var state: InstanceState
    /// The exit code, for `exited` (and `stopped` if known).
    public var exitCode: Int?
    /// The instance's labels (`{}` if none).
    public var labels: [String: String]
    /// The image.
    public var image: String?
    /// Reachable endpoints.
    public var endpoints: [Endpoint]?
    /// A human-readable note (last error, reason of exit).
    public var message: String?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(
      name: String, id: String, state: InstanceState, exitCode: Int? = nil,
      labels: [String: String] = [:], image: String? = nil, endpoints: [Endpoint]? = nil,
      message: String? = nil
    ) {
      self.name = name
      self.id = id
      self.state = state
      self.exitCode = exitCode
      self.labels = labels
      self.image = image
      self.endpoints = endpoints
      self.message = message
    }

    enum CodingKeys: String, CodingKey {
      case name, id, state, labels, image, endpoints, message
      case exitCode = "exit_code"
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      name = try container.decode(String.self, forKey: .name)
      id = try container.decode(String.self, forKey: .id)
      state = try container.decode(InstanceState.self, forKey: .state)
      exitCode = try container.decodeIfPresent(Int.self, forKey: .exitCode)
      labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
      image = try container.decodeIfPresent(String.self, forKey: .image)
      endpoints = try container.decodeIfPresent([Endpoint].self, forKey: .endpoints)
      message = try container.decodeIfPresent(String.self, forKey: .message)
    }
  }

  // MARK: start / stop / delete / inspect

  /// A request naming one instance: `{"name"}` (`start`, `delete`, `inspect`).
  public struct NameRequest: Codable, Sendable, Hashable {
    /// The instance name.
    public var name: String

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String) { self.name = name }
  }

  /// `start` request: `{"name"}`.
  public typealias StartRequest = NameRequest
  /// `delete` request: `{"name"}`.
  public typealias DeleteRequest = NameRequest
  /// `inspect` request: `{"name"}`.
  public typealias InspectRequest = NameRequest

  /// `stop` request: `{"name","timeout_s"?}`.
  public struct StopRequest: Codable, Sendable, Hashable {
    /// The instance name.
    public var name: String
    /// Seconds to wait for a graceful stop before killing (backend default when nil).
    public var timeoutSeconds: Int?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String, timeoutSeconds: Int? = nil) {
      self.name = name
      self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey {
      case name
      case timeoutSeconds = "timeout_s"
    }
  }

  /// `delete` response: `{"name","deleted":true}`.
  public struct DeleteResponse: Codable, Sendable, Hashable {
    /// The instance name.
    public var name: String
    /// Always true on success.
    public var deleted: Bool

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String, deleted: Bool = true) {
      self.name = name
      self.deleted = deleted
    }
  }

  // MARK: list / recover

  /// `list` request: `{"labels":{…}}`. Every given label must match; none (or `{}`) lists all.
  public struct ListRequest: Codable, Sendable, Hashable {
    /// The label selector.
    public var labels: [String: String]

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(labels: [String: String] = [:]) { self.labels = labels }

    enum CodingKeys: String, CodingKey {
      case labels
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }

    /// True if `instanceLabels` has every label of this selector.
    public func matches(_ instanceLabels: [String: String]) -> Bool {
      labels.allSatisfy { instanceLabels[$0.key] == $0.value }
    }
  }

  /// `list` and `recover` response: `{"items":[status…]}`.
  public struct InstanceList: Codable, Sendable, Hashable {
    /// The instances.
    public var items: [InstanceStatus]

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(items: [InstanceStatus]) { self.items = items }
  }

  /// `list` response.
  public typealias ListResponse = InstanceList
  /// `recover` response.
  public typealias RecoverResponse = InstanceList

  /// One instance the host knew before a restart: `{"name","id"?}`.
  public struct KnownInstance: Codable, Sendable, Hashable {
    /// The instance name.
    public var name: String
    /// The id the host last saw, if any.
    public var id: String?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String, id: String? = nil) {
      self.name = name
      self.id = id
    }
  }

  /// `recover` request: `{"known":[{"name","id"?}]}`. The response lists the known instances that
  /// still exist (a name whose instance was recreated comes back with its new id).
  public struct RecoverRequest: Codable, Sendable, Hashable {
    /// The instances the host knew.
    public var known: [KnownInstance]

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(known: [KnownInstance]) { self.known = known }
  }

  // MARK: logs

  /// `logs` request: `{"name","tail"?,"since_unix"?}`.
  public struct LogsRequest: Codable, Sendable, Hashable {
    /// The instance name.
    public var name: String
    /// Only the last `tail` lines (all when nil).
    public var tail: Int?
    /// Only lines written at or after this Unix time in seconds.
    public var sinceUnix: Int64?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String, tail: Int? = nil, sinceUnix: Int64? = nil) {
      self.name = name
      self.tail = tail
      self.sinceUnix = sinceUnix
    }

    enum CodingKeys: String, CodingKey {
      case name, tail
      case sinceUnix = "since_unix"
    }
  }

  /// `logs` response: `{"name","text"}`.
  public struct LogsResponse: Codable, Sendable, Hashable {
    /// The instance name.
    public var name: String
    /// The log text, lines separated by `\n`.
    public var text: String

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String, text: String) {
      self.name = name
      self.text = text
    }
  }
}
