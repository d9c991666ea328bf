/// Checks one object on its own (no other objects, no I/O) and returns every problem with its
/// path; an empty result means valid. Checks that need other objects are in
/// ``validateReferences(of:against:matrixDomain:)``.
///
/// Both un-defaulted and defaulted objects validate the same way: every optional field may be
/// absent, and an empty string in an optional enum field counts as absent.
public enum Validation {
  public static func validate(_ resource: AnyResource) -> FieldErrors {
    switch resource {
    case .worker(let worker): validate(worker)
    case .team(let team): validate(team)
    case .human(let human): validate(human)
    case .manager(let manager): validate(manager)
    }
  }

  public static func validate(_ worker: Worker) -> FieldErrors {
    var check = Checker()
    check.metadata(worker.metadata)
    let spec = worker.spec
    let path: FieldPath = "spec"
    check.required(spec.model, path.key("model"), "set the LLM model id the worker uses, such as qwen3.6-plus")
    check.enumValue(spec.runtime, Runtime.known, path.key("runtime"), what: "worker runtime")
    check.name(spec.workerName, path.key("workerName"))
    check.reservedRuntimeName(
      worker.runtimeName, at: spec.workerName.nonEmpty != nil ? path.key("workerName") : "metadata.name")
    check.skills(spec.skills, path.key("skills"))
    check.remoteSkills(spec.remoteSkills, path.key("remoteSkills"))
    check.mcpServers(spec.mcpServers, path.key("mcpServers"))
    check.package(spec.package, path.key("package"))
    check.expose(spec.expose, path.key("expose"))
    check.channelPolicy(spec.channelPolicy, path.key("channelPolicy"))
    check.enumValue(spec.state, DesiredState.known, path.key("state"), what: "state")
    check.accessEntries(spec.accessEntries, path.key("accessEntries"), services: AccessService.known)
    check.env(spec.env, path.key("env"))
    check.labels(spec.labels, path.key("labels"))
    return check.errors
  }

  public static func validate(_ team: Team) -> FieldErrors {
    var check = Checker()
    check.metadata(team.metadata)
    let spec = team.spec
    let path: FieldPath = "spec"
    check.name(spec.teamName, path.key("teamName"))
    if let admin = spec.admin {
      let adminPath = path.key("admin")
      check.reference(admin.name, adminPath.key("name"), "set the name of the Human who administers the team")
      check.matrixUserID(admin.matrixUserId, adminPath.key("matrixUserId"))
    }
    var humanNames: [String: FieldPath] = [:]
    for (index, member) in (spec.humanMembers ?? []).enumerated() {
      let memberPath = path.key("humanMembers").index(index)
      check.reference(member.name, memberPath.key("name"), "set the name of a Human")
      check.matrixUserID(member.matrixUserId, memberPath.key("matrixUserId"))
      check.enumValue(member.role, HumanRole.known, memberPath.key("role"), what: "human member role")
      if !member.name.isEmpty {
        if let first = humanNames[member.name] {
          check.add(
            memberPath.key("name"), "duplicate human member \(CanonicalJSON.quote(member.name)) (already listed at \(first)); list each human once",
            .duplicate)
        } else {
          humanNames[member.name] = memberPath.key("name")
        }
      }
    }

    var members = MemberNames()
    let leader = spec.leader
    let leaderPath = path.key("leader")
    check.memberName(leader.name, leaderPath.key("name"), role: "the team leader")
    check.name(leader.workerName, leaderPath.key("workerName"))
    check.member(
      name: leader.name, workerName: leader.workerName, at: leaderPath, into: &members)
    check.remoteSkills(leader.remoteSkills, leaderPath.key("remoteSkills"))
    check.mcpServers(leader.mcpServers, leaderPath.key("mcpServers"))
    check.package(leader.package, leaderPath.key("package"))
    if let every = leader.heartbeat?.every, !every.isEmpty {
      check.duration(every, leaderPath.key("heartbeat").key("every"))
    }
    check.duration(leader.workerIdleTimeout, leaderPath.key("workerIdleTimeout"))
    check.channelPolicy(leader.channelPolicy, leaderPath.key("channelPolicy"))
    check.enumValue(leader.state, DesiredState.known, leaderPath.key("state"), what: "state")
    check.accessEntries(leader.accessEntries, leaderPath.key("accessEntries"), services: AccessService.known)
    check.env(leader.env, leaderPath.key("env"))
    check.labels(leader.labels, leaderPath.key("labels"))

    for (index, worker) in (spec.workers ?? []).enumerated() {
      let workerPath = path.key("workers").index(index)
      check.memberName(worker.name, workerPath.key("name"), role: "every team worker")
      check.name(worker.workerName, workerPath.key("workerName"))
      check.member(name: worker.name, workerName: worker.workerName, at: workerPath, into: &members)
      check.enumValue(worker.runtime, Runtime.known, workerPath.key("runtime"), what: "worker runtime")
      check.skills(worker.skills, workerPath.key("skills"))
      check.remoteSkills(worker.remoteSkills, workerPath.key("remoteSkills"))
      check.mcpServers(worker.mcpServers, workerPath.key("mcpServers"))
      check.package(worker.package, workerPath.key("package"))
      check.expose(worker.expose, workerPath.key("expose"))
      check.channelPolicy(worker.channelPolicy, workerPath.key("channelPolicy"))
      check.enumValue(worker.state, DesiredState.known, workerPath.key("state"), what: "state")
      check.accessEntries(worker.accessEntries, workerPath.key("accessEntries"), services: AccessService.known)
      check.env(worker.env, workerPath.key("env"))
      check.labels(worker.labels, workerPath.key("labels"))
    }
    check.channelPolicy(spec.channelPolicy, path.key("channelPolicy"))
    return check.errors
  }

