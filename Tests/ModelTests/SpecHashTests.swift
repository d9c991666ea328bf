import Foundation
import Model
import Testing

@Suite("Spec hashes and generation")
struct SpecHashTests {
  static let team = Fixtures.fullTeam.spec

  @Test("FNV-1a 64 test vectors")
  func fnv() {
    #expect(SpecHash.fnv1a64([UInt8]()) == 0xcbf2_9ce4_8422_2325)
    #expect(SpecHash.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
    #expect(SpecHash.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
  }

  @Test("canonical JSON: sorted keys, no empties, integral numbers as integers, minimal escaping")
  func canonical() {
    let node: JSONNode = ["b": [1.0, "x/y\n\"é"], "a": ["z": nil, "e": [], "o": [:]], "c": 0.5, "d": false]
    #expect(String(decoding: CanonicalJSON.encode(node), as: UTF8.self) == #"{"b":[1,"x/y\n\"é"],"c":0.5,"d":false}"#)
    let member = TeamWorkerSpec(name: "w", env: [:], labels: ["b": "2", "a": "1"])
    #expect(String(decoding: CanonicalJSON.encode(member), as: UTF8.self) == #"{"labels":{"a":"1","b":"2"},"name":"w"}"#)
  }

  @Test("hashes are stable: pinned values (a change here invalidates every stored hash)")
  func pinned() {
    let spec = TeamSpec(leader: LeaderSpec(name: "lead", model: "m"), workers: [TeamWorkerSpec(name: "w1", model: "m")])
    // {"member":{"model":"m","name":"lead"}}
    #expect(SpecHash.leader(of: spec) == SpecHash.of(["member": ["model": "m", "name": "lead"]] as JSONNode))
    #expect(SpecHash.leader(of: spec) == fnvHex(#"{"member":{"model":"m","name":"lead"}}"#))
    #expect(
      SpecHash.worker(spec.workers![0], of: spec)
        == fnvHex(#"{"member":{"model":"m","name":"w1"},"peerMentions":true}"#))
    // Literal pins (computed with an independent FNV-1a implementation).
    #expect(SpecHash.leader(of: spec) == "48d190f370ffb9b0")
    #expect(SpecHash.worker(spec.workers![0], of: spec) == "c86a81d951744d39")
  }

  @Test("the same spec hashes the same every time, whatever the map order")
  func stable() throws {
    let first = SpecHash.members(of: Self.team)
    for _ in 0..<20 {
      let reencoded = try JSONDecoder().decode(TeamSpec.self, from: JSONEncoder().encode(Self.team))
      #expect(SpecHash.members(of: reencoded) == first)
    }
    #expect(Set(first.keys) == ["lead", "w1", "w2"])
  }

  @Test("changing one member changes only that member's hash")
  func isolation() {
    let before = SpecHash.members(of: Self.team)
    var edited = Self.team
    edited.workers![1].model = "claude-sonnet-4-6"
    let after = SpecHash.members(of: edited)
    #expect(after["w2"] != before["w2"])
    #expect(after["w1"] == before["w1"])
    #expect(after["lead"] == before["lead"])

    var leaderEdited = Self.team
    leaderEdited.leader.soul = "Different"
    let afterLeader = SpecHash.members(of: leaderEdited)
    #expect(afterLeader["lead"] != before["lead"])
    #expect(afterLeader["w1"] == before["w1"] && afterLeader["w2"] == before["w2"])
  }

  @Test("adding or removing a worker leaves the others alone")
  func addRemove() {
    let before = SpecHash.members(of: Self.team)
    var added = Self.team
    added.workers!.append(TeamWorkerSpec(name: "w3", model: "m"))
    let afterAdd = SpecHash.members(of: added)
    for name in ["lead", "w1", "w2"] { #expect(afterAdd[name] == before[name]) }
    var removed = Self.team
    removed.workers!.removeFirst()
    let afterRemove = SpecHash.members(of: removed)
    #expect(afterRemove["w2"] == before["w2"] && afterRemove["lead"] == before["lead"])
    // Reordering workers changes no hash.
    var reordered = Self.team
    reordered.workers!.reverse()
    #expect(SpecHash.members(of: reordered) == before)
  }

  @Test("team-wide inputs: channelPolicy changes every member, peerMentions only the workers, other team fields none")
  func teamWide() {
    let before = SpecHash.members(of: Self.team)
    var policy = Self.team
    policy.channelPolicy = ChannelPolicy(dmDenyExtra: ["x"])
    #expect(SpecHash.members(of: policy).allSatisfy { before[$0.key] != $0.value })
    var mentions = Self.team
    mentions.peerMentions = true
    let afterMentions = SpecHash.members(of: mentions)
    #expect(afterMentions["lead"] == before["lead"])
    #expect(afterMentions["w1"] != before["w1"])
    var other = Self.team
    other.description = "new text"
    other.humanMembers = []
    other.admin = nil
    #expect(SpecHash.members(of: other) == before)
  }

  @Test("absent, null and empty collections hash alike")
  func emptiesEqual() {
    let a = TeamSpec(leader: LeaderSpec(name: "l"), workers: [TeamWorkerSpec(name: "w")])
    let b = TeamSpec(leader: LeaderSpec(name: "l", env: [:]), workers: [TeamWorkerSpec(name: "w", skills: [], labels: [:])])
    #expect(SpecHash.members(of: a) == SpecHash.members(of: b))
  }

  @Test("specChanged compares specs only; generation follows it")
  func generation() {
    let worker = Fixtures.fullWorker
    var metadataOnly = worker
    metadataOnly.metadata.labels["new"] = "label"
    metadataOnly.metadata.annotations["a"] = "b"
    metadataOnly.metadata.finalizers = []
    metadataOnly.metadata.resourceVersion = "99"
    var statusOnly = worker
    statusOnly.status.phase = .failed
    statusOnly.status.message = "boom"
    var specEdit = worker
    specEdit.spec.model = "other"
    var emptyEnv = Worker(metadata: worker.metadata, spec: WorkerSpec(model: "m"))
    let bare = emptyEnv
    emptyEnv.spec.env = [:]

    #expect(!specChanged(worker, metadataOnly))
    #expect(!specChanged(worker, statusOnly))
    #expect(specChanged(worker, specEdit))
    #expect(!specChanged(bare, emptyEnv))
    #expect(specChanged(AnyResource.worker(worker), .worker(specEdit)))
    #expect(specChanged(AnyResource.worker(worker), .human(Fixtures.fullHuman)))

    #expect(nextGeneration(old: nil, new: worker) == 1)
    #expect(nextGeneration(old: worker, new: metadataOnly) == 3)
    #expect(nextGeneration(old: worker, new: specEdit) == 4)
  }

  @Test func aMembersStateDoesNotChangeItsHash() {
    var spec = TeamSpec(leader: LeaderSpec(name: "lead"))
    spec.workers = [TeamWorkerSpec(name: "w1")]
    let leader = SpecHash.leader(of: spec)
    let worker = SpecHash.worker(spec.workers![0], of: spec)
    spec.leader.state = .sleeping
    spec.workers![0].state = .stopped
    #expect(SpecHash.leader(of: spec) == leader)
    #expect(SpecHash.worker(spec.workers![0], of: spec) == worker)
    spec.workers![0].model = "other"
    #expect(SpecHash.worker(spec.workers![0], of: spec) != worker)
  }
}

/// The FNV-1a 64 of `canonical` as 16 hex digits, computed here independently of SpecHash.
func fnvHex(_ canonical: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in canonical.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    let digits = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
