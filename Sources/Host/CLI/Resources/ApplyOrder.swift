import Model

/// The order `apply` sends objects in: by dependency, not by file order.
///
/// The host accepts an object whatever it names; references between objects are resolved by the
/// reconcilers as objects appear. The order is the one that converges fastest (nothing waits for
/// an object that comes later):
///
/// 1. Humans that some Team in the batch names as `spec.admin.name` or in `spec.humanMembers`,
/// 2. Teams,
/// 3. Workers (Humans may name them in `accessibleWorkers`),
/// 4. the other Humans (typically those whose `accessibleTeams` name the Teams above),
/// 5. Managers.
///
/// Within a group the file order is kept. A cycle — a Human who administers a Team and also
/// lists it in `accessibleTeams` — needs no special handling: the Human goes first with its
/// back-reference intact, because the host accepts `accessibleTeams` naming a Team that does not
/// exist yet and the Human controller joins the Team Room once the Team has one. Stripping the
/// reference and re-applying later would cost a second write and a spurious generation bump.
enum ApplyOrder {
  static func sorted(_ manifests: [Manifest]) -> [Manifest] {
    let rank = ranks(manifests)
    // Swift's sort is not stable: sort by (rank, original position).
    return manifests.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
  }

  /// ``sorted(_:)`` cut into its groups (1–5 above): objects of one group do not depend on each
  /// other, so they may be sent in parallel; a group must wait for the ones before it.
  static func groups(_ ordered: [Manifest]) -> [[Manifest]] {
    let rank = ranks(ordered)
    var groups: [[Manifest]] = []
    var last: Int?
    for manifest in ordered {
      let current = rank(manifest)
      if current != last { groups.append([]) }
      groups[groups.count - 1].append(manifest)
      last = current
    }
    return groups
  }

  private static func ranks(_ manifests: [Manifest]) -> (Manifest) -> Int {
    var referencedHumans = Set<String>()
    for case .team(let team) in manifests.map(\.resource) {
      if let admin = team.spec.admin?.name, !admin.isEmpty { referencedHumans.insert(admin) }
      for member in team.spec.humanMembers ?? [] { referencedHumans.insert(member.name) }
    }
    return { manifest in
      switch manifest.kind {
      case .human: referencedHumans.contains(manifest.name) ? 0 : 3
      case .team: 1
      case .worker: 2
      case .manager: 4
      }
    }
  }

  /// The order to delete in: the reverse of ``sorted(_:)`` by kind (Managers, Workers, Teams,
  /// then Humans), so no Team ever points at an admin Human that is already gone.
  static func deletionRank(_ kind: Kind) -> Int {
    switch kind {
    case .manager: 0
    case .worker: 1
    case .team: 2
    case .human: 3
    }
  }
}