  public static func validate(_ human: Human) -> FieldErrors {
    var check = Checker()
    check.metadata(human.metadata)
    let spec = human.spec
    let path: FieldPath = "spec"
    if spec.displayName.isBlank {
      check.add(path.key("displayName"), "required: set the name shown in Matrix, such as \"Alice Liu\"", .required)
    }
    if let username = spec.username, !username.isEmpty {
      if !Rules.isUsername(username) {
        check.add(
          path.key("username"),
          "must match \(Rules.usernamePattern) (a Matrix localpart: lowercase letters, digits, '.', '_', '=', '-'), at most 255 characters")
      }
    }
    check.reservedRuntimeName(
      human.effectiveUsername, at: spec.username.nonEmpty != nil ? path.key("username") : "metadata.name",
      what: "Matrix username")
    if let email = spec.email, !email.isEmpty, !Rules.isEmail(email) {
      check.add(path.key("email"), "must be an e-mail address such as alice@example.com")
    }
    switch spec.permissionLevel {
    case 1...3: break
    case 0:
      check.add(
        path.key("permissionLevel"),
        "required: set 1 (admin-equivalent), 2 (team-scoped) or 3 (worker-only)", .required)
    default:
      check.add(
        path.key("permissionLevel"),
        "must be 1 (admin-equivalent), 2 (team-scoped) or 3 (worker-only); got \(spec.permissionLevel)")
    }
    check.nameList(spec.accessibleTeams, path.key("accessibleTeams"), what: "team")
    check.nameList(spec.accessibleWorkers, path.key("accessibleWorkers"), what: "worker")
    return check.errors
  }

  public static func validate(_ manager: Manager) -> FieldErrors {
    var check = Checker()
    check.metadata(manager.metadata)
    let spec = manager.spec
    let path: FieldPath = "spec"
    check.required(spec.model, path.key("model"), "set the LLM model id the Manager uses, such as qwen3.6-plus")
    if let runtime = spec.runtime, !runtime.rawValue.isEmpty, !Runtime.manager.contains(runtime) {
      var message = "unsupported Manager runtime \(CanonicalJSON.quote(runtime.rawValue)); must be one of "
      message += Runtime.manager.map(\.rawValue).joined(separator: ", ")
      if Runtime.known.contains(runtime) {
        message += " (the Manager's skills exist only for those; \(runtime) is for workers)"
      } else if let near = closest(to: runtime.rawValue, among: Runtime.manager.map(\.rawValue)) {
        message += " (did you mean \"\(near)\"?)"
      }
      check.add(path.key("runtime"), message)
    }
    check.skills(spec.skills, path.key("skills"))
    check.mcpServers(spec.mcpServers, path.key("mcpServers"))
    check.package(spec.package, path.key("package"))
    check.enumValue(spec.state, DesiredState.known, path.key("state"), what: "state")
    check.env(spec.env, path.key("env"))
    check.labels(spec.labels, path.key("labels"))
    check.accessEntries(spec.accessEntries, path.key("accessEntries"), services: AccessService.manager)
    if let config = spec.config {
      check.duration(config.heartbeatInterval, path.key("config").key("heartbeatInterval"))
      check.duration(config.workerIdleTimeout, path.key("config").key("workerIdleTimeout"))
    }
    return check.errors
  }
}

/// The names a team's members claim so far: member names and runtime names, with where.
struct MemberNames {
  var names: [String: FieldPath] = [:]
  var runtimeNames: [String: FieldPath] = [:]
}

