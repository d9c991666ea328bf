import Foundation
import Model
import Testing

@Suite("Strict decoding")
struct DecodingTests {
  static let teamWithTypo = """
    {"apiVersion": "hiclaw.io/v1beta1", "kind": "Team", "metadata": {"name": "alpha"},
     "spec": {"leader": {"name": "lead"},
              "workers": [{"name": "a"}, {"name": "b"}, {"name": "c", "modle": "qwen"}]}}
    """

  @Test("an unknown field is an error with its path and the closest known field")
  func unknownFieldSuggestion() {
    let errors = decodeErrors(Self.teamWithTypo)
    #expect(errors.map(\.description) == [#"spec.workers[2].modle: unknown field (did you mean "model"?)"#])
    #expect(errors.first?.reason == .unknownField)
  }

  @Test("unknown fields are found at every level, each with its own path")
  func unknownEverywhere() {
    let text = """
      {"apiVersion": "hiclaw.io/v1beta1", "kind": "Worker", "extra": 1,
       "metadata": {"name": "a", "lables": {"x": "y"}},
       "spec": {"model": "m", "mcpServers": [{"name": "n", "url": "http://h", "transprot": "sse"}],
                "expose": [{"port": 80, "proto": "http"}], "channelPolicy": {"dmAllow": []},
                "remoteSkills": [{"source": "nacos://h/n", "skills": [{"name": "s", "versoin": "1"}]}],
                "accessEntries": [{"service": "ai-gateway", "scope": {"anything": {"goes": true}}}],
                "env": {"ANY_KEY": "fine"}, "zzzzzzzz": true},
       "status": {"phaze": "Running"}}
      """
    let errors = decodeErrors(text)
    #expect(
      Set(errors.paths) == [
        "extra", "metadata.lables", "spec.mcpServers[0].transprot", "spec.expose[0].proto",
        "spec.channelPolicy.dmAllow", "spec.remoteSkills[0].skills[0].versoin", "spec.zzzzzzzz", "status.phaze",
      ])
    #expect(errors.message(at: "metadata.lables") == #"unknown field (did you mean "labels"?)"#)
    #expect(errors.message(at: "spec.mcpServers[0].transprot") == #"unknown field (did you mean "transport"?)"#)
    #expect(errors.message(at: "spec.remoteSkills[0].skills[0].versoin") == #"unknown field (did you mean "version"?)"#)
    #expect(errors.message(at: "status.phaze") == #"unknown field (did you mean "phase"?)"#)
    #expect(errors.message(at: "spec.zzzzzzzz")?.hasPrefix("unknown field; remove it (fields allowed here: ") == true)
    #expect(errors.message(at: "spec.zzzzzzzz")?.contains("containerManaged") == true)
    #expect(errors.allSatisfy { $0.reason == .unknownField })
  }

  @Test("case and separator differences are suggested whatever the length")
  func caseSuggestions() {
    let text = """
      {"apiVersion": "hiclaw.io/v1beta1", "kind": "Worker", "metadata": {"name": "a"},
       "spec": {"model": "m", "worker_name": "x", "ContainerManaged": true}}
      """
    let errors = decodeErrors(text)
    #expect(errors.message(at: "spec.worker_name") == #"unknown field (did you mean "workerName"?)"#)
    #expect(errors.message(at: "spec.ContainerManaged") == #"unknown field (did you mean "containerManaged"?)"#)
  }

  @Test("fields that do not exist on purpose get an explanation")
  func hints() {
    let text = """
      {"apiVersion": "hiclaw.io/v1beta1", "kind": "Team", "metadata": {"name": "t"},
       "spec": {"leader": {"name": "l", "runtime": "openclaw", "expose": [{"port": 80}]},
                "workers": [{"name": "w", "containerManaged": false}]}}
      """
    let errors = decodeErrors(text)
    #expect(errors.message(at: "spec.leader.runtime") == "unknown field; the team leader always runs the copaw runtime; remove it")
    #expect(errors.message(at: "spec.leader.expose")?.contains("never exposes ports") == true)
    #expect(errors.message(at: "spec.workers[0].containerManaged")?.contains("always container-managed") == true)
    let worker = decodeErrors(
      #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"a"},"spec":{"model":"m","team":"t"}}"#)
    #expect(worker.message(at: "spec.team")?.contains("declare it under a Team's spec.workers") == true)
  }

  @Test("lenient mode returns unknown fields as warnings and drops them")
  func lenient() throws {
    let decoded = try ResourceDecoder(mode: .lenient).decode(Fixtures.data(Self.teamWithTypo))
    #expect(decoded.warnings.map(\.description) == [#"spec.workers[2].modle: unknown field (did you mean "model"?)"#])
    #expect(decoded.value.team?.spec.workers?[2] == TeamWorkerSpec(name: "c"))
    // Strict mode has no warnings on a clean document.
    #expect(try ResourceDecoder().decode(Fixtures.data(Fixtures.minimalWorker)).warnings.isEmpty)
  }

  @Test("lenient mode still rejects wrong types and bad envelopes")
  func lenientStillStrictOnTypes() {
    let text = #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"a"},"spec":{"model":7}}"#
    #expect(decodeErrors(text, mode: .lenient).paths == ["spec.model"])
    #expect(decodeErrors(#"{"apiVersion":"v1","kind":"Worker"}"#, mode: .lenient).paths == ["apiVersion"])
  }

  @Test("wrong types name the path and the expected type, and every one is reported")
  func wrongTypes() {
    let text = """
      {"apiVersion": "hiclaw.io/v1beta1", "kind": "Worker", "metadata": {"name": "a", "labels": {"n": 1}},
       "spec": {"model": 42, "skills": "web", "containerManaged": "true", "expose": [{"port": "8080"}, {"port": 80.5}],
                "env": ["A=1"], "mcpServers": [null], "remoteSkills": [{"source": "nacos://h/n", "skills": [{"name": ["x"]}]}]}}
      """
    let errors = decodeErrors(text)
    #expect(errors.message(at: "spec.model") == #"expected string, got integer 42 (quote it: "42")"#)
    #expect(errors.message(at: "spec.skills") == #"expected array, got string "web""#)
    #expect(errors.message(at: "spec.containerManaged") == #"expected boolean, got string "true" (remove the quotes)"#)
    #expect(errors.message(at: "spec.expose[0].port") == #"expected integer, got string "8080" (remove the quotes)"#)
    #expect(errors.message(at: "spec.expose[1].port") == "expected integer, got number 80.5")
    #expect(errors.message(at: "spec.env") == "expected object, got array")
    #expect(errors.message(at: "metadata.labels[\"n\"]") == #"expected string, got integer 1 (quote it: "1")"#)
    #expect(errors.message(at: "spec.mcpServers[0]") == "expected object, got null")
    #expect(errors.message(at: "spec.remoteSkills[0].skills[0].name") == "expected string, got array")
    #expect(errors.count == 9)
    #expect(errors.allSatisfy { $0.reason == .wrongType })
  }

  @Test("null means absent for members")
  func nullIsAbsent() throws {
    let text = #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"a","labels":null},"spec":{"model":"m","image":null}}"#
    let worker = try ResourceDecoder().decode(Worker.self, from: Fixtures.data(text)).value
    #expect(worker.spec.image == nil)
    #expect(worker.metadata.labels.isEmpty)
  }

  @Test("integral numbers written with a fraction are accepted where an integer belongs")
  func integralDouble() throws {
    let text = #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Human","metadata":{"name":"h"},"spec":{"displayName":"H","permissionLevel":2.0}}"#
    #expect(try ResourceDecoder().decode(Human.self, from: Fixtures.data(text)).value.spec.permissionLevel == 2)
  }

  @Test("apiVersion must be hiclaw.io/v1beta1")
  func apiVersion() {
    #expect(
      decodeErrors(#"{"kind":"Worker","metadata":{"name":"a"},"spec":{"model":"m"}}"#).map(\.description)
        == ["apiVersion: required: set apiVersion: hiclaw.io/v1beta1"])
    #expect(
      decodeErrors(#"{"apiVersion":"hiclaw.io/v1","kind":"Worker","spec":{}}"#).map(\.description)
        == [#"apiVersion: unsupported apiVersion "hiclaw.io/v1"; hiclaw serves hiclaw.io/v1beta1"#])
    #expect(
      decodeErrors(#"{"apiVersion":"agentteams.io/v1beta1","kind":"Worker","spec":{}}"#).message(at: "apiVersion")?
        .contains("renamed upstream API") == true)
  }

  @Test("kind must be one of the four, with a suggestion")
  func kind() {
    #expect(
      decodeErrors(#"{"apiVersion":"hiclaw.io/v1beta1","kind":"Workr"}"#).map(\.description)
        == [#"kind: unknown kind "Workr"; must be one of Worker, Team, Human, Manager (did you mean "Worker"?)"#])
    #expect(
      decodeErrors(#"{"apiVersion":"hiclaw.io/v1beta1","kind":"teams"}"#).message(at: "kind")?
        .hasSuffix(#"(did you mean "Team"?)"#) == true)
    #expect(
      decodeErrors(#"{"apiVersion":"hiclaw.io/v1beta1"}"#).map(\.description)
        == ["kind: required: set kind to one of Worker, Team, Human, Manager"])
    // Both envelope fields wrong: both reported.
    #expect(decodeErrors(#"{"apiVersion":1,"kind":"Pod"}"#).paths == ["apiVersion", "kind"])
  }

  @Test("a typed decode of another kind fails on kind")
  func typedKindMismatch() {
    do {
      _ = try ResourceDecoder().decode(Team.self, from: Fixtures.data(Fixtures.minimalWorker))
      Issue.record("decoded a Worker as a Team")
    } catch {
      #expect(error.map(\.description) == ["kind: expected Team, got Worker"])
    }
  }

  @Test("a repeated key is an error in strict mode and a warning in lenient mode")
  func duplicateKeys() throws {
    let text = #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"a"},"spec":{"model":"a","model":"b"}}"#
    #expect(decodeErrors(text).map(\.description) == ["spec.model: field given more than once; keep one"])
    let lenient = try ResourceDecoder(mode: .lenient).decode(Worker.self, from: Fixtures.data(text))
    #expect(lenient.warnings.paths == ["spec.model"])
    #expect(lenient.value.spec.model == "b")
  }

  @Test("malformed JSON reports line and column")
  func syntax() {
    let errors = decodeErrors("{\n  \"kind\": \"Worker\",\n  \"spec\": {\"model\": tru}\n}")
    #expect(errors.count == 1)
    #expect(errors.first?.reason == .invalidJSON)
    #expect(errors.first?.description.hasPrefix("invalid JSON at line 3, column 21:") == true)
    #expect(decodeErrors("").first?.message.contains("empty") == true)
    #expect(decodeErrors("[1,2]").map(\.description) == ["expected a JSON object with apiVersion, kind, metadata and spec, got array"])
  }

  @Test("the parser: escapes, numbers, nesting limit, trailing garbage")
  func parser() throws {
    #expect(try JSONNode.parse(Fixtures.data(#"{"a":"\u00e9\ud83d\ude00\n\"","b":-0,"c":1.5e3,"d":[true,false,null]}"#))
      == ["a": "é😀\n\"", "b": 0, "c": 1500.0, "d": [true, false, nil]])
    #expect(try JSONNode.parse(Fixtures.data("9223372036854775807")) == .int(Int64.max))
    #expect(try JSONNode.parse(Fixtures.data("9223372036854775808")) == .double(9_223_372_036_854_775_808))
    for bad in ["{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "\"\u{01}\"", "nul", "{} {}", "\"\\ud800\"", "1e400"] {
      #expect(throws: JSONSyntaxError.self, "\(bad)") { try JSONNode.parse(Fixtures.data(bad)) }
    }
    let deep = String(repeating: "[", count: 100_000)
    #expect(throws: JSONSyntaxError.self) { try JSONNode.parse(Fixtures.data(deep)) }
  }

  @Test("decoding from a JSONNode (the YAML module's path) matches decoding bytes")
  func fromNode() throws {
    let node = try JSONNode.parse(Fixtures.data(Fixtures.minimalWorker))
    #expect(try ResourceDecoder().decode(node) == ResourceDecoder().decode(Fixtures.data(Fixtures.minimalWorker)))
  }

  @Test("random byte strings never crash the decoder and always fail cleanly")
  func fuzz() {
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array(#"{}[]":,0123456789-.eEtrufalsn \"apiVersionkindspec\\"#.utf8)
    for _ in 0..<2000 {
      let length = Int.random(in: 0..<64, using: &generator)
      let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
      let errors = decodeErrors(String(decoding: bytes, as: UTF8.self), validate: true)
      #expect(!errors.isEmpty)
    }
  }
}
