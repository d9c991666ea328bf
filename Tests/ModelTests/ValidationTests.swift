import Foundation
import Model
import Testing

@Suite("Validation")
struct ValidationTests {
  static func worker(_ name: String = "alice", _ edit: (inout WorkerSpec) -> Void = { _ in }) -> Worker {
    var spec = WorkerSpec(model: "qwen3.6-plus")
    edit(&spec)
    return Worker(metadata: ObjectMeta(name: name), spec: spec)
  }

  static func team(_ edit: (inout TeamSpec) -> Void) -> Team {
    var spec = TeamSpec(leader: LeaderSpec(name: "lead"), workers: [TeamWorkerSpec(name: "w1")])
    edit(&spec)
    return Team(metadata: ObjectMeta(name: "alpha"), spec: spec)
  }

  static let nameRule = "must match ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"

  @Test("a document with five mistakes reports all five paths")
  func allErrorsAtOnce() {
    let text = """
      {"apiVersion": "hiclaw.io/v1beta1", "kind": "Worker",
       "metadata": {"name": "Alice_Bot"},
       "spec": {"modle": "qwen3.6-plus", "state": "Runing", "env": {"1BAD": "x"},
                "expose": [{"port": 70000}]}}
      """
    let errors = decodeErrors(text, validate: true)
    #expect(
      errors.paths.sorted() == [
        "metadata.name", "spec.env[\"1BAD\"]", "spec.expose[0].port", "spec.modle", "spec.state",
      ])
    #expect(errors.message(at: "metadata.name") == Self.nameRule + #"; try "alice-bot""#)
    #expect(errors.message(at: "spec.state") == #"unsupported state "Runing"; must be one of Running, Sleeping, Stopped (did you mean "Running"?)"#)
    #expect(errors.message(at: "spec.expose[0].port") == "must be between 1 and 65535; got 70000")
    // The description lists them one per line.
    #expect(errors.description.split(separator: "\n").count == 5)
  }

  @Test("missing required fields are reported by validation, with their paths")
  func requiredFields() {
    let worker = decodeErrors(#"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker"}"#, validate: true)
    #expect(Set(worker.paths) == ["metadata.name", "spec.model"])
    #expect(worker.allSatisfy { $0.reason == .required })
    #expect(worker.message(at: "spec.model")?.hasPrefix("required:") == true)

    let manager = decodeErrors(#"{"apiVersion":"hiclaw.io/v1beta1","kind":"Manager","metadata":{"name":"default"},"spec":{}}"#, validate: true)
    #expect(manager.paths == ["spec.model"])

    let human = decodeErrors(#"{"apiVersion":"hiclaw.io/v1beta1","kind":"Human","metadata":{"name":"h"},"spec":{}}"#, validate: true)
    #expect(human.paths == ["spec.displayName", "spec.permissionLevel"])

    let team = decodeErrors(#"{"apiVersion":"hiclaw.io/v1beta1","kind":"Team","metadata":{"name":"t"},"spec":{"workers":[{}]}}"#, validate: true)
    #expect(team.paths == ["spec.leader.name", "spec.workers[0].name"])
  }

  @Test("a leader-only team is valid")
  func leaderOnly() {
    #expect(Validation.validate(Team(metadata: ObjectMeta(name: "t"), spec: TeamSpec(leader: LeaderSpec(name: "l")))).isEmpty)
  }

  @Test("names: metadata, workerName, teamName, members, references", arguments: [
    "", "A", "-a", "a-", "a_b", "a.b", String(repeating: "a", count: 64),
  ])
  func badNames(name: String) {
    var team = Self.team {
      $0.teamName = name
      $0.leader.workerName = name
      $0.workers = [TeamWorkerSpec(name: name, workerName: name)]
      $0.admin = TeamAdmin(name: name)
      $0.humanMembers = [HumanMember(name: name)]
    }
    team.metadata.name = name
    let errors = Validation.validate(team)
    if name.isEmpty {
      #expect(Set(errors.paths) == ["metadata.name", "spec.workers[0].name", "spec.admin.name", "spec.humanMembers[0].name"])
    } else {
      for path in [
        "metadata.name", "spec.teamName", "spec.leader.workerName", "spec.workers[0].name", "spec.workers[0].workerName",
        "spec.admin.name", "spec.humanMembers[0].name",
      ] {
        #expect(errors.message(at: path)?.hasPrefix(Self.nameRule) == true, "\(path): \(errors)")
      }
    }
  }

  @Test("good names", arguments: ["a", "0", "a-b", "abc123", String(repeating: "a", count: 63)])
  func goodNames(name: String) {
    #expect(Rules.isName(name))
    #expect(Validation.validate(Self.worker(name)).isEmpty)
  }

  /// "Required" means not blank: any mix of Unicode white space (the set Foundation calls
  /// whitespacesAndNewlines) counts as missing; anything else, even padded, is given.
  @Test("blank required fields", arguments: ["", " ", "\t\n", "\u{3000}", "\u{2003}\u{2028}\u{85}", "\u{A0}\r", "\u{200B}"])
  func blankIsMissing(blank: String) {
    let errors = Validation.validate(Self.worker { $0.model = blank })
    #expect(errors.map(\.path.description) == ["spec.model"], "\(errors)")
    #expect(blank.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
  }

  @Test("padded values are given", arguments: [" m ", "\u{3000}m", "m\n", "\u{200D}", "\u{FEFF}"])
  func paddedIsGiven(value: String) {
    #expect(Validation.validate(Self.worker { $0.model = value }).filter { $0.path.description == "spec.model" }.isEmpty)
    #expect(!value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
  }

  @Test("worker enums: runtime, state, transport, protocol")
  func workerEnums() {
    let errors = Validation.validate(
      Self.worker {
        $0.runtime = "clawbot"
        $0.state = "running"
        $0.mcpServers = [MCPServer(name: "m", url: "https://m.local", transport: "websocket")]
        $0.expose = [ExposePort(port: 80, protocol: "tcp")]
      })
    #expect(errors.message(at: "spec.runtime") == #"unsupported worker runtime "clawbot"; must be one of openclaw, copaw, hermes, zeroclaw, nanoclaw"#)
    #expect(errors.message(at: "spec.state") == #"unsupported state "running"; must be one of Running, Sleeping, Stopped (did you mean "Running"?)"#)
    #expect(errors.message(at: "spec.mcpServers[0].transport") == #"unsupported transport "websocket"; must be one of http, sse"#)
    #expect(errors.message(at: "spec.expose[0].protocol") == #"unsupported protocol "tcp"; must be one of http, grpc"#)
    #expect(errors.count == 4)
    for runtime in Runtime.known {
      #expect(Validation.validate(Self.worker { $0.runtime = runtime }).isEmpty)
    }
    // An empty string in an optional enum counts as absent.
    #expect(Validation.validate(Self.worker { $0.state = "" }).isEmpty)
  }

  @Test("manager runtime is openclaw or copaw; manager access entries are limited")
  func managerRules() {
    var manager = Fixtures.fullManager
    manager.spec.runtime = .hermes
    manager.spec.accessEntries = [AccessEntry(service: .aiRegistry)]
    manager.spec.config = ManagerConfig(heartbeatInterval: "15 minutes", workerIdleTimeout: "0s")
    let errors = Validation.validate(manager)
    #expect(errors.message(at: "spec.runtime")?.hasPrefix(#"unsupported Manager runtime "hermes"; must be one of openclaw, copaw"#) == true)
    #expect(errors.message(at: "spec.accessEntries[0].service")?.contains("a Manager cannot be granted ai-registry") == true)
    #expect(errors.paths.contains("spec.config.heartbeatInterval"))
    #expect(errors.paths.contains("spec.config.workerIdleTimeout"))
    #expect(errors.count == 4)
  }

  @Test("team human role and access entry enums")
  func teamEnums() {
    let errors = Validation.validate(
      Self.team {
        $0.humanMembers = [HumanMember(name: "dana", role: "observer")]
        $0.workers = [TeamWorkerSpec(name: "w1", accessEntries: [AccessEntry(service: "s3", permissions: ["read", "admin"], scope: "bucket")])]
      })
    #expect(errors.message(at: "spec.humanMembers[0].role") == #"unsupported human member role "observer"; must be one of coordinator"#)
    #expect(errors.message(at: "spec.workers[0].accessEntries[0].service")?.hasPrefix(#"unsupported service "s3"; must be one of object-storage, ai-gateway, ai-registry"#) == true)
    #expect(errors.message(at: "spec.workers[0].accessEntries[0].permissions[1]") == #"unsupported permission "admin"; must be one of read, write, list, delete"#)
    #expect(errors.message(at: "spec.workers[0].accessEntries[0].scope")?.hasPrefix("expected object") == true)
    #expect(errors.count == 4)
  }

  @Test("skills must not be nacos:// URIs")
  func skills() {
    let errors = Validation.validate(Self.worker { $0.skills = ["web", "nacos://h/ns/skill", ""] })
    #expect(errors.paths == ["spec.skills[1]", "spec.skills[2]"])
    #expect(errors.message(at: "spec.skills[1]")?.contains("move registry skills to remoteSkills") == true)
  }

  @Test("remote skills: source pattern, at least one skill, version xor label, authType")
  func remoteSkills() {
    let errors = Validation.validate(
      Self.worker {
        $0.remoteSkills = [
          RemoteSkillSource(source: "nacos://host", skills: []),
          RemoteSkillSource(source: "http://host/ns", authType: "token", skills: [RemoteSkill(name: "a", version: "1", label: "latest"), RemoteSkill(name: "")]),
          RemoteSkillSource(source: "nacos://u:p@host:8848/ns-1", authType: .stsHiclaw, skills: [RemoteSkill(name: "ok")]),
          RemoteSkillSource(source: "nacos://host/ns/extra", skills: [RemoteSkill(name: "x")]),
          RemoteSkillSource(source: "nacos://host/ns?x=1", skills: [RemoteSkill(name: "x")]),
        ]
      })
    #expect(
      errors.paths == [
        "spec.remoteSkills[0].source", "spec.remoteSkills[0].skills", "spec.remoteSkills[1].source",
        "spec.remoteSkills[1].authType", "spec.remoteSkills[1].skills[0].label", "spec.remoteSkills[1].skills[1].name",
        "spec.remoteSkills[3].source", "spec.remoteSkills[4].source",
      ])
    #expect(errors.message(at: "spec.remoteSkills[0].source")?.hasPrefix("must match ^nacos://[^/]+/[^/?#]+$") == true)
    #expect(errors.message(at: "spec.remoteSkills[1].skills[0].label")?.hasPrefix("version and label are mutually exclusive") == true)
  }

  @Test("env keys")
  func envKeys() {
    let errors = Validation.validate(Self.worker { $0.env = ["GOOD_1": "", "_ok": "", "1BAD": "", "BAD-KEY": "", "": ""] })
    #expect(Set(errors.paths) == [#"spec.env["1BAD"]"#, #"spec.env["BAD-KEY"]"#, #"spec.env[""]"#])
    #expect(errors.message(at: #"spec.env["1BAD"]"#)?.contains("^[a-zA-Z_][a-zA-Z0-9_]*$") == true)
  }

  @Test("labels follow Kubernetes' rules, in metadata and spec")
  func labels() {
    var worker = Self.worker {
      $0.labels = [
        "ok": "v", "example.com/ok": "A.b-c_d", "empty-value": "", "Bad Key": "v", "UPPER.com/x": "v",
        "a/b/c": "v", "bad-value": "-x", "long": String(repeating: "v", count: 64),
      ]
    }
    worker.metadata.labels = ["/x": "v"]
    worker.metadata.annotations = ["fine/any-value": "anything: at all", "bad key": ""]
    let errors = Validation.validate(worker)
    #expect(
      Set(errors.paths) == [
        #"spec.labels["Bad Key"]"#, #"spec.labels["UPPER.com/x"]"#, #"spec.labels["a/b/c"]"#, #"spec.labels["bad-value"]"#,
        #"spec.labels["long"]"#, #"metadata.labels["/x"]"#, #"metadata.annotations["bad key"]"#,
      ])
    #expect(errors.message(at: #"spec.labels["long"]"#)?.hasSuffix("must be at most 63 characters") == true)
  }

  @Test("ports are 1…65535 and unique; mcp servers need a name, an http(s) URL and unique names")
  func portsAndMCP() {
    let errors = Validation.validate(
      Self.worker {
        $0.expose = [ExposePort(port: 0), ExposePort(port: -1), ExposePort(port: 65535), ExposePort(port: 65535), ExposePort(port: 1)]
        $0.mcpServers = [
          MCPServer(name: "a", url: "https://a.local"), MCPServer(name: "a", url: "ftp://a.local"),
          MCPServer(name: "", url: ""),
        ]
      })
    #expect(
      errors.paths == [
        "spec.mcpServers[1].name", "spec.mcpServers[1].url", "spec.mcpServers[2].name", "spec.mcpServers[2].url",
        "spec.expose[0].port", "spec.expose[1].port", "spec.expose[3].port",
      ])
    #expect(errors.message(at: "spec.mcpServers[1].name")?.hasPrefix(#"duplicate MCP server name "a""#) == true)
    #expect(errors.message(at: "spec.expose[3].port")?.hasPrefix("duplicate port 65535") == true)
  }

  @Test("durations: heartbeat every and idle timeouts")
  func durations() {
    for good in ["15m", "720m", "30s", "1h", "1h30m", "1.5h", "500ms", "2h45m30s"] {
      #expect(Rules.parseDuration(good) != nil, "\(good)")
    }
    #expect(Rules.parseDuration("1h30m") == .seconds(5400))
    #expect(Rules.parseDuration("1.5h") == .seconds(5400))
    #expect(Rules.parseDuration("250ms") == .milliseconds(250))
    for bad in ["", "15", "m", "15 m", "15min", "-5m", "0s", "1d", "1h-5m", "..5s", "1.2.3s"] {
      #expect(Rules.parseDuration(bad) == nil, "\(bad)")
    }
    let errors = Validation.validate(
      Self.team {
        $0.leader.heartbeat = Heartbeat(enabled: true, every: "often")
        $0.leader.workerIdleTimeout = "12 hours"
      })
    #expect(errors.paths == ["spec.leader.heartbeat.every", "spec.leader.workerIdleTimeout"])
    #expect(errors.message(at: "spec.leader.heartbeat.every") == #"must be a positive duration such as "30s", "15m", "1h" or "1h30m" (units ns, us, ms, s, m, h); got "often""#)
  }

  @Test("team members: duplicate names and runtime names across leader and workers")
  func teamDuplicates() {
    let errors = Validation.validate(
      Self.team {
        $0.leader = LeaderSpec(name: "lead")
        $0.workers = [
          TeamWorkerSpec(name: "lead"),  // same name (and runtime name) as the leader: one error
          TeamWorkerSpec(name: "w1", workerName: "lead"),  // runtime name clash only
          TeamWorkerSpec(name: "w2", workerName: "shared"),
          TeamWorkerSpec(name: "w3", workerName: "shared"),
          TeamWorkerSpec(name: "shared"),  // name "shared" is free, runtime name is not
        ]
      })
    #expect(
      errors.paths == [
        "spec.workers[0].name", "spec.workers[1].workerName", "spec.workers[3].workerName", "spec.workers[4].name",
      ])
    #expect(errors.message(at: "spec.workers[0].name")?.hasPrefix(#"duplicate member name "lead" (already used by spec.leader.name)"#) == true)
    #expect(errors.message(at: "spec.workers[1].workerName")?.hasPrefix(#"duplicate runtime name "lead" (also the runtime name of spec.leader)"#) == true)
    #expect(errors.message(at: "spec.workers[4].name")?.hasPrefix(#"duplicate runtime name "shared" (also the runtime name of spec.workers[2])"#) == true)
    #expect(errors.allSatisfy { $0.reason == .duplicate })
  }

  @Test("the Manager's localpart is reserved")
  func reserved() {
    #expect(Validation.validate(Self.worker("manager")).paths == ["metadata.name"])
    #expect(Validation.validate(Self.worker("w") { $0.workerName = "manager" }).paths == ["spec.workerName"])
    #expect(Validation.validate(Self.team { $0.workers = [TeamWorkerSpec(name: "manager")] }).paths == ["spec.workers[0].name"])
    // A Worker named manager with another workerName is fine.
    #expect(Validation.validate(Self.worker("manager") { $0.workerName = "mgr-helper" }).isEmpty)
  }

  @Test("human: display name, username, e-mail, permission level, access lists")
  func human() {
    func errors(_ edit: (inout HumanSpec) -> Void) -> FieldErrors {
      var spec = HumanSpec(displayName: "Dana", permissionLevel: 1)
      edit(&spec)
      return Validation.validate(Human(metadata: ObjectMeta(name: "dana"), spec: spec))
    }
    #expect(errors { _ in }.isEmpty)
    #expect(errors { $0.displayName = "  " }.paths == ["spec.displayName"])
    #expect(errors { $0.permissionLevel = 4 }.message(at: "spec.permissionLevel") == "must be 1 (admin-equivalent), 2 (team-scoped) or 3 (worker-only); got 4")
    #expect(errors { $0.permissionLevel = 0 }.first?.reason == .required)
    #expect(errors { $0.username = "Dana S" }.paths == ["spec.username"])
    #expect(errors { $0.username = "dana.s_=x-1" }.isEmpty)
    #expect(errors { $0.email = "dana" }.paths == ["spec.email"])
    #expect(errors { $0.email = "dana@example.org" }.isEmpty)
    #expect(
      errors { $0.accessibleTeams = ["alpha", "Alpha", "alpha", ""]; $0.accessibleWorkers = ["w_1"] }.paths
        == ["spec.accessibleTeams[1]", "spec.accessibleTeams[2]", "spec.accessibleTeams[3]", "spec.accessibleWorkers[0]"])
  }

  @Test("matrix ids, channel policies and package URIs")
  func formats() {
    let errors = Validation.validate(
      Self.team {
        $0.admin = TeamAdmin(name: "root", matrixUserId: "root")
        $0.channelPolicy = ChannelPolicy(groupAllowExtra: ["@ok:x", "ok", "@broken", "has:colon", "Upper"])
        $0.leader.package = "ftp://x/y.zip"
        $0.workers = [TeamWorkerSpec(name: "w1", package: "nacos://host:8848/ns/spec/label:stable")]
      })
    #expect(
      errors.paths == [
        "spec.admin.matrixUserId", "spec.leader.package", "spec.channelPolicy.groupAllowExtra[2]",
        "spec.channelPolicy.groupAllowExtra[3]", "spec.channelPolicy.groupAllowExtra[4]",
      ])
    #expect(errors.message(at: "spec.leader.package")?.hasPrefix(#"unsupported scheme "ftp""#) == true)
  }

  @Test("metadata namespace and finalizers")
  func metadata() {
    var worker = Self.worker()
    worker.metadata.namespace = "Prod"
    worker.metadata.finalizers = ["hiclaw.io/cleanup", "bad finalizer"]
    #expect(Validation.validate(worker).paths == ["metadata.namespace", "metadata.finalizers[1]"])
  }

  @Test("defaulted objects still validate")
  func defaultedValid() {
    for resource in Fixtures.all {
      #expect(Validation.validate(Defaults.standard.applied(to: resource)).isEmpty)
    }
  }
}