/// Collects errors; one method per reusable rule.
struct Checker {
  var errors = FieldErrors()

  mutating func add(_ path: FieldPath, _ message: String, _ reason: FieldError.Reason = .invalid) {
    errors.add(path, message, reason)
  }

  // MARK: Metadata

  mutating func metadata(_ meta: ObjectMeta) {
    let path: FieldPath = "metadata"
    if meta.name.isEmpty {
      add(path.key("name"), "required: every object needs a name matching \(Rules.namePattern)", .required)
    } else if !Rules.isName(meta.name) {
      add(path.key("name"), Rules.nameMessage(meta.name))
    }
    if !meta.namespace.isEmpty, !Rules.isName(meta.namespace) {
      add(path.key("namespace"), Rules.nameMessage(meta.namespace))
    }
    labels(meta.labels, path.key("labels"))
    for key in meta.annotations.keys.sorted() {
      if let problem = Rules.qualifiedNameProblem(key) {
        add(path.key("annotations").mapKey(key), "invalid annotation key: \(problem)")
      }
    }
    for (index, finalizer) in meta.finalizers.enumerated() where Rules.qualifiedNameProblem(finalizer) != nil {
      add(
        path.key("finalizers").index(index),
        "must be a qualified name such as \(ObjectMeta.cleanupFinalizer): \(Rules.qualifiedNameProblem(finalizer)!)")
    }
  }

  // MARK: Names

  mutating func required(_ value: String, _ path: FieldPath, _ how: String) {
    if value.isBlank { add(path, "required: \(how)", .required) }
  }

  /// An optional name: checked only when given.
  mutating func name(_ value: String?, _ path: FieldPath) {
    guard let value, !value.isEmpty else { return }
    if !Rules.isName(value) { add(path, Rules.nameMessage(value)) }
  }

  /// A required member name.
  mutating func memberName(_ value: String, _ path: FieldPath, role: String) {
    if value.isEmpty {
      add(path, "required: \(role) needs a name matching \(Rules.namePattern)", .required)
    } else if !Rules.isName(value) {
      add(path, Rules.nameMessage(value))
    }
  }

  /// A required name of another object.
  mutating func reference(_ value: String, _ path: FieldPath, _ how: String) {
    if value.isEmpty {
      add(path, "required: \(how)", .required)
    } else if !Rules.isName(value) {
      add(path, Rules.nameMessage(value))
    }
  }

  mutating func nameList(_ values: [String]?, _ path: FieldPath, what: String) {
    var seen: [String: Int] = [:]
    for (index, value) in (values ?? []).enumerated() {
      if value.isEmpty {
        add(path.index(index), "must not be empty: give a \(what) name or remove the entry")
      } else if !Rules.isName(value) {
        add(path.index(index), Rules.nameMessage(value))
      } else if let first = seen[value] {
        add(path.index(index), "duplicate \(what) \(CanonicalJSON.quote(value)) (also at index \(first)); list it once", .duplicate)
      } else {
        seen[value] = index
      }
    }
  }

  /// Records a team member's names and reports a name or runtime name used twice in the team.
  mutating func member(name: String, workerName: String?, at path: FieldPath, into claimed: inout MemberNames) {
    guard !name.isEmpty else { return }
    let namePath = path.key("name")
    var nameClash = false
    if let first = claimed.names[name] {
      add(
        namePath,
        "duplicate member name \(CanonicalJSON.quote(name)) (already used by \(first)); member names must be unique within a team",
        .duplicate)
      nameClash = true
    } else {
      claimed.names[name] = namePath
    }
    let hasWorkerName = workerName.nonEmpty != nil
    let runtimeName = workerName.nonEmpty ?? name
    let runtimePath = hasWorkerName ? path.key("workerName") : namePath
    if let first = claimed.runtimeNames[runtimeName] {
      // Two members both without workerName and with the same name: reported once, above.
      if !(nameClash && !hasWorkerName) {
        add(
          runtimePath,
          "duplicate runtime name \(CanonicalJSON.quote(runtimeName)) (also the runtime name of \(first.droppingLast)); the runtime name (workerName, else name) is the member's Matrix account and storage key, so give one of them a different workerName",
          .duplicate)
      }
    } else {
      claimed.runtimeNames[runtimeName] = runtimePath
    }
    reservedRuntimeName(runtimeName, at: runtimePath)
  }

  mutating func reservedRuntimeName(_ name: String, at path: FieldPath, what: String = "runtime name") {
    if Rules.reservedRuntimeNames.contains(name) {
      let hint = path.description == "metadata.name" ? " (or set a different workerName/username)" : ""
      add(
        path,
        "\(CanonicalJSON.quote(name)) is reserved as a \(what): it is the Manager's Matrix account and storage prefix; choose another name\(hint)",
        .conflict)
    }
  }

