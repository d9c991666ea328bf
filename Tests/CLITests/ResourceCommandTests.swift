import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The resource commands (`apply`, `get`, `delete`, …) as far as they can be checked without a
/// host: reading and checking manifests, dependency order, usage errors and exit codes, and what
/// happens when nothing listens. Tests against a live hiclaw-host live in HostTests.
@Suite struct ResourceCommandTests {
  /// An address where nothing listens (a port just released by the kernel).
  static let closedServer: String = {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    close(fd)
    return "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
  }()

  /// An environment that can never reach a real host or pick up a developer's token.
  static var isolated: [String: String] {
    ["HICLAW_CONTROLLER_URL": closedServer, "HICLAW_TOKEN": "test-token", "HICLAW_DATA_DIR": "/nonexistent-hiclaw"]
  }

  static let teamAlpha = """
    apiVersion: hiclaw.io/v1beta1
    kind: Team
    metadata:
      name: alpha
    spec:
      admin:
        name: bob
      leader:
        name: alpha-lead
      workers:
        - name: alpha-dev
          model: qwen3.6-plus
    """

  static func human(_ name: String, teams: [String] = []) -> String {
    """
    apiVersion: hiclaw.io/v1beta1
    kind: Human
    metadata:
      name: \(name)
    spec:
      displayName: \(name.capitalized)
      permissionLevel: 2
    """ + (teams.isEmpty ? "" : "\n  accessibleTeams: [\(teams.joined(separator: ", "))]")
  }

  static let workerW1 = """
    apiVersion: hiclaw.io/v1beta1
    kind: Worker
    metadata:
      name: w1
    spec:
      model: qwen3.6-plus
    """

  static let managerM = """
    apiVersion: hiclaw.io/v1beta1
    kind: Manager
    metadata:
      name: default
    spec:
      model: qwen3.6-plus
    """

  func write(_ text: String, to name: String, in directory: TemporaryDirectory) -> String {
    let path = directory.url.appendingPathComponent(name).path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  // MARK: apply --dry-run=client

  @Test func clientDryRunAppliesInDependencyOrderWithoutTheHost() {
    let directory = TemporaryDirectory()
    // File order is the "wrong" one: the Human who lists the Team, the Worker, the Manager, the
    // Team, and last the Human the Team names as admin (who also lists the Team: a cycle).
    let documents = [
      Self.human("carol", teams: ["alpha"]), Self.workerW1, Self.managerM, Self.teamAlpha,
      Self.human("bob", teams: ["alpha"]),
    ]
    let file = write(documents.joined(separator: "\n---\n"), to: "all.yaml", in: directory)
    let result = hiclaw("apply", "-f", file, "--dry-run=client", environment: Self.isolated)
    #expect(result.status == 0, "\(result.output)")
    #expect(
      result.stdout.split(separator: "\n") == [
        "human/bob validated (dry run)", "team/alpha validated (dry run)", "worker/w1 validated (dry run)",
        "human/carol validated (dry run)", "manager/default validated (dry run)",
      ], "\(result.output)")
  }

  @Test func directoriesAndStandardInputAreRead() {
    let directory = TemporaryDirectory()
    _ = write(Self.workerW1, to: "b-worker.yaml", in: directory)
    _ = write(Self.human("bob"), to: "a-human.yml", in: directory)
    _ = write("not: a manifest", to: "notes.txt", in: directory)
    let result = hiclaw("apply", "-f", directory.path, "--dry-run=client", environment: Self.isolated)
    #expect(result.status == 0, "\(result.output)")
    #expect(result.stdout == "worker/w1 validated (dry run)\nhuman/bob validated (dry run)\n")

    let piped = runWithInput(Self.managerM, Paths.hiclaw, ["apply", "-f", "-", "--dry-run", "client"], environment: Self.isolated)
    #expect(piped.status == 0, "\(piped.output)")
    #expect(piped.stdout == "manager/default validated (dry run)\n")
  }

  // MARK: Errors in files

