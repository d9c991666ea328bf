import Testing
import YAML

@Suite("Position lookup by field path")
struct PathLookupTests {
  static let team = """
    apiVersion: hiclaw.io/v1beta1
    kind: Team
    metadata:
      name: alpha
      labels:
        app.kubernetes.io/name: alpha
    spec:
      workers:
        - name: w0
          model: x
        - name: w1
        -   name: w2
            skills: [a, b]
      leader: {name: lead, "odd.key": 1}
    """

  func document() throws -> YAMLDocument {
    try #require(documents(Self.team, file: "team.yaml").first)
  }

  @Test(
    "exact paths point at the key, or at the item for an index",
    arguments: [
      ("apiVersion", 1, 1), ("metadata.name", 4, 3), ("spec.workers", 8, 3), ("spec.workers[0]", 9, 7),
      ("spec.workers[0].model", 10, 7), ("spec.workers[1]", 11, 7), ("spec.workers[2]", 12, 9),
      ("spec.workers[2].name", 12, 9), ("spec.workers[2].skills", 13, 9), ("spec.workers[2].skills[1]", 13, 21),
      ("spec.leader.name", 14, 12), ("spec.leader[\"odd.key\"]", 14, 24),
      ("metadata.labels[\"app.kubernetes.io/name\"]", 6, 5),
      ("metadata.labels.app.kubernetes.io/name", 6, 5), ("spec.leader.odd.key", 14, 24), ("", 1, 1),
    ])
  func exact(path: String, line: Int, column: Int) throws {
    let location = try document().location(of: path)
    #expect(location.isExact, "\(path)")
    #expect(location.mark == mark(line, column), "\(path)")
    #expect(location.file == "team.yaml")
  }

  @Test(
    "missing paths fall back to the nearest existing ancestor",
    arguments: [
      ("spec.workers[5].name", "spec.workers", 8, 3), ("spec.missing", "spec", 7, 1),
      ("spec.workers[2].nope", "spec.workers[2]", 12, 9),
      ("kind.foo", "kind", 2, 1), ("nothing.at.all", "", 1, 1), ("spec.workers.name", "spec.workers", 8, 3),
      ("spec.workers[2].skills[9]", "spec.workers[2].skills", 13, 9),
      ("metadata.labels.app.other", "metadata.labels", 5, 3),
    ])
  func fallback(path: String, resolved: String, line: Int, column: Int) throws {
    let location = try document().location(of: path)
    #expect(!location.isExact)
    #expect(location.resolvedPath == resolved)
    #expect(location.mark == mark(line, column))
  }

  @Test("the CLI's message shape")
  func cliMessage() throws {
    let location = try document().location(of: "spec.workers[2].name")
    #expect(
      "\(location): spec.workers[2].name: must match ^[a-z0-9]+$"
        == "team.yaml:12:9: spec.workers[2].name: must match ^[a-z0-9]+$")
    #expect(location.resolvedPath == "spec.workers[2].name")
    #expect(location.line == 12 && location.column == 9)
  }

  @Test("node(at:) returns the value node, nil when missing")
  func nodeAt() throws {
    let doc = try document()
    #expect(doc.node(at: "spec.workers[1].name")?.scalar == "w1")
    #expect(doc.node(at: "spec.workers[2].skills")?.items?.count == 2)
    #expect(doc.node(at: "spec.workers[3]") == nil)
    #expect(doc.node(at: "")?.pairs?.count == 4)
  }

  @Test("paths through aliases")
  func aliases() throws {
    let doc = try #require(documents("defaults: &d\n  image: nginx\nworkers:\n  - *d\n  - <<: *d\n    name: x\n").first)
    #expect(doc.location(of: "workers[0]").mark == mark(4, 5))  // the alias
    #expect(doc.location(of: "workers[0].image").mark == mark(2, 3))  // inside the anchor
    #expect(doc.location(of: "workers[1].image").mark == mark(2, 3))  // merged
    #expect(doc.location(of: "workers[1].name").mark == mark(6, 5))
  }

  @Test("a document that is a sequence")
  func sequenceRoot() throws {
    let doc = try #require(documents("- a\n- b: 1\n").first)
    #expect(doc.location(of: "[1].b").mark == mark(2, 3))
    #expect(doc.location(of: "[1].b").resolvedPath == "[1].b")
  }
}
