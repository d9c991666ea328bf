import Foundation
import Hummingbird
import Model
import Store
import Testing

@testable import APIServer

@Suite("Routes")
struct RouteTests {
  @Test("paths map to routes and patterns", arguments: [
    ("/healthz", "/healthz"),
    ("/readyz", "/readyz"),
    ("/metrics", "/metrics"),
    ("/api/v1/version", "/api/v1/version"),
    ("/api/v1/status", "/api/v1/status"),
    ("/api/v1/tokens", "/api/v1/tokens"),
    ("/api/v1/tokens/tok_1", "/api/v1/tokens/{id}"),
    ("/api/v1/workers", "/api/v1/workers"),
    ("/api/v1/teams/", "/api/v1/teams"),
    ("/api/v1/humans/dana", "/api/v1/humans/{name}"),
    ("/api/v1/managers/m/status", "/api/v1/managers/{name}/status"),
    ("/api/v1/teams/alpha/events", "/api/v1/teams/{name}/events"),
    ("/api/v1/workers/alice/events", "/api/v1/workers/{name}/events"),
    ("/api/v1/workers/alice/status", "/api/v1/workers/{name}/status"),
    ("/api/v1/workers/alice/ensure-ready", "/api/v1/workers/{name}/ensure-ready"),
  ])
  func patterns(path: String, pattern: String) throws {
    #expect(try Route(path: path)?.pattern == pattern)
  }

  @Test("unknown paths are nil", arguments: [
    "/", "/api", "/api/v1", "/api/v2/workers", "/api/v1/widgets", "/api/v1/Workers", "/api/v1/wk/alice",
    "/api/v1/workers/alice/explode", "/api/v1/teams/alpha/wake", "/api/v1/workers//status", "/api/v1/workers/a/b/c",
    "/healthz/x", "/api/v1/tokens/a/b",
  ])
  func unknown(path: String) throws {
    #expect(try Route(path: path) == nil)
  }

  @Test("names are percent-decoded; bad encoding is 400")
  func percent() throws {
    #expect(try Route(path: "/api/v1/workers/al%69ce") == .object(.worker, name: "alice"))
    #expect(throws: APIError.self) { try Route(path: "/api/v1/workers/%zz") }
  }

  /// The decoder agrees with Foundation's `removingPercentEncoding` (which it replaced) on
  /// fixed cases and on random strings of the characters that matter, except that escapes
  /// which decode to invalid UTF-8 are always refused (Foundation sometimes refuses them and
  /// sometimes repairs them to U+FFFD).
  @Test("percent-decoding agrees with Foundation")
  func percentDecodingMatchesFoundation() {
    let fixed = ["", "alice", "al%69ce", "%", "%4", "%zz", "%4G", "a%2Fb", "%C3%A9t%C3%A9", "%C3", "%FF", "%e2%82%ac",
      "100%25", "%%41", "%41%", "caf\u{E9}", "%00"]
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array("%%%0123456789abcdefABCDEFgz-_.~/ \u{E9}")
    let random = (0..<2000).map { _ in
      String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
    }
    for text in fixed + random {
      let foundation = text.removingPercentEncoding
      let expected = foundation?.unicodeScalars.contains("\u{FFFD}") == true ? nil : foundation
      #expect(Route.percentDecoded(Substring(text)) == expected, "\(text.debugDescription)")
    }
  }

  @Test("methods per route")
  func methods() throws {
    #expect(try Route(path: "/api/v1/workers/a/status")?.allowedMethods == [.get])
    #expect(try Route(path: "/api/v1/teams/a/status")?.allowedMethods == [.get])
    #expect(try Route(path: "/api/v1/workers/a/wake")?.allowedMethods == [.post])
    #expect(try Route(path: "/api/v1/workers/a")?.allowedMethods == [.get, .put, .delete])
    #expect(try Route(path: "/api/v1/tokens/x")?.allowedMethods == [.delete])
    #expect(try Route(path: "/healthz")?.requiresToken == false)
    #expect(try Route(path: "/api/v1/version")?.requiresToken == true)
  }
}