  @Test func yamlSyntaxErrorsNameFileLineAndColumn() {
    let directory = TemporaryDirectory()
    let file = write("apiVersion: hiclaw.io/v1beta1\nkind: Worker\nmetadata:\n  name: \"unterminated\n", to: "bad.yaml", in: directory)
    let result = hiclaw("apply", "-f", file, "--dry-run=client", environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    // libyaml notices at the end of the file; the message points back at where the string starts.
    #expect(result.stderr.contains("error: \(file):5:1: "), "\(result.stderr)")
    #expect(result.stderr.contains("line 4, column 9"), "\(result.stderr)")
    #expect(result.stderr.contains("nothing was applied"))
  }

  @Test func everyFieldErrorOfEveryDocumentIsPrintedWithItsPosition() {
    let directory = TemporaryDirectory()
    let worker = """
      apiVersion: hiclaw.io/v1beta1
      kind: Worker
      metadata:
        name: w1
      spec:
        modle: qwen3.6-plus
        env:
          1BAD: x
      """
    let team = """
      apiVersion: hiclaw.io/v1beta1
      kind: Team
      metadata:
        name: alpha
      spec:
        leader:
          name: lead
        workers:
          - name: ok
          - name: Not_Valid
      """
    let good = write(Self.human("bob"), to: "good.yaml", in: directory)
    let bad = write(worker + "\n---\n" + team, to: "bad.yaml", in: directory)
    let result = hiclaw("apply", "-f", good, "-f", bad, environment: Self.isolated)
    #expect(result.status == 1)
    // Nothing is sent when any document is bad: no host contact, no "created" lines.
    #expect(result.stdout.isEmpty)
    #expect(!result.stderr.contains("cannot reach"))
    #expect(result.stderr.contains(#"error: \#(bad):6:3: spec.modle: unknown field (did you mean "model"?)"#), "\(result.stderr)")
    #expect(result.stderr.contains(#"error: \#(bad):8:5: spec.env["1BAD"]: "#), "\(result.stderr)")
    // The second document starts at line 10 (after `---` on line 9).
    #expect(result.stderr.contains("error: \(bad):19:7: spec.workers[1].name: "), "\(result.stderr)")
    #expect(result.stderr.contains("problems found; nothing was applied"))
  }

  /// Many documents are checked on several threads: the problems still come out in document
  /// order, each with its own position, and nothing is applied.
  @Test func manyDocumentsAreCheckedInParallelAndReportedInOrder() {
    let directory = TemporaryDirectory()
    var documents: [String] = []
    var expectedLines: [Int] = []
    var line = 1
    for index in 0..<300 {
      let bad = index % 37 == 5
      // Each document is 6 lines plus the `---` separator; the bad field is on its 6th line.
      documents.append("apiVersion: hiclaw.io/v1beta1\nkind: Worker\nmetadata:\n  name: w\(index)\nspec:\n  \(bad ? "modle" : "model"): m")
      if bad { expectedLines.append(line + 5) }
      line += 7
    }
    let file = write(documents.joined(separator: "\n---\n") + "\n", to: "many.yaml", in: directory)
    let result = hiclaw("apply", "-f", file, environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    let reported = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: \(file):") }.compactMap { line -> Int? in
      Int(line.dropFirst("error: \(file):".count).prefix { $0 != ":" })
    }
    #expect(reported == expectedLines, "\(result.stderr)")
    #expect(result.stderr.contains("problems found; nothing was applied"))
  }

  @Test func aMissingFieldPointsAtItsParent() {
    let directory = TemporaryDirectory()
    let file = write("apiVersion: hiclaw.io/v1beta1\nkind: Worker\nmetadata:\n  name: w1\nspec:\n  runtime: openclaw\n", to: "w.yaml", in: directory)
    let result = hiclaw("apply", "-f", file, "--dry-run=client", environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stderr.contains("error: \(file):5:1: spec.model: "), "\(result.stderr)")
  }

  @Test func unknownKindInAFileIsAnError() {
    let directory = TemporaryDirectory()
    let file = write("apiVersion: hiclaw.io/v1beta1\nkind: Wroker\nmetadata:\n  name: w1\nspec: {}\n", to: "k.yaml", in: directory)
    let result = hiclaw("apply", "-f", file, "--dry-run=client", environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stderr.contains("error: \(file):2:1: kind: unknown kind \"Wroker\""), "\(result.stderr)")
    #expect(result.stderr.contains(#"did you mean "Worker"?"#))
  }

  @Test func lenientWarnsAndGoesOn() {
    let directory = TemporaryDirectory()
    let file = write(Self.workerW1 + "\n  colour: blue\n", to: "w.yaml", in: directory)
    let strict = hiclaw("apply", "-f", file, "--dry-run=client", environment: Self.isolated)
    #expect(strict.status == 1)
    #expect(strict.stderr.contains("error: \(file):7:3: spec.colour: unknown field"), "\(strict.stderr)")
    let lenient = hiclaw("apply", "-f", file, "--dry-run=client", "--lenient", environment: Self.isolated)
    #expect(lenient.status == 0, "\(lenient.output)")
    #expect(lenient.stderr.contains("warning: \(file):7:3: spec.colour: unknown field"), "\(lenient.stderr)")
    #expect(lenient.stdout == "worker/w1 validated (dry run)\n")
  }

  @Test func anObjectDeclaredTwiceIsAnError() {
    let directory = TemporaryDirectory()
    let first = write(Self.workerW1, to: "a.yaml", in: directory)
    let second = write(Self.workerW1, to: "b.yaml", in: directory)
    let result = hiclaw("apply", "-f", first, "-f", second, "--dry-run=client", environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stderr.contains("error: \(second):4:3: worker/w1 is declared twice (first at \(first):4:3)"), "\(result.stderr)")
  }

  @Test func missingFilesAndEmptyInputAreErrors() {
    let directory = TemporaryDirectory()
    let missing = hiclaw("apply", "-f", directory.path + "/nope.yaml", "--dry-run=client", environment: Self.isolated)
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("nope.yaml: no such file or directory"))
    let empty = write("# nothing here\n", to: "empty.yaml", in: directory)
    let none = hiclaw("apply", "-f", empty, "--dry-run=client", environment: Self.isolated)
    #expect(none.status == 1)
    #expect(none.stderr.contains("no objects passed to apply"))
  }

