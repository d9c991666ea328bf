import Model
import YAML

/// The columns `hiclaw get` prints per kind (kubectl's habits: NAME first, AGE last, `-o wide`
/// adds detail). Objects are read as JSON, not decoded into the Model's types, so a newer host
/// that adds status fields never breaks an older CLI.
enum ResourceColumns {
  static func headers(_ kind: Kind, wide: Bool) -> [String] {
    switch kind {
    case .worker: ["NAME", "PHASE", "MODEL", "RUNTIME", "STATE", "AGE"] + (wide ? ["IMAGE", "MATRIX-ID", "CONTAINER"] : [])
    case .team: ["NAME", "PHASE", "LEADER", "WORKERS", "READY", "AGE"] + (wide ? ["ADMIN", "TEAM-NAME", "ROOM"] : [])
    case .human: ["NAME", "PHASE", "DISPLAY-NAME", "LEVEL", "MATRIX-ID", "AGE"] + (wide ? ["EMAIL", "TEAMS", "WORKERS"] : [])
    case .manager: ["NAME", "PHASE", "MODEL", "RUNTIME", "AGE"] + (wide ? ["IMAGE", "MATRIX-ID", "CONTAINER"] : [])
    }
  }

  /// One table row. `phaseOverride` replaces the phase (a watch's `DELETED` event).
  static func row(_ kind: Kind, _ object: JSONValue, wide: Bool, phaseOverride: String? = nil) -> [String] {
    func text(_ path: String) -> String { object.text(path).flatMap { $0.isEmpty ? nil : $0 } ?? "-" }
    let name = text("metadata.name")
    let created = age(of: object.text("metadata.creationTimestamp"))
    let phase = phaseOverride ?? displayPhase(object)
    switch kind {
    case .worker:
      // Defaults (runtime, state) are applied by the host; "-" means the host has not yet.
      var row = [name, phase, text("spec.model"), text("spec.runtime"), text("spec.state"), created]
      if wide { row += [text("spec.image"), text("status.matrixUserID"), text("status.containerState")] }
      return row
    case .team:
      let declared = object[path: "spec.workers"]?.arrayValue?.count ?? 0
      let total = object[path: "status.totalWorkers"]?.intValue ?? declared
      let ready = object[path: "status.readyWorkers"]?.intValue ?? 0
      var row = [name, phase, text("spec.leader.name"), String(declared), "\(ready)/\(total)", created]
      if wide { row += [text("spec.admin.name"), text("spec.teamName"), text("status.teamRoomID")] }
      return row
    case .human:
      var row = [name, phase, text("spec.displayName"), text("spec.permissionLevel"), text("status.matrixUserID"), created]
      if wide { row += [text("spec.email"), list(object, "spec.accessibleTeams"), list(object, "spec.accessibleWorkers")] }
      return row
    case .manager:
      var row = [name, phase, text("spec.model"), text("spec.runtime"), created]
      if wide { row += [text("spec.image"), text("status.matrixUserID"), text("status.containerState")] }
      return row
    }
  }

  /// The phase, `Terminating` while finalizers run (as kubectl shows Pods), `Pending` before the
  /// host has looked at the object.
  static func displayPhase(_ object: JSONValue) -> String {
    if object.text("metadata.deletionTimestamp") != nil { return "Terminating" }
    return object.text("status.phase").flatMap { $0.isEmpty ? nil : $0 } ?? "Pending"
  }

  private static func list(_ object: JSONValue, _ path: String) -> String {
    let names = (object[path: path]?.arrayValue ?? []).compactMap(\.stringValue)
    return names.isEmpty ? "-" : names.joined(separator: ",")
  }
}
