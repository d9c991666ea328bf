/// A string-valued enumeration that keeps values it does not know.
///
/// Decoding never fails on an unexpected value; validation reports it with its path and the
/// allowed values instead, together with every other problem in the document. `known` lists
/// the values the schema allows.
public protocol OpenStringEnum: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral,
  CustomStringConvertible, Comparable
where RawValue == String {
  init(rawValue: String)
  /// The values the schema allows, in the order error messages list them.
  static var known: [Self] { get }
}

extension OpenStringEnum {
  public init(stringLiteral value: String) { self.init(rawValue: value) }
  public var description: String { rawValue }
  public var isKnown: Bool { Self.known.contains(self) }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

  public init(from decoder: any Decoder) throws {
    self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

/// An agent runtime (the engine inside a worker's container), served by a runtime driver.
public struct Runtime: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let openclaw: Runtime = "openclaw"
  public static let copaw: Runtime = "copaw"
  public static let hermes: Runtime = "hermes"
  public static let zeroclaw: Runtime = "zeroclaw"
  public static let nanoclaw: Runtime = "nanoclaw"

  /// Runtimes a Worker or Team worker may use: one per first-party runtime driver.
  public static let known: [Runtime] = [.openclaw, .copaw, .hermes, .zeroclaw, .nanoclaw]
  /// Runtimes a Manager may use (the Manager's skills exist only for these two).
  public static let manager: [Runtime] = [.openclaw, .copaw]
  /// The runtime of every team leader (the leader spec has no `runtime` field).
  public static let teamLeader: Runtime = .copaw
}

/// The desired lifecycle state of an agent's container (`spec.state`).
public struct DesiredState: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Container created and started.
  public static let running: DesiredState = "Running"
  /// Container stopped but kept (Docker) / Pod deleted (Kubernetes); woken on demand.
  public static let sleeping: DesiredState = "Sleeping"
  /// Container removed.
  public static let stopped: DesiredState = "Stopped"

  public static let known: [DesiredState] = [.running, .sleeping, .stopped]
}

/// How an MCP server is reached (`mcpServers[].transport`).
public struct MCPTransport: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let http: MCPTransport = "http"
  public static let sse: MCPTransport = "sse"

  public static let known: [MCPTransport] = [.http, .sse]
}

/// The protocol of an exposed port (`expose[].protocol`).
public struct ExposeProtocol: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let http: ExposeProtocol = "http"
  /// Upstream accepts `grpc` and silently routes it as HTTP/1 (§11 item 8); hiclaw keeps the
  /// value so the gateway provisioner can route it as gRPC.
  public static let grpc: ExposeProtocol = "grpc"

  public static let known: [ExposeProtocol] = [.http, .grpc]
}

/// The role of a human team member (`humanMembers[].role`).
public struct HumanRole: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Joins the Team Room and may assign work.
  public static let coordinator: HumanRole = "coordinator"

  public static let known: [HumanRole] = [.coordinator]
}

/// The cloud service an access entry grants (`accessEntries[].service`).
public struct AccessService: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let objectStorage: AccessService = "object-storage"
  public static let aiGateway: AccessService = "ai-gateway"
  public static let aiRegistry: AccessService = "ai-registry"

  public static let known: [AccessService] = [.objectStorage, .aiGateway, .aiRegistry]
  /// The services a Manager's access entries may name.
  public static let manager: [AccessService] = [.objectStorage, .aiGateway]
}

/// One permission of an access entry (`accessEntries[].permissions[]`).
public struct AccessPermission: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let read: AccessPermission = "read"
  public static let write: AccessPermission = "write"
  public static let list: AccessPermission = "list"
  public static let delete: AccessPermission = "delete"

  public static let known: [AccessPermission] = [.read, .write, .list, .delete]
}

/// How hiclaw authenticates to a Nacos registry (`remoteSkills[].authType`).
public struct RemoteSkillAuthType: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Short-lived credentials from the cloud credential provider, HMAC-signed requests.
  public static let stsHiclaw: RemoteSkillAuthType = "sts-hiclaw"
  /// Nacos user login with the `user:pass@` of the source URI.
  public static let nacos: RemoteSkillAuthType = "nacos"
  /// Anonymous (the value `none`; named `anonymous` so that `.none` never means `nil` for an
  /// optional `authType`).
  public static let anonymous: RemoteSkillAuthType = "none"

  public static let known: [RemoteSkillAuthType] = [.stsHiclaw, .nacos, .anonymous]
}

/// A status phase. Which values a kind uses: Worker and Manager `Pending`, `Running`, `Sleeping`,
/// `Updating`, `Stopped`, `Failed`; Team `Pending`, `Active`, `Degraded`, `Failed`; Human
/// `Pending`, `Active`, `Failed`.
public struct Phase: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let pending: Phase = "Pending"
  public static let running: Phase = "Running"
  public static let sleeping: Phase = "Sleeping"
  public static let updating: Phase = "Updating"
  public static let stopped: Phase = "Stopped"
  public static let failed: Phase = "Failed"
  public static let active: Phase = "Active"
  public static let degraded: Phase = "Degraded"

  public static let known: [Phase] = [
    .pending, .running, .sleeping, .updating, .stopped, .failed, .active, .degraded,
  ]
  public static let worker: [Phase] = [.pending, .running, .sleeping, .updating, .stopped, .failed]
  public static let team: [Phase] = [.pending, .active, .degraded, .failed]
  public static let human: [Phase] = [.pending, .active, .failed]

  /// The phase that a successfully reconciled agent with desired `state` is in.
  public init(reached state: DesiredState) { self.init(rawValue: state.rawValue) }
}

/// The status of a condition: `True`, `False` or `Unknown` (as in Kubernetes).
public struct ConditionStatus: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let `true`: ConditionStatus = "True"
  public static let `false`: ConditionStatus = "False"
  public static let unknown: ConditionStatus = "Unknown"

  public static let known: [ConditionStatus] = [.true, .false, .unknown]

  public init(_ value: Bool) { self = value ? .true : .false }
}

/// The role of a team member in `TeamStatus.members[]`.
public struct MemberRole: OpenStringEnum {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }

  public static let teamLeader: MemberRole = "team_leader"
  public static let worker: MemberRole = "worker"

  public static let known: [MemberRole] = [.teamLeader, .worker]
}