  // MARK: Usage errors (exit 2)

  @Test(arguments: [
    (["get", "wokers"], "unknown kind \"wokers\""),
    (["describe", "gadget", "x"], "unknown kind \"gadget\""),
    (["delete", "robots", "x"], "unknown kind \"robots\""),
    (["apply"], "at least one -f"),
    (["apply", "-f", "x.yaml", "--prune"], "--prune needs -l"),
    (["apply", "-f", "x.yaml", "-l", "a=b"], "-l only selects what --prune deletes"),
    (["apply", "-f", "x.yaml", "--dry-run=sometimes"], "dry-run"),
    (["get", "workers", "alice", "-l", "a=b"], "cannot be combined"),
    (["get", "workers", "-l", "a in (b)"], "invalid label selector"),
    (["delete"], "name what to delete"),
    (["delete", "worker"], "name the worker to delete"),
    (["delete", "worker/alice", "bob"], "KIND/NAME for every object"),
    (["delete", "worker", "a", "--timeout", "soon"], "--timeout"),
    (["token", "create", "--role", "worker"], "--subject"),
    (["token", "create", "--role", "root"], "root"),
    (["worker", "hibernate", "alice"], "hibernate"),
  ])
  func usageErrorsExitTwo(_ arguments: [String], _ fragment: String) {
    let result = run(Paths.hiclaw, arguments, environment: Self.isolated)
    #expect(result.status == 2, "\(arguments): \(result.output)")
    #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
  }

  @Test func kindsAcceptEverySpelling() {
    for spelling in ["worker", "workers", "wk", "Worker", "team", "tm", "humans", "hm", "manager", "mgr"] {
      let result = hiclaw("get", spelling, environment: Self.isolated)
      // Not a usage error: the kind parses and the request fails for want of a host.
      #expect(result.status == 1, "\(spelling): \(result.output)")
    }
  }

  // MARK: No host

  @Test func anUnreachableHostIsNamedWithHowToStartIt() {
    let result = hiclaw("get", "workers", environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("cannot reach hiclaw-host at \(Self.closedServer)"), "\(result.stderr)")
    #expect(result.stderr.contains("hiclaw-host"))
    #expect(result.stderr.contains("--server"))
  }