  // MARK: Enums

  mutating func enumValue<E: OpenStringEnum>(_ value: E?, _ allowed: [E], _ path: FieldPath, what: String) {
    guard let value, !value.rawValue.isEmpty, !allowed.contains(value) else { return }
    var message = "unsupported \(what) \(CanonicalJSON.quote(value.rawValue)); must be one of "
    message += allowed.map(\.rawValue).joined(separator: ", ")
    if let near = closest(to: value.rawValue, among: allowed.map(\.rawValue)) {
      message += " (did you mean \"\(near)\"?)"
    }
    add(path, message)
  }

  // MARK: Agent fields

  mutating func skills(_ skills: [String]?, _ path: FieldPath) {
    for (index, skill) in (skills ?? []).enumerated() {
      if skill.trimmingCharacters(in: .whitespaces).isEmpty {
        add(path.index(index), "must not be empty: give a built-in skill name or remove the entry")
      } else if skill.lowercased().hasPrefix("nacos://") {
        add(
          path.index(index),
          "must not start with nacos://: skills lists built-in skill names; move registry skills to remoteSkills (source: nacos://host/namespace, skills: [{name: ...}])")
      }
    }
  }

  mutating func remoteSkills(_ sources: [RemoteSkillSource]?, _ path: FieldPath) {
    for (index, source) in (sources ?? []).enumerated() {
      let sourcePath = path.index(index)
      if source.source.isEmpty {
        add(sourcePath.key("source"), "required: set the registry as nacos://[user:pass@]host[:port]/<namespace-id>", .required)
      } else if !Rules.isNacosSource(source.source) {
        add(
          sourcePath.key("source"),
          "must match \(Rules.nacosSourcePattern), i.e. nacos://[user:pass@]host[:port]/<namespace-id>; got \(CanonicalJSON.quote(source.source))")
      }
      enumValue(source.authType, RemoteSkillAuthType.known, sourcePath.key("authType"), what: "authType")
      if source.skills.isEmpty {
        add(sourcePath.key("skills"), "required: list at least one skill ({name: ...}) to pull from this source", .required)
      }
      for (skillIndex, skill) in source.skills.enumerated() {
        let skillPath = sourcePath.key("skills").index(skillIndex)
        if skill.name.isEmpty { add(skillPath.key("name"), "required: set the skill's name in the registry", .required) }
        if skill.version.nonEmpty != nil, skill.label.nonEmpty != nil {
          add(skillPath.key("label"), "version and label are mutually exclusive: pin a version or follow a label, not both")
        }
      }
    }
  }

  mutating func mcpServers(_ servers: [MCPServer]?, _ path: FieldPath) {
    var seen: [String: Int] = [:]
    for (index, server) in (servers ?? []).enumerated() {
      let serverPath = path.index(index)
      if server.name.isEmpty {
        add(serverPath.key("name"), "required: name the MCP server", .required)
      } else if let first = seen[server.name] {
        add(
          serverPath.key("name"),
          "duplicate MCP server name \(CanonicalJSON.quote(server.name)) (also \(path.index(first))); names must be unique",
          .duplicate)
      } else {
        seen[server.name] = index
      }
      if server.url.isEmpty {
        add(serverPath.key("url"), "required: set the MCP server's http:// or https:// URL", .required)
      } else if !Rules.isHTTPURL(server.url) {
        add(serverPath.key("url"), "must be an http:// or https:// URL with a host; got \(CanonicalJSON.quote(server.url))")
      }
      enumValue(server.transport, MCPTransport.known, serverPath.key("transport"), what: "transport")
    }
  }

  mutating func expose(_ ports: [ExposePort]?, _ path: FieldPath) {
    var seen: [Int: Int] = [:]
    for (index, port) in (ports ?? []).enumerated() {
      let portPath = path.index(index)
      if port.port == 0 {
        add(portPath.key("port"), "required: set the container port to publish (1-65535)", .required)
      } else if !(1...65535).contains(port.port) {
        add(portPath.key("port"), "must be between 1 and 65535; got \(port.port)")
      } else if let first = seen[port.port] {
        add(portPath.key("port"), "duplicate port \(port.port) (also \(path.index(first))); expose each port once", .duplicate)
      } else {
        seen[port.port] = index
      }
      enumValue(port.protocol, ExposeProtocol.known, portPath.key("protocol"), what: "protocol")
    }
  }

