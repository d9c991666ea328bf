extension Validation {
  /// Checks what a single object cannot check alone, against the other objects given (typically
  /// everything in the store; an entry with the same kind, namespace and name as `resource` —
  /// its stored older self — is ignored). No I/O: the caller supplies the objects.
  ///
  /// - Team: `spec.admin.name` names an existing Human in the team's namespace, and
  ///   `spec.admin.matrixUserId`, when given, is that Human's Matrix ID (compared in full when
  ///   `matrixDomain` is given, else by localpart); member names do not collide with standalone
  ///   Workers or other teams' members in the namespace (the REST API serves both under
  ///   `/workers/{name}`); `teamName` is not another team's.
  /// - Worker: its name is not a team member's name in the namespace.
  /// - Human: nothing beyond the shared check below.
  /// - Manager: no other Manager exists (its Matrix account is always `@manager`).
  /// - All: Matrix localparts (worker and member runtime names, human usernames) are unique
  ///   across all namespaces, since one homeserver and one storage bucket serve them all.
  ///   (Upstream only checks team members against Workers in the same namespace.)
  public static func validateReferences(
    of resource: AnyResource, against others: [AnyResource], matrixDomain: String? = nil
  ) -> FieldErrors {
    let others = others.filter {
      !($0.kind == resource.kind && $0.namespace == resource.namespace && $0.name == resource.name)
    }
    var check = Checker()
    switch resource {
    case .team(let team): teamReferences(team, others, matrixDomain, &check)
    case .worker(let worker):
      for case .team(let other) in others where other.namespace == worker.namespace {
        for member in other.members where member.name == worker.name {
          check.add(
            "metadata.name",
            "\(CanonicalJSON.quote(worker.name)) is a member of \(other.reference); manage it in that Team's spec, or give this Worker another name",
            .conflict)
        }
      }
    case .human: break
    case .manager:
      if let existing = others.first(where: { $0.kind == .manager }) {
        check.add(
          "metadata.name",
          "\(existing.reference) already exists and hiclaw runs one Manager (its Matrix account is always @\(Manager.matrixLocalpart)); update that one instead",
          .conflict)
      }
    }
    localpartReferences(resource, others, &check)
    return check.errors
  }

  static func teamReferences(_ team: Team, _ others: [AnyResource], _ domain: String?, _ check: inout Checker) {
    let namespace = team.namespace
    if let admin = team.spec.admin, !admin.name.isEmpty {
      let human = others.lazy.compactMap(\.human).first { $0.namespace == namespace && $0.name == admin.name }
      if let human {
        if let given = admin.matrixUserId.nonEmpty {
          let localpart = human.effectiveUsername
          let expected = domain.map { "@\(localpart):\($0)" }
          let matches =
            expected.map { given == $0 } ?? given.hasPrefix("@\(localpart):")
          if !matches {
            check.add(
              "spec.admin.matrixUserId",
              "does not match \(human.reference), whose Matrix ID is \(expected ?? "@\(localpart):<domain>"); fix it or leave it out (it is derived from the Human)")
          }
        }
      } else {
        check.add(
          "spec.admin.name",
          "Human \(CanonicalJSON.quote(admin.name)) not found in namespace \(CanonicalJSON.quote(namespace)); create it first (apply lists Humans before the Teams that name them as admin)",
          .notFound)
      }
    }
    for member in team.members {
      for other in others where other.namespace == namespace {
        switch other {
        case .worker(let worker) where worker.name == member.name:
          check.add(
            member.namePath,
            "\(CanonicalJSON.quote(member.name)) is already the standalone \(worker.reference); rename the member or delete the Worker (team members and Workers share one name space)",
            .conflict)
        case .team(let otherTeam):
          if otherTeam.members.contains(where: { $0.name == member.name }) {
            check.add(
              member.namePath,
              "\(CanonicalJSON.quote(member.name)) is already a member of \(otherTeam.reference); member names must be unique in the namespace",
              .conflict)
          }
        default: break
        }
      }
    }
    let teamName = team.effectiveTeamName
    for case .team(let other) in others where other.effectiveTeamName == teamName {
      check.add(
        team.spec.teamName.nonEmpty != nil ? "spec.teamName" : "metadata.name",
        "team name \(CanonicalJSON.quote(teamName)) is already used by \(other.reference) (it keys the Team Room and the storage prefix teams/\(teamName)/); set a different teamName",
        .conflict)
    }
  }

  /// Matrix localparts `resource` claims, each with the path that sets it.
  static func localparts(of resource: AnyResource) -> [(name: String, path: FieldPath)] {
    switch resource {
    case .worker(let worker):
      return [(worker.runtimeName, worker.spec.workerName.nonEmpty != nil ? "spec.workerName" : "metadata.name")]
    case .team(let team):
      return team.members.map { ($0.runtimeName, $0.runtimePath) }
    case .human(let human):
      return [(human.effectiveUsername, human.spec.username.nonEmpty != nil ? "spec.username" : "metadata.name")]
    case .manager:
      return [(Manager.matrixLocalpart, "metadata.name")]
    }
  }

  static func localpartReferences(_ resource: AnyResource, _ others: [AnyResource], _ check: inout Checker) {
    guard resource.kind != .manager else { return }
    var owners: [String: String] = [:]
    for other in others {
      for (name, _) in localparts(of: other) where owners[name] == nil {
        owners[name] = other.reference
      }
    }
    for (name, path) in localparts(of: resource) where !name.isEmpty {
      if let owner = owners[name] {
        check.add(
          path,
          "Matrix account \(CanonicalJSON.quote(name)) is already taken by \(owner) (runtime names and usernames are shared by all workers, team members and humans); choose another name",
          .conflict)
      }
    }
  }
}

/// A team member seen uniformly (leader or worker) with the paths of its name fields.
struct TeamMemberView {
  var name: String
  var runtimeName: String
  var namePath: FieldPath
  var runtimePath: FieldPath
}

extension Team {
  /// The leader, then the workers, with their paths in the document.
  var members: [TeamMemberView] {
    var result: [TeamMemberView] = []
    let leaderPath: FieldPath = "spec.leader"
    let leader = spec.leader
    if !leader.name.isEmpty {
      result.append(
        TeamMemberView(
          name: leader.name, runtimeName: leader.runtimeName, namePath: leaderPath.key("name"),
          runtimePath: leader.workerName.nonEmpty != nil ? leaderPath.key("workerName") : leaderPath.key("name")))
    }
    for (index, worker) in (spec.workers ?? []).enumerated() where !worker.name.isEmpty {
      let path = FieldPath("spec.workers").index(index)
      result.append(
        TeamMemberView(
          name: worker.name, runtimeName: worker.runtimeName, namePath: path.key("name"),
          runtimePath: worker.workerName.nonEmpty != nil ? path.key("workerName") : path.key("name")))
    }
    return result
  }
}