  @Test func serverGivenBeforeTheCommandIsUsed() {
    var environment = Self.isolated
    environment["HICLAW_CONTROLLER_URL"] = "http://127.0.0.1:9"
    let result = run(Paths.hiclaw, ["--server", Self.closedServer, "status"], environment: environment)
    #expect(result.status == 1)
    #expect(result.stderr.contains("cannot reach hiclaw-host at \(Self.closedServer)"), "\(result.stderr)")
    // A flag after the command wins over the environment too.
    let after = run(Paths.hiclaw, ["describe", "worker", "x", "--server=\(Self.closedServer)/"], environment: environment)
    #expect(after.stderr.contains("cannot reach hiclaw-host at \(Self.closedServer)"), "\(after.stderr)")
  }

  @Test func serverApplyChecksFilesBeforeContactingTheHost() {
    let directory = TemporaryDirectory()
    let file = write(Self.workerW1, to: "w.yaml", in: directory)
    let result = hiclaw("apply", "-f", file, environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stderr.contains("cannot reach hiclaw-host"), "\(result.stderr)")
  }

  @Test func anUnreadableTokenFileIsAnError() {
    var environment = Self.isolated
    environment["HICLAW_TOKEN"] = ""
    environment["HICLAW_TOKEN_FILE"] = "/nonexistent/token"
    let result = hiclaw("get", "workers", environment: environment)
    #expect(result.status == 1)
    #expect(result.stderr.contains("cannot read the token file /nonexistent/token"), "\(result.stderr)")
  }

  /// Valid files and no host: every object of the group fails to connect, the apply stops
  /// with one message saying how to start the host, and nothing claims to be created.
  @Test func applyWithoutAHostStopsWithOneClearError() {
    let directory = TemporaryDirectory()
    let file = write((0..<12).map { Self.human("h\($0)") }.joined(separator: "\n---\n"), to: "many.yaml", in: directory)
    let result = hiclaw("apply", "-f", file, "--concurrency", "4", environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty, "\(result.stdout)")
    #expect(result.stderr.components(separatedBy: "cannot reach hiclaw-host").count == 2, "\(result.stderr)")
    #expect(result.stderr.contains("Start it with `hiclaw-host`"), "\(result.stderr)")
  }

  @Test func clientVersionNeedsNoHost() {
    let result = hiclaw("version", "--client", environment: Self.isolated)
    #expect(result.status == 0, "\(result.output)")
    #expect(result.stdout.hasPrefix("client: hiclaw "))
    let withServer = hiclaw("version", environment: Self.isolated)
    #expect(withServer.status == 1)
    #expect(withServer.stdout.hasPrefix("client: hiclaw "))
    #expect(withServer.stderr.contains("cannot reach hiclaw-host"))
  }

  @Test func deleteFromAFileNeedsOnlyKindAndName() {
    let directory = TemporaryDirectory()
    // Not valid for apply (no spec), but it names what to delete.
    let file = write("apiVersion: hiclaw.io/v1beta1\nkind: Worker\nmetadata:\n  name: w1\n", to: "w.yaml", in: directory)
    let result = hiclaw("delete", "-f", file, environment: Self.isolated)
    #expect(result.status == 1)
    #expect(result.stderr.contains("cannot reach hiclaw-host"), "\(result.stderr)")
    let nameless = write("apiVersion: hiclaw.io/v1beta1\nkind: Worker\nmetadata: {}\n", to: "n.yaml", in: directory)
    let refused = hiclaw("delete", "-f", nameless, environment: Self.isolated)
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("\(nameless):3:1: metadata.name: required"), "\(refused.stderr)")
  }
}

/// Runs a program with `input` on its standard input.
func runWithInput(_ input: String, _ executable: String, _ arguments: [String], environment: [String: String]) -> CommandResult {
  let directory = TemporaryDirectory()
  let inputFile = directory.url.appendingPathComponent("stdin")
  _ = FileManager.default.createFile(atPath: inputFile.path, contents: Data(input.utf8))
  let quoted = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
  return run("/bin/sh", ["-c", "\(quoted) < '\(inputFile.path)'"], environment: environment)
}
