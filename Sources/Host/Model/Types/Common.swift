/// An MCP server an agent may call through the AI gateway (`mcpServers[]`).
public struct MCPServer: Sendable, Hashable, Codable {
  /// Required; unique within one `mcpServers` list.
  public var name: String
  /// Required; an `http://` or `https://` URL.
  public var url: String
  /// `http` (default) or `sse`.
  public var transport: MCPTransport?

  public init(name: String, url: String, transport: MCPTransport? = nil) {
    self.name = name
    self.url = url
    self.transport = transport
  }
}

/// A container port published through the AI gateway (`expose[]`).
public struct ExposePort: Sendable, Hashable, Codable {
  /// Required; 1…65535.
  public var port: Int
  /// `http` (default) or `grpc`.
  public var `protocol`: ExposeProtocol?

  public init(port: Int, protocol: ExposeProtocol? = nil) {
    self.port = port
    self.protocol = `protocol`
  }
}

/// Extra Matrix users an agent accepts or ignores, on top of the generated policy. Entries are
/// full Matrix IDs (`@alice:example.org`) or bare localparts (`alice`, expanded with the
/// homeserver's domain). Deny wins over allow.
public struct ChannelPolicy: Sendable, Hashable, Codable {
  public var groupAllowExtra: [String]?
  public var groupDenyExtra: [String]?
  public var dmAllowExtra: [String]?
  public var dmDenyExtra: [String]?

  public init(
    groupAllowExtra: [String]? = nil, groupDenyExtra: [String]? = nil, dmAllowExtra: [String]? = nil,
    dmDenyExtra: [String]? = nil
  ) {
    self.groupAllowExtra = groupAllowExtra
    self.groupDenyExtra = groupDenyExtra
    self.dmAllowExtra = dmAllowExtra
    self.dmDenyExtra = dmDenyExtra
  }
}

/// Cloud credentials the credential-provider sidecar may mint for an agent (`accessEntries[]`).
public struct AccessEntry: Sendable, Hashable, Codable {
  /// Required: `object-storage`, `ai-gateway` or `ai-registry` (a Manager: the first two).
  public var service: AccessService
  /// Any of `read`, `write`, `list`, `delete`.
  public var permissions: [AccessPermission]?
  /// Free-form object read by the sidecar: `bucketRef`/`bucket`, `prefixes`,
  /// `gatewayRef`/`gatewayId`, `resources`; values may use `${self.name}`, `${self.kind}`,
  /// `${self.namespace}`.
  public var scope: JSONNode?

  public init(service: AccessService, permissions: [AccessPermission]? = nil, scope: JSONNode? = nil) {
    self.service = service
    self.permissions = permissions
    self.scope = scope
  }
}

/// Skills pulled from a Nacos AI registry (`remoteSkills[]`).
public struct RemoteSkillSource: Sendable, Hashable, Codable {
  /// Required: `nacos://[user:pass@]host[:port]/<namespace-id>`.
  public var source: String
  /// `sts-hiclaw`, `nacos` or `none`; when absent: `nacos` if `source` has credentials, else `none`.
  public var authType: RemoteSkillAuthType?
  /// Required, at least one.
  public var skills: [RemoteSkill]

  public init(source: String, authType: RemoteSkillAuthType? = nil, skills: [RemoteSkill]) {
    self.source = source
    self.authType = authType
    self.skills = skills
  }

  /// Whether `source` carries `user:pass@` credentials.
  public var sourceHasCredentials: Bool {
    guard source.hasPrefix("nacos://") else { return false }
    let authority = source.dropFirst("nacos://".count).prefix { $0 != "/" }
    return authority.contains("@")
  }
}

/// One skill of a remote source: the latest version, a pinned `version`, or a `label` (not both).
public struct RemoteSkill: Sendable, Hashable, Codable {
  public var name: String
  public var version: String?
  public var label: String?

  public init(name: String, version: String? = nil, label: String? = nil) {
    self.name = name
    self.version = version
    self.label = label
  }
}

/// A port the gateway publishes for an agent, with the domain it answers on (status).
public struct ExposedPort: Sendable, Hashable, Codable {
  public var port: Int
  public var domain: String

  public init(port: Int, domain: String) {
    self.port = port
    self.domain = domain
  }
}
