import Model
import Store

/// The role a token grants, parsed from its ``TokenIdentity``.
///
/// Role strings (the store treats them as opaque): `admin`, `manager`, `team-leader` (subject:
/// the team's `metadata.name`) and `worker` (subject: the worker's name — a standalone Worker's
/// `metadata.name` or a Team member's `name`). A scoped role without a subject, and any other
/// role string, parse as ``unknown``, which may read the version and nothing else.
enum Role: Sendable, Hashable {
  case admin
  case manager
  case teamLeader(team: String)
  case worker(name: String)
  case unknown

  /// The role strings ``APIServer`` mints tokens for.
  static let names = ["admin", "manager", "team-leader", "worker"]

  init(_ identity: TokenIdentity) { self.init(role: identity.role, subject: identity.subject) }

  init(role: String, subject: String) {
    switch (role, subject) {
    case ("admin", _): self = .admin
    case ("manager", _): self = .manager
    case ("team-leader", let team) where !team.isEmpty: self = .teamLeader(team: team)
    case ("worker", let name) where !name.isEmpty: self = .worker(name: name)
    default: self = .unknown
    }
  }
}

/// What a request wants to do, as the authorization matrix sees it.
enum Action: Sendable, Hashable {
  /// `GET /api/v1/version`.
  case readVersion
  /// `GET /api/v1/status`.
  case readHostStatus
  /// List or watch a kind.
  case list(Kind)
  /// Get one object (also `GET …/{name}/status` of Teams, Humans and Managers: the same object).
  case get(Kind, name: String)
  /// `GET …/{name}/events`.
  case readEvents(Kind, name: String)
  case create(Kind)
  case replace(Kind, name: String)
  case delete(Kind, name: String)
  /// A worker lifecycle call on `worker`. `team` is the `metadata.name` of the Team the worker
  /// was found in as a member; `nil` for a standalone Worker or a name that matches nothing.
  case lifecycle(LifecycleVerb, worker: String, team: String?)
  /// Mint, list or revoke tokens.
  case manageTokens
}

/// The authorization matrix of docs/api.md, as one pure function.
///
/// | role | may |
/// |---|---|
/// | `admin` | everything |
/// | `manager` | everything except ``Action/manageTokens`` |
/// | `team-leader` T | version; host status; get/list (and watch) Teams and Workers; lifecycle status, wake, sleep, ensure-ready and ready of the members of Team T (the Team whose `metadata.name` is T) |
/// | `worker` W | version; host status; get Worker W; lifecycle status and ready of W |
/// | anything else | version |
///
/// Decisions the table leaves open, made here:
/// - Watching is listing (it shows the same objects), so it follows `list`.
/// - A team leader's lifecycle rights depend on where the name resolves: a standalone Worker
///   (which wins over a Team member of the same name) is never "a member of its team", and a
///   name that matches nothing is denied too (403, not 404), so a scoped token cannot probe
///   which names exist.
/// - A `worker` token acts on its own name wherever that name resolves (a standalone Worker
///   or a Team member): the subject is what the host minted for that agent.
/// - Events are not in the scoped roles' lists, so only admin and manager read them.
enum Authorization {
  static func allows(_ role: Role, _ action: Action) -> Bool {
    switch role {
    case .admin:
      return true
    case .manager:
      return action != .manageTokens
    case .teamLeader(let ownTeam):
      switch action {
      case .readVersion, .readHostStatus: return true
      case .list(let kind): return kind == .team || kind == .worker
      case .get(let kind, _): return kind == .team || kind == .worker
      case .lifecycle(let verb, _, let team):
        return team == ownTeam && [.status, .wake, .sleep, .ensureReady, .ready].contains(verb)
      case .readEvents, .create, .replace, .delete, .manageTokens: return false
      }
    case .worker(let own):
      switch action {
      case .readVersion, .readHostStatus: return true
      case .get(let kind, let name): return kind == .worker && name == own
      case .lifecycle(let verb, let worker, _): return worker == own && (verb == .status || verb == .ready)
      case .list, .readEvents, .create, .replace, .delete, .manageTokens: return false
      }
    case .unknown:
      return action == .readVersion
    }
  }
}