@Suite("Authorization matrix")
struct AuthorizationTests {
  static let names = ["alice", "w1", "lead", "other"]

  /// Every action, over every kind and a few names and teams.
  static var allActions: [Action] {
    var actions: [Action] = [.readVersion, .readHostStatus, .manageTokens]
    for kind in Kind.allCases {
      actions.append(.list(kind))
      actions.append(.create(kind))
      for name in names {
        actions += [.get(kind, name: name), .readEvents(kind, name: name), .replace(kind, name: name), .delete(kind, name: name)]
      }
    }
    for verb in LifecycleVerb.allCases {
      for name in names {
        for team in [nil, "alpha", "beta"] as [String?] {
          actions.append(.lifecycle(verb, worker: name, team: team))
        }
      }
    }
    return actions
  }

  /// The matrix of docs/api.md, written out independently of the implementation.
  static func expected(_ role: Role, _ action: Action) -> Bool {
    switch (role, action) {
    case (.admin, _): return true
    case (.manager, .manageTokens): return false
    case (.manager, _): return true
    case (_, .readVersion): return true
    case (.unknown, _): return false
    case (_, .readHostStatus): return true
    case (.teamLeader, .list(.team)), (.teamLeader, .list(.worker)), (.teamLeader, .get(.team, _)),
      (.teamLeader, .get(.worker, _)):
      return true
    case (.teamLeader(let own), .lifecycle(_, _, let team)): return team == own
    case (.worker(let own), .get(.worker, let name)): return name == own
    case (.worker(let own), .lifecycle(.status, let name, _)), (.worker(let own), .lifecycle(.ready, let name, _)):
      return name == own
    default: return false
    }
  }

  static let roles: [Role] = [.admin, .manager, .teamLeader(team: "alpha"), .worker(name: "w1"), .unknown]

  @Test("every role × every action", arguments: roles)
  func exhaustive(role: Role) {
    for action in Self.allActions {
      #expect(Authorization.allows(role, action) == Self.expected(role, action), "\(role) \(action)")
    }
  }

  @Test("the cases the brief names")
  func named() {
    let leader = Role.teamLeader(team: "alpha")
    #expect(!Authorization.allows(leader, .delete(.worker, name: "w1")))
    #expect(!Authorization.allows(leader, .create(.worker)))
    #expect(!Authorization.allows(leader, .create(.team)))
    #expect(!Authorization.allows(leader, .list(.human)))
    #expect(!Authorization.allows(leader, .get(.manager, name: "m")))
    #expect(Authorization.allows(leader, .lifecycle(.wake, worker: "w1", team: "alpha")))
    #expect(!Authorization.allows(leader, .lifecycle(.wake, worker: "w1", team: "beta")))
    #expect(!Authorization.allows(leader, .lifecycle(.wake, worker: "alice", team: nil)))
    let worker = Role.worker(name: "w1")
    #expect(Authorization.allows(worker, .get(.worker, name: "w1")))
    #expect(!Authorization.allows(worker, .get(.worker, name: "alice")))
    #expect(!Authorization.allows(worker, .list(.worker)))
    #expect(!Authorization.allows(worker, .lifecycle(.wake, worker: "w1", team: "alpha")))
    #expect(Authorization.allows(worker, .lifecycle(.ready, worker: "w1", team: "alpha")))
    #expect(!Authorization.allows(.manager, .manageTokens))
  }

  @Test("roles parse from token identities")
  func parsing() {
    func role(_ name: String, _ subject: String) -> Role {
      Role(role: name, subject: subject)
    }
    #expect(role("admin", "") == .admin)
    #expect(role("manager", "") == .manager)
    #expect(role("team-leader", "alpha") == .teamLeader(team: "alpha"))
    #expect(role("team-leader", "") == .unknown)
    #expect(role("worker", "w1") == .worker(name: "w1"))
    #expect(role("worker", "") == .unknown)
    #expect(role("root", "") == .unknown)
  }
}
