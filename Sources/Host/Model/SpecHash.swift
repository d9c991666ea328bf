/// Per-member change detection for Teams.
///
/// A member's hash is FNV-1a 64 over the ``CanonicalJSON`` of the inputs the user wrote for that
/// member, and nothing derived from other members (peer lists, admin IDs), so adding, removing
/// or editing one member leaves every other member's hash — and container — alone:
///
/// - leader: `{"member": <spec.leader without state>, "teamChannelPolicy": <spec.channelPolicy>}`
/// - worker: `{"member": <spec.workers[i] without state>, "teamChannelPolicy": <spec.channelPolicy>,
///   "peerMentions": <effective spec.peerMentions>}`
///
/// (The team-wide fields are included because they change what that member's generated config
/// says, as upstream does.) The result is 16 lowercase hex digits. Hash the spec as stored: if the
/// store keeps defaulted specs, hash defaulted specs, so that an explicit default and an omitted
/// field hash alike. Absent, `null` and empty lists/maps hash alike (see ``CanonicalJSON``).
public enum SpecHash {
  /// FNV-1a, 64-bit.
  public static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
  }

  /// The hash of a value's canonical JSON, as 16 lowercase hex digits.
  public static func of(_ value: some Encodable) -> String {
    hex(fnv1a64(CanonicalJSON.encode(value)))
  }

  /// The team leader's hash. The member's `state` is left out: sleeping and waking a member
  /// never needs a new container (the reconciler and the API's status both rely on this).
  public static func leader(of team: TeamSpec) -> String {
    var leader = team.leader
    leader.state = nil
    return of(Input(member: leader, teamChannelPolicy: team.channelPolicy, peerMentions: nil))
  }

  /// A team worker's hash (`worker` need not be in `team.workers` yet), without its `state`.
  public static func worker(_ worker: TeamWorkerSpec, of team: TeamSpec) -> String {
    var worker = worker
    worker.state = nil
    return of(Input(member: worker, teamChannelPolicy: team.channelPolicy, peerMentions: team.peerMentions ?? true))
  }

  /// Every member's hash, keyed by member name (the leader included).
  public static func members(of team: TeamSpec) -> [String: String] {
    var hashes = [team.leader.name: leader(of: team)]
    for worker in team.workers ?? [] { hashes[worker.name] = Self.worker(worker, of: team) }
    return hashes
  }

  static func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }

  struct Input<Member: Encodable>: Encodable {
    var member: Member
    var teamChannelPolicy: ChannelPolicy?
    var peerMentions: Bool?
  }
}

/// Whether `new`'s spec differs from `old`'s: the rule for bumping `metadata.generation`.
/// Metadata (labels, annotations, finalizers, …) and status never count. Specs are compared in
/// ``CanonicalJSON`` form, so absent, `null` and empty lists/maps are equal, as in Kubernetes'
/// semantic equality.
public func specChanged<R: Resource>(_ old: R, _ new: R) -> Bool {
  CanonicalJSON.encode(old.spec) != CanonicalJSON.encode(new.spec)
}

/// ``specChanged(_:_:)-(R,R)`` for any kinds; a change of kind counts as a change.
public func specChanged(_ old: AnyResource, _ new: AnyResource) -> Bool {
  switch (old, new) {
  case (.worker(let a), .worker(let b)): specChanged(a, b)
  case (.team(let a), .team(let b)): specChanged(a, b)
  case (.human(let a), .human(let b)): specChanged(a, b)
  case (.manager(let a), .manager(let b)): specChanged(a, b)
  default: true
  }
}

/// The `metadata.generation` an object gets when written: 1 when created (`old == nil`), else
/// the old generation, plus one if the spec changed.
public func nextGeneration<R: Resource>(old: R?, new: R) -> Int64 {
  guard let old else { return 1 }
  let current = old.metadata.generation ?? 1
  return specChanged(old, new) ? current + 1 : current
}
