/// Wire models of the `hiclaw.agent-runtime/1` protocol (schema: `agent-runtime.v1.json`).
///
/// An agent runtime turns a worker's spec into what an agent engine (OpenClaw, Hermes, …) needs:
/// configuration files, environment, image, command, ports and a readiness probe. It performs no
/// side effects: every method is a pure function of its request, hence idempotent.
///
/// | method | request | response |
/// |---|---|---|
/// | `ping` | ``EmptyRequest`` | ``PingResponse`` |
/// | `describe` | ``EmptyRequest`` | ``RuntimeDescription`` |
/// | `validate` | ``ValidateRequest`` | ``ValidateResponse`` |
/// | `render` | ``RenderRequest`` | ``RenderResponse`` |
public enum AgentRuntimeV1 {
  /// `"hiclaw.agent-runtime/1"`.
  public static let protocolID = "hiclaw.agent-runtime/1"

  /// The methods, in schema order.
  public enum Method: String, Sendable, Hashable, CaseIterable {
    case ping, describe, validate, render
  }

  // MARK: describe

  /// `describe` response:
  /// `{"runtime":"hermes","display_name":"Hermes","default_image":"…","config_files":["…"],
  /// "supports":{…}}`.
  public struct RuntimeDescription: Codable, Sendable, Hashable {
    /// The runtime id (`"hermes"`), as used in a Worker's `spec.runtime`.
    public var runtime: String
    /// A human-readable name (`"Hermes"`).
    public var displayName: String
    /// The image used when the worker names none.
    public var defaultImage: String
    /// Paths (relative to the agent's home) of the configuration files `render` produces.
    public var configFiles: [String]
    /// Free-form feature flags (`{"mcp":true,"skills":true}`).
    public var supports: [String: JSONValue]

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(
      runtime: String, displayName: String, defaultImage: String, configFiles: [String] = [],
      supports: [String: JSONValue] = [:]
    ) {
      self.runtime = runtime
      self.displayName = displayName
      self.defaultImage = defaultImage
      self.configFiles = configFiles
      self.supports = supports
    }

    enum CodingKeys: String, CodingKey {
      case runtime, supports
      case displayName = "display_name"
      case defaultImage = "default_image"
      case configFiles = "config_files"
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      runtime = try container.decode(String.self, forKey: .runtime)
      displayName = try container.decode(String.self, forKey: .displayName)
      defaultImage = try container.decode(String.self, forKey: .defaultImage)
      configFiles = try container.decodeIfPresent([String].self, forKey: .configFiles) ?? []
      supports = try container.decodeIfPresent([String: JSONValue].self, forKey: .supports) ?? [:]
    }
  }

  /// `describe` response (alias).
  public typealias DescribeResponse = RuntimeDescription

  // MARK: validate