  mutating func channelPolicy(_ policy: ChannelPolicy?, _ path: FieldPath) {
    guard let policy else { return }
    let lists: [(String, [String]?)] = [
      ("groupAllowExtra", policy.groupAllowExtra), ("groupDenyExtra", policy.groupDenyExtra),
      ("dmAllowExtra", policy.dmAllowExtra), ("dmDenyExtra", policy.dmDenyExtra),
    ]
    for (field, entries) in lists {
      for (index, entry) in (entries ?? []).enumerated() where !Rules.isChannelPolicyEntry(entry) {
        add(
          path.key(field).index(index),
          "must be a Matrix user ID (@alice:example.org) or a bare localpart (alice); got \(CanonicalJSON.quote(entry))")
      }
    }
  }

  mutating func accessEntries(_ entries: [AccessEntry]?, _ path: FieldPath, services: [AccessService]) {
    for (index, entry) in (entries ?? []).enumerated() {
      let entryPath = path.index(index)
      if entry.service.rawValue.isEmpty {
        add(
          entryPath.key("service"),
          "required: one of \(services.map(\.rawValue).joined(separator: ", "))", .required)
      } else if !services.contains(entry.service) {
        var message = "unsupported service \(CanonicalJSON.quote(entry.service.rawValue)); must be one of "
        message += services.map(\.rawValue).joined(separator: ", ")
        if AccessService.known.contains(entry.service) {
          message += " (a Manager cannot be granted \(entry.service))"
        } else if let near = closest(to: entry.service.rawValue, among: services.map(\.rawValue)) {
          message += " (did you mean \"\(near)\"?)"
        }
        add(entryPath.key("service"), message)
      }
      for (permissionIndex, permission) in (entry.permissions ?? []).enumerated() {
        enumValue(
          Optional(permission), AccessPermission.known, entryPath.key("permissions").index(permissionIndex),
          what: "permission")
        if permission.rawValue.isEmpty {
          add(
            entryPath.key("permissions").index(permissionIndex),
            "must not be empty: one of \(AccessPermission.known.map(\.rawValue).joined(separator: ", "))")
        }
      }
      if let scope = entry.scope, scope != .null, scope.objectValue == nil {
        add(
          entryPath.key("scope"),
          "expected object (keys such as bucketRef, prefixes, gatewayRef, resources), got \(scope.typeAndValue)",
          .wrongType)
      }
    }
  }

  mutating func env(_ env: [String: String]?, _ path: FieldPath) {
    for key in (env ?? [:]).keys.sorted() where !Rules.isEnvKey(key) {
      add(
        path.mapKey(key),
        "invalid environment variable name: must match \(Rules.envKeyPattern) (letters, digits and '_', not starting with a digit)")
    }
  }

  mutating func labels(_ labels: [String: String]?, _ path: FieldPath) {
    for (key, value) in (labels ?? [:]).sorted(by: { $0.key < $1.key }) {
      if let problem = Rules.qualifiedNameProblem(key) {
        add(path.mapKey(key), "invalid label key: \(problem)")
      }
      if let problem = Rules.labelValueProblem(value) {
        add(path.mapKey(key), "invalid label value \(CanonicalJSON.quote(value)): \(problem)")
      }
    }
  }

  mutating func package(_ package: String?, _ path: FieldPath) {
    guard let package else { return }
    if let problem = Rules.packageProblem(package) { add(path, problem) }
  }

  mutating func duration(_ text: String?, _ path: FieldPath) {
    guard let text, !text.isEmpty else { return }
    if Rules.parseDuration(text) == nil {
      var message = "\(Rules.durationMessage); got \(CanonicalJSON.quote(text))"
      if text.allSatisfy({ $0.isASCII && $0.isNumber }) { message += " (add a unit: \"\(text)m\" for minutes)" }
      add(path, message)
    }
  }

  mutating func matrixUserID(_ text: String?, _ path: FieldPath) {
    guard let text, !text.isEmpty else { return }
    if !Rules.isMatrixUserID(text) {
      add(path, "must be a Matrix user ID such as @alice:example.org; got \(CanonicalJSON.quote(text))")
    }
  }
}

extension FieldPath {
  /// The path without its last component (`spec.workers[1]` for `spec.workers[1].name`).
  var droppingLast: FieldPath { FieldPath(Array(components.dropLast())) }
}

extension String {
  /// Empty or only white space — exactly the scalars of Foundation's `whitespacesAndNewlines`
  /// (Unicode White_Space plus U+200B ZERO WIDTH SPACE, checked over every scalar) — without
  /// building a trimmed copy through Foundation.
  var isBlank: Bool { unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0.value == 0x200B } }
}
