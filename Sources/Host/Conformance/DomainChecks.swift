import DriverABI
import DriverHost
import DriverProtocols
import Foundation

/// Protocol-level checks for the methods a driver declares in `describe`: the worker-backend
/// lifecycle with its idempotency rules, and the agent-runtime describe/validate/render calls.
struct DomainChecks {
  var timeout: Duration?
  static let lifecycle = ["create", "start", "inspect", "stop", "delete"]

  func run(description: DriverDescription, instance: DriverInstance, add: (String, CheckResult.Outcome, String) -> Void) async {
    let methods = Set(description.methods)
    switch description.kind {
    case .workerBackend:
      let missing = Self.lifecycle.filter { !methods.contains($0) }
      guard missing.isEmpty else {
        add("domain.worker-backend", .skip,
          "declares \(description.methods.sorted()); the lifecycle checks need \(Self.lifecycle.joined(separator: ", ")) (missing \(missing.joined(separator: ", ")))")
        return
      }
      let result = await workerBackendLifecycle(instance, methods: methods)
      switch result {
      case .success(let steps): add("domain.worker-backend", .pass, "lifecycle and idempotency ok (\(steps) steps)")
      case .failure(let failure): add("domain.worker-backend", .fail, failure.message)
      }
    case .agentRuntime:
      let needed = ["describe", "validate", "render"]
      let missing = needed.filter { !methods.contains($0) }
      guard missing.isEmpty else {
        add("domain.agent-runtime", .skip,
          "declares \(description.methods.sorted()); the runtime checks need describe, validate, render (missing \(missing.joined(separator: ", ")))")
        return
      }
      let result = await agentRuntime(instance)
      switch result {
      case .success(let steps): add("domain.agent-runtime", .pass, "describe, validate and render ok (\(steps) steps)")
      case .failure(let failure): add("domain.agent-runtime", .fail, failure.message)
      }
    }
  }

  struct StepFailure: Error { var message: String }

