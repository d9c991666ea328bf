import Model

/// The order `apply` sends objects in: by dependency, not by file order.
///
/// The host checks one reference when it accepts an object: a Team's `spec.admin.name` must name
/// an existing Human (docs/api.md 422). Everything else between objects is resolved by the
/// reconcilers as objects appear, so the order only has to satisfy that rule and otherwise be
/// the one that converges fastest:
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
    var referencedHumans = Set<String>()
    for case .team(let team) in manifests.map(\.resource) {
      if let admin = team.spec.admin?.name, !admin.isEmpty { referencedHumans.insert(admin) }
      for member in team.spec.humanMembers ?? [] { referencedHumans.insert(member.name) }
    }
    func rank(_ manifest: Manifest) -> Int {
      switch manifest.kind {
      case .human: referencedHumans.contains(manifest.name) ? 0 : 3
      case .team: 1
      case .worker: 2
      case .manager: 4
      }
    }
    // Swift's sort is not stable: sort by (rank, original position).
    return manifests.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
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
