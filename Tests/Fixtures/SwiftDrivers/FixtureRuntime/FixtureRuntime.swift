import DriverKit

// A test-only hiclaw.agent-runtime/1 driver that implements describe, validate and render, for
// the tests of how the host's reconcilers use runtime drivers. It serves the runtime
// "nanoclaw" (a runtime id a Worker may name; the real NanoClaw driver is a skeleton that only
// answers ping). Pure and deterministic: the answer depends only on the request.
//
// render of a worker {name, spec}:
//   files    config/agent.json (mode 0600): {"agent":<name>,"model":<spec.model>,"role":<context.agent.role>}
//            SOUL.md (policy seed): "# <name>\n"
//   env      FIXTURE_MODEL=<spec.model>, FIXTURE_DEFAULT=runtime, and HICLAW_WORKER_NAME=runtime
//            (which the host must not let override its own value)
//   image    fixture/runtime:<spec.model>
//   command  ["agent", "--config", "config/agent.json"]
//   ports    [{"name":"gateway","container":18080}]
// spec.model "rejected-by-runtime": INVALID_ARGUMENT on spec.model (a spec the runtime cannot
// run); spec.model "escape": a file path outside the agent's home (a misbehaving driver).
#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

enum FixtureRuntimeDriver: DriverDefinition {
  static let name = "fixture-runtime"
  static let version = "0.1.0"
  static let kind = DriverKind.agentRuntime
  static let protocols = [AgentRuntimeV1.protocolID]
  static let methods = ["ping", "describe", "validate", "render"]

  static func makeInstance(config: JSONValue, host: Host) throws(DriverError) -> FixtureRuntime {
    FixtureRuntime()
  }
}

struct FixtureRuntime: AgentRuntime {
  static let runtime = "nanoclaw"

  func describe() async throws(DriverError) -> AgentRuntimeV1.RuntimeDescription {
    AgentRuntimeV1.RuntimeDescription(
      runtime: Self.runtime, displayName: "Fixture runtime", defaultImage: "fixture/runtime:latest",
      configFiles: ["config/agent.json", "SOUL.md"])
  }

  func validate(_ request: AgentRuntimeV1.ValidateRequest) async throws(DriverError) -> AgentRuntimeV1.ValidateResponse {
    AgentRuntimeV1.ValidateResponse(errors: problems(request.worker.spec))
  }

  func render(_ request: AgentRuntimeV1.RenderRequest) async throws(DriverError) -> AgentRuntimeV1.RenderResponse {
    let spec = request.worker.spec
    if let problem = problems(spec).first {
      throw .invalidArgument("\(problem.field): \(problem.message)", details: ["field": .string(problem.field)])
    }
    let name = request.worker.name
    let model = spec["model"]?.stringValue ?? ""
    let role = request.context["agent"]?.objectValue?["role"]?.stringValue ?? ""
    let config = #"{"agent":\#(quoted(name)),"model":\#(quoted(model)),"role":\#(quoted(role))}"#
    var files = [
      AgentRuntimeV1.RenderedFile(path: "config/agent.json", content: config, mode: "0600"),
      AgentRuntimeV1.RenderedFile(path: "SOUL.md", content: "# \(name)\n", policy: .seed),
    ]
    if model == "escape" { files.append(AgentRuntimeV1.RenderedFile(path: "../other-agent/config.json", content: "{}")) }
    return AgentRuntimeV1.RenderResponse(
      files: files,
      env: ["FIXTURE_MODEL": model, "FIXTURE_DEFAULT": "runtime", "HICLAW_WORKER_NAME": "runtime"],
      image: "fixture/runtime:\(model)",
      command: ["agent", "--config", "config/agent.json"],
      ports: [AgentRuntimeV1.Port(name: "gateway", container: 18080)])
  }

  private func problems(_ spec: [String: JSONValue]) -> [AgentRuntimeV1.FieldError] {
    spec["model"]?.stringValue == "rejected-by-runtime"
      ? [AgentRuntimeV1.FieldError(field: "spec.model", message: "this runtime cannot run the model \"rejected-by-runtime\"")]
      : []
  }

  private func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

@c public func hc_driver_magic_v1() -> UnsafePointer<hc_driver_magic> {
  DriverExport.magic(FixtureRuntimeDriver.self)
}

@c public func hc_driver_init_v1(
  _ args: UnsafePointer<hc_init_args>?,
  _ api: UnsafeMutablePointer<UnsafePointer<hc_driver_api>?>?,
  _ err: UnsafeMutablePointer<hc_buf>?
) -> hc_status {
  DriverExport.initialize(FixtureRuntimeDriver.self, args, api, err)
}
