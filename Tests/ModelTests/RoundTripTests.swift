import Foundation
import Model
import Testing

@Suite("Codable round trips and wire names")
struct RoundTripTests {
  static func encode(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value)
  }

  @Test("every field survives encode → JSONDecoder", arguments: Fixtures.all)
  func jsonDecoderRoundTrip(resource: AnyResource) throws {
    let data = try Self.encode(resource)
    let decoded = try JSONDecoder().decode(AnyResource.self, from: data)
    #expect(decoded == resource)
  }

  @Test("every field survives encode → strict ResourceDecoder with no warnings", arguments: Fixtures.all)
  func strictDecoderRoundTrip(resource: AnyResource) throws {
    let data = try Self.encode(resource)
    let decoded = try ResourceDecoder().decode(data)
    #expect(decoded.value == resource)
    #expect(decoded.warnings.isEmpty)
  }

  @Test("typed decode of each kind")
  func typedDecode() throws {
    let decoder = ResourceDecoder()
    #expect(try decoder.decode(Worker.self, from: Self.encode(Fixtures.fullWorker)).value == Fixtures.fullWorker)
    #expect(try decoder.decode(Team.self, from: Self.encode(Fixtures.fullTeam)).value == Fixtures.fullTeam)
    #expect(try decoder.decode(Human.self, from: Self.encode(Fixtures.fullHuman)).value == Fixtures.fullHuman)
    #expect(try decoder.decode(Manager.self, from: Self.encode(Fixtures.fullManager)).value == Fixtures.fullManager)
  }

  @Test("full fixtures are valid")
  func fixturesValid() {
    for resource in Fixtures.all {
      #expect(Validation.validate(resource).isEmpty, "\(resource.reference): \(Validation.validate(resource))")
    }
  }

  @Test("JSON field names are exactly the spec's (camelCase; ID vs Id as upstream)")
  func wireNames() throws {
    func keys(_ value: some Encodable) throws -> Set<String> {
      var found: Set<String> = []
      func walk(_ node: JSONNode) {
        switch node {
        case .object(let members):
          for (key, value) in members {
            found.insert(key)
            walk(value)
          }
        case .array(let elements): elements.forEach(walk)
        default: break
        }
      }
      walk(try JSONNode.parse(Self.encode(value)))
      return found
    }
    let worker = try keys(Fixtures.fullWorker)
    for name in [
      "apiVersion", "kind", "metadata", "name", "namespace", "uid", "resourceVersion", "generation",
      "creationTimestamp", "deletionTimestamp", "labels", "annotations", "finalizers", "spec", "model", "runtime",
      "image", "workerName", "identity", "soul", "agents", "skills", "remoteSkills", "source", "authType", "version",
      "label", "mcpServers", "url", "transport", "package", "expose", "port", "protocol", "channelPolicy",
      "groupAllowExtra", "groupDenyExtra", "dmAllowExtra", "dmDenyExtra", "containerManaged", "state",
      "accessEntries", "service", "permissions", "scope", "env", "status", "phase", "observedGeneration",
      "conditions", "type", "reason", "message", "lastTransitionTime", "matrixUserID", "roomID", "containerState",
      "lastHeartbeat", "exposedPorts", "domain",
    ] {
      #expect(worker.contains(name), "Worker JSON lacks \(name)")
    }
    let team = try keys(Fixtures.fullTeam)
    for name in [
      "description", "teamName", "admin", "matrixUserId", "humanMembers", "role", "leader", "workers", "heartbeat",
      "enabled", "every", "workerIdleTimeout", "peerMentions", "teamRoomID", "leaderDMRoomID", "leaderReady",
      "readyWorkers", "totalWorkers", "members", "runtimeName", "specHash", "observed", "ready",
    ] {
      #expect(team.contains(name), "Team JSON lacks \(name)")
    }
    let human = try keys(Fixtures.fullHuman)
    for name in [
      "displayName", "username", "email", "permissionLevel", "accessibleTeams", "accessibleWorkers", "note",
      "initialPassword", "displayNameSyncedGeneration", "rooms", "emailSent",
    ] {
      #expect(human.contains(name), "Human JSON lacks \(name)")
    }
    let manager = try keys(Fixtures.fullManager)
    for name in ["config", "heartbeatInterval", "workerIdleTimeout", "notifyChannel", "version", "welcomeSent"] {
      #expect(manager.contains(name), "Manager JSON lacks \(name)")
    }
  }

  @Test("encoding writes apiVersion and kind, omits an empty status and empty metadata maps")
  func envelope() throws {
    let worker = Worker(metadata: ObjectMeta(name: "w"), spec: WorkerSpec(model: "m"))
    let node = try JSONNode.parse(Self.encode(worker))
    #expect(node["apiVersion"] == "hiclaw.io/v1beta1")
    #expect(node["kind"] == "Worker")
    #expect(node["status"] == nil)
    #expect(node["metadata"] == ["name": "w", "namespace": "default"])
  }

  @Test("a missing namespace decodes as default")
  func defaultNamespace() throws {
    let worker = try ResourceDecoder().decode(Worker.self, from: Fixtures.data(Fixtures.minimalWorker)).value
    #expect(worker.metadata.namespace == "default")
    #expect(worker.metadata.labels.isEmpty)
  }

  @Test("JSONDecoder rejects a document of another kind")
  func jsonDecoderKindCheck() throws {
    let data = try Self.encode(Fixtures.fullHuman)
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(Worker.self, from: data) }
  }

  @Test("timestamps: RFC 3339 in, UTC with milliseconds only when present out")
  func timestamps() throws {
    #expect(Timestamp(rfc3339: "1970-01-01T00:00:00Z")?.millisecondsSinceEpoch == 0)
    #expect(Timestamp(rfc3339: "2026-05-01T12:30:00Z")?.rfc3339 == "2026-05-01T12:30:00Z")
    #expect(Timestamp(rfc3339: "2026-05-01T14:30:00.25+02:00")?.rfc3339 == "2026-05-01T12:30:00.250Z")
    #expect(Timestamp(rfc3339: "2024-02-29T23:59:59.123456789Z")?.rfc3339 == "2024-02-29T23:59:59.123Z")
    #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.5Z")?.millisecondsSinceEpoch == -500)
    #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.500Z")?.rfc3339 == "1969-12-31T23:59:59.500Z")
    for bad in ["", "2026-05-01", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-05-01T12:30:00", "2026-05-01T12:30:00Zjunk"] {
      #expect(Timestamp(rfc3339: bad) == nil, "\(bad)")
    }
    let now = Timestamp.now()
    #expect(Timestamp(rfc3339: now.rfc3339) == now)
    #expect(Timestamp(now.date) == now)
  }

  @Test("a malformed timestamp is a decoding error at its path")
  func badTimestamp() {
    let text = """
      {"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"a","creationTimestamp":"yesterday"},
       "spec":{"model":"m"}}
      """
    #expect(throws: FieldErrors.self) { try ResourceDecoder().decode(Fixtures.data(text)) }
    do {
      _ = try ResourceDecoder().decode(Fixtures.data(text))
    } catch {
      #expect(error.paths == ["metadata.creationTimestamp"])
      #expect(error.first?.message.contains("RFC 3339") == true)
    }
  }
}