  /// The worker a request is about: `{"name","spec":{…}}`. `spec` is the Worker resource's spec,
  /// passed through as JSON.
  public struct Worker: Codable, Sendable, Hashable {
    /// The worker name.
    public var name: String
    /// The worker spec (free-form object).
    public var spec: [String: JSONValue]

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String, spec: [String: JSONValue] = [:]) {
      self.name = name
      self.spec = spec
    }
  }

  /// `validate` request: `{"worker":{"name","spec":{…}}}`.
  public struct ValidateRequest: Codable, Sendable, Hashable {
    /// The worker to validate.
    public var worker: Worker

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(worker: Worker) { self.worker = worker }
  }

  /// One validation problem: `{"field":"spec.model","message":"…"}`.
  public struct FieldError: Codable, Sendable, Hashable {
    /// The field path, relative to the worker (`spec.model`).
    public var field: String
    /// What is wrong and how to fix it.
    public var message: String

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(field: String, message: String) {
      self.field = field
      self.message = message
    }
  }

  /// `validate` response: `{"valid":bool,"errors":[…]}`. An invalid spec is a successful call
  /// with `valid: false`, not an error status.
  public struct ValidateResponse: Codable, Sendable, Hashable {
    /// True when ``errors`` is empty.
    public var valid: Bool
    /// The problems found.
    public var errors: [FieldError]

    /// Creates a response whose ``valid`` is true exactly when `errors` is empty.
    public init(errors: [FieldError]) {
      self.valid = errors.isEmpty
      self.errors = errors
    }

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(valid: Bool, errors: [FieldError]) {
      self.valid = valid
      self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
      case valid, errors
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      valid = try container.decode(Bool.self, forKey: .valid)
      errors = try container.decodeIfPresent([FieldError].self, forKey: .errors) ?? []
    }
  }

  // MARK: render

  /// `render` request: `{"worker":{"name","spec"},"context":{…}}`. `context` carries the
  /// endpoints of the Matrix homeserver, gateway and storage and references to credentials
  /// (secret refs, never secret values).
  public struct RenderRequest: Codable, Sendable, Hashable {
    /// The worker to render.
    public var worker: Worker
    /// Free-form environment of the deployment.
    public var context: [String: JSONValue]

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(worker: Worker, context: [String: JSONValue] = [:]) {
      self.worker = worker
      self.context = context
    }

    enum CodingKeys: String, CodingKey {
      case worker, context
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      worker = try container.decode(Worker.self, forKey: .worker)
      context = try container.decodeIfPresent([String: JSONValue].self, forKey: .context) ?? [:]
    }
  }

  /// How a rendered file is written.
  public enum FilePolicy: String, Codable, Sendable, Hashable, CaseIterable {
    /// Always rewritten.
    case overwrite
    /// Written only if absent, so that user edits survive.
    case seed
  }

  /// One rendered file: `{"path","content","mode":"0644","policy":"overwrite|seed"}`.
  public struct RenderedFile: Codable, Sendable, Hashable {
    /// The path relative to the agent's home (`config/openclaw.json`); never absolute, no `..`.
    public var path: String
    /// The UTF-8 content.
    public var content: String
    /// The octal permission string (`"0644"`); nil means `0644`.
    public var mode: String?
    /// The write policy (default ``FilePolicy/overwrite``).
    public var policy: FilePolicy

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(
      path: String, content: String, mode: String? = "0644", policy: FilePolicy = .overwrite
    ) {
      self.path = path
      self.content = content
      self.mode = mode
      self.policy = policy
    }

    enum CodingKeys: String, CodingKey {
      case path, content, mode, policy
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      path = try container.decode(String.self, forKey: .path)
      content = try container.decode(String.self, forKey: .content)
      mode = try container.decodeIfPresent(String.self, forKey: .mode)
      policy = try container.decodeIfPresent(FilePolicy.self, forKey: .policy) ?? .overwrite
    }
  }

  /// A port the agent listens on: `{"name","container","protocol"?}`.
  public struct Port: Codable, Sendable, Hashable {
    /// The port name (`"gateway"`).
    public var name: String
    /// The port inside the instance.
    public var container: Int
    /// `"tcp"` (default) or `"udp"`.
    public var `protocol`: String?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(name: String, container: Int, protocol: String? = nil) {
      self.name = name
      self.container = container
      self.protocol = `protocol`
    }

    enum CodingKeys: String, CodingKey {
      case name, container, `protocol`
    }
  }

  /// An HTTP readiness check: `{"path","port"}`.
  public struct HTTPProbe: Codable, Sendable, Hashable {
    /// The request path (`/healthz`).
    public var path: String
    /// The container port.
    public var port: Int

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(path: String, port: Int) {
      self.path = path
      self.port = port
    }
  }

  /// How to tell the agent is ready: an HTTP GET or a command, plus timing.
  /// `{"http":{"path","port"}? | "exec":[…]?, "initial_delay_ms"?, "period_ms"?, "timeout_ms"?}`.
  public struct Readiness: Codable, Sendable, Hashable {
    /// HTTP check (2xx/3xx means ready).
    public var http: HTTPProbe?
    /// Command check (exit 0 means ready).
    public var exec: [String]?
    /// Delay before the first check.
    public var initialDelayMs: Int?
    /// Interval between checks.
    public var periodMs: Int?
    /// Timeout of one check.
    public var timeoutMs: Int?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(
      http: HTTPProbe? = nil, exec: [String]? = nil, initialDelayMs: Int? = nil,
      periodMs: Int? = nil, timeoutMs: Int? = nil
    ) {
      self.http = http
      self.exec = exec
      self.initialDelayMs = initialDelayMs
      self.periodMs = periodMs
      self.timeoutMs = timeoutMs
    }

    enum CodingKeys: String, CodingKey {
      case http, exec
      case initialDelayMs = "initial_delay_ms"
      case periodMs = "period_ms"
      case timeoutMs = "timeout_ms"
    }
  }

  /// `render` response:
  /// `{"files":[…],"env":{},"image":"…","command":[…],"ports":[…],"readiness":{…}}`.
  public struct RenderResponse: Codable, Sendable, Hashable {
    /// Files to write into the agent's home.
    public var files: [RenderedFile]
    /// Environment variables.
    public var env: [String: String]
    /// The image to run.
    public var image: String
    /// The command; nil keeps the image's.
    public var command: [String]?
    /// Ports the agent listens on.
    public var ports: [Port]
    /// The readiness probe, if any.
    public var readiness: Readiness?

    /// Creates a value from its fields; omitted optional fields take their documented defaults.
    public init(
      files: [RenderedFile] = [], env: [String: String] = [:], image: String,
      command: [String]? = nil, ports: [Port] = [], readiness: Readiness? = nil
    ) {
      self.files = files
      self.env = env
      self.image = image
      self.command = command
      self.ports = ports
      self.readiness = readiness
    }

    enum CodingKeys: String, CodingKey {
      case files, env, image, command, ports, readiness
    }

    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      files = try container.decodeIfPresent([RenderedFile].self, forKey: .files) ?? []
      env = try container.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
      image = try container.decode(String.self, forKey: .image)
      command = try container.decodeIfPresent([String].self, forKey: .command)
      ports = try container.decodeIfPresent([Port].self, forKey: .ports) ?? []
      readiness = try container.decodeIfPresent(Readiness.self, forKey: .readiness)
    }
  }
}