  /// Calls `method` and checks the status is one of `accept`; returns the parsed JSON object.
  private func step(
    _ instance: DriverInstance, _ label: String, _ method: String, _ request: [String: Any], accept: Set<Int32> = [HC_OK]
  ) async throws(StepFailure) -> [String: Any] {
    let body = String(decoding: (try? JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    let outcome = await instance.callOutcome(method, body, resource: request["name"] as? String, timeout: timeout)
    guard accept.contains(outcome.status) else {
      let expected = accept.map { DriverStatus(rawValue: $0)?.name ?? "\($0)" }.sorted().joined(separator: " or ")
      throw StepFailure(message: "\(label): \(method) returned \(name(outcome.status)) (\(errorText(outcome.json))), expected \(expected)")
    }
    guard outcome.ok else { return [:] }
    guard let object = try? JSONSerialization.jsonObject(with: Data(outcome.json.utf8)) as? [String: Any] else {
      throw StepFailure(message: "\(label): \(method) returned OK but not a JSON object: \(outcome.json.prefix(120))")
    }
    return object
  }

  private func expectState(_ object: [String: Any], _ label: String, in states: Set<String>) throws(StepFailure) {
    let state = object["state"] as? String ?? "<missing>"
    guard states.contains(state) else {
      throw StepFailure(message: "\(label): state is \(state), expected \(states.sorted().joined(separator: " or "))")
    }
  }

  private func workerBackendLifecycle(_ instance: DriverInstance, methods: Set<String>) async -> Result<Int, StepFailure> {
    let name = "hc-conformance-\(UInt32.random(in: 0...UInt32.max))"
    let image = ProcessInfo.processInfo.environment["HICLAW_CONFORMANCE_IMAGE"] ?? "busybox"
    let labels = ["hiclaw.io/conformance": "true"]
    var steps = 0
    do throws(StepFailure) {
      _ = try await step(instance, "create", "create", ["name": name, "image": image, "command": ["sleep", "300"], "labels": labels])
      steps += 1
      _ = try await step(instance, "create again (idempotent)", "create", ["name": name, "image": image, "labels": labels],
        accept: [HC_OK, HC_ERR_ALREADY_EXISTS])
      steps += 1
      let created = try await step(instance, "inspect after create", "inspect", ["name": name])
      guard created["name"] as? String == name else {
        throw StepFailure(message: "inspect after create: name is \(created["name"] ?? "missing"), expected \(name)")
      }
      try expectState(created, "inspect after create", in: ["created", "stopped", "running"])
      steps += 1
      _ = try await step(instance, "start", "start", ["name": name])
      _ = try await step(instance, "start again (idempotent)", "start", ["name": name])
      try expectState(try await step(instance, "inspect after start", "inspect", ["name": name]), "inspect after start", in: ["running"])
      steps += 3
      if methods.contains("logs") {
        _ = try await step(instance, "logs", "logs", ["name": name, "tail": 10])
        steps += 1
      }
      if methods.contains("list") {
        let listed = try await step(instance, "list by label", "list", ["labels": labels])
        let names = (listed["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        guard names.contains(name) else { throw StepFailure(message: "list by label: \(name) missing from \(names)") }
        steps += 1
      }
      _ = try await step(instance, "stop", "stop", ["name": name, "timeout_s": 1])
      _ = try await step(instance, "stop again (idempotent)", "stop", ["name": name, "timeout_s": 1])
      try expectState(try await step(instance, "inspect after stop", "inspect", ["name": name]), "inspect after stop",
        in: ["stopped", "exited", "created"])
      steps += 3
      _ = try await step(instance, "delete", "delete", ["name": name])
      _ = try await step(instance, "delete again (idempotent)", "delete", ["name": name], accept: [HC_OK, HC_ERR_NOT_FOUND])
      _ = try await step(instance, "inspect after delete", "inspect", ["name": name], accept: [HC_ERR_NOT_FOUND])
      _ = try await step(instance, "start unknown", "start", ["name": name], accept: [HC_ERR_NOT_FOUND])
      steps += 4
      return .success(steps)
    } catch {
      _ = await instance.callOutcome("delete", #"{"name":"\#(name)"}"#, timeout: timeout)
      return .failure(error)
    }
  }

  private func agentRuntime(_ instance: DriverInstance) async -> Result<Int, StepFailure> {
    let worker: [String: Any] = ["name": "conformance", "spec": ["model": "test-model"]]
    do throws(StepFailure) {
      let described = try await step(instance, "describe", "describe", [:])
      guard described["runtime"] is String else { throw StepFailure(message: "describe: missing string field runtime") }
      let validated = try await step(instance, "validate", "validate", ["worker": worker])
      guard validated["valid"] is Bool else { throw StepFailure(message: "validate: missing boolean field valid") }
      let rendered = try await step(instance, "render", "render", ["worker": worker, "context": [String: Any]()])
      guard let files = rendered["files"] as? [[String: Any]] else { throw StepFailure(message: "render: missing array field files") }
      for (index, file) in files.enumerated() {
        let path = file["path"] as? String ?? ""
        if path.isEmpty || path.hasPrefix("/") || path.split(separator: "/").contains("..") {
          throw StepFailure(message: "render: files[\(index)].path \"\(path)\" must be a relative path inside the agent's directory")
        }
        if let policy = file["policy"] as? String, policy != "overwrite" && policy != "seed" {
          throw StepFailure(message: "render: files[\(index)].policy \"\(policy)\" must be overwrite or seed")
        }
      }
      let again = try await step(instance, "render again (deterministic)", "render", ["worker": worker, "context": [String: Any]()])
      guard NSDictionary(dictionary: again).isEqual(to: rendered) else {
        throw StepFailure(message: "render: the same input rendered differently twice; rendering must be deterministic")
      }
      return .success(4)
    } catch {
      return .failure(error)
    }
  }
}
