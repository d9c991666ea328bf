import Foundation
import Testing
import YAML

@Suite("Streams, anchors, aliases and merge keys")
struct StreamTests {
  @Test("a multi-document stream with --- and ..., empty documents skipped")
  func multiDocument() throws {
    let docs = try documents(
      """
      # a leading comment
      ---
      kind: Worker
      name: a
      ...
      ---
      ---
      # only a comment
      ...
      ---
      kind: Team
      ---
      - 1
      - 2
      ...
      --- plain text
      ---
      ~
      """, file: "multi.yaml")
    #expect(docs.count == 5)
    #expect(docs.map(\.index) == [0, 1, 2, 3, 4])
    #expect(docs.map(\.file) == Array(repeating: "multi.yaml", count: 5))
    #expect(try docs[0].json() == ["kind": "Worker", "name": "a"])
    #expect(try docs[1].json() == ["kind": "Team"])
    #expect(try docs[2].json() == [1, 2])
    #expect(try docs[3].json() == "plain text")
    #expect(try docs[4].json() == nil)  // `~` is a null document, not an empty one
    #expect(docs.map(\.mark.line) == [2, 10, 12, 16, 17])
    #expect(docs[0].root.mark == mark(3, 1))
  }

  @Test(
    "streams without documents",
    arguments: ["", "\n\n", "# nothing\n", "---\n", "---\n...\n", "--- \n---\n...\n", "\u{FEFF}"])
  func noDocuments(text: String) throws {
    #expect(try documents(text).isEmpty)
  }

  @Test("a stream without --- is one document")
  func implicitDocument() throws {
    let docs = try documents("a: 1\nb: [x, y]\n")
    #expect(docs.count == 1)
    #expect(try docs[0].json() == ["a": 1, "b": ["x", "y"]])
  }

  @Test("anchors and aliases of scalars, mappings and sequences")
  func aliases() throws {
    let doc = try #require(
      documents(
        """
        base: &b
          image: nginx
          port: 80
        list: &l [1, 2]
        name: &n hello
        copy: *b
        again: *l
        greeting: *n
        nested: [*b, *l]
        """
      ).first)
    let value = try doc.json()
    #expect(value["copy"] == value["base"])
    #expect(value["again"] == [1, 2])
    #expect(value["greeting"] == "hello")
    #expect(value["nested"] == [["image": "nginx", "port": 80], [1, 2]])
    let copy = try #require(doc.root["copy"])
    #expect(copy.alias == "b")
    #expect(copy.anchor == nil)
    #expect(copy.mark == mark(6, 7))  // the alias's own position…
    #expect(copy["image"]?.mark == mark(2, 10))  // …and its contents where they were written
    #expect(doc.root["base"]?.anchor == "b")
  }

  @Test("an alias refers to the latest anchor of its name")
  func anchorRedefinition() throws {
    #expect(try json("a: &x 1\nb: *x\nc: &x 2\nd: *x\n") == ["a": 1, "b": 1, "c": 2, "d": 2])
  }

  @Test("an undefined alias is an error at its position")
  func undefinedAlias() throws {
    let error = try #require(expectError("a: 1\nb:\n  - *missing\n", file: "u.yaml"))
    #expect(error.kind == .undefinedAlias)
    #expect(error.mark == mark(3, 5))
    #expect(
      error.description == "u.yaml:3:5: undefined alias *missing: no anchor &missing comes before it in this document")
  }

  @Test("anchors do not reach across documents")
  func anchorsPerDocument() throws {
    let error = try #require(expectError("a: &x 1\n---\nb: *x\n"))
    #expect(error.kind == .undefinedAlias)
    #expect(error.mark == mark(3, 4))
  }

  @Test("an alias inside its own anchor is an error")
  func recursiveAlias() throws {
    let error = try #require(expectError("a: &x\n  b: *x\n"))
    #expect(error.kind == .recursiveAlias)
    #expect(error.mark == mark(2, 6))
  }

  @Test("an alias bomb stops at the node limit")
  func billionLaughs() throws {
    let letters = Array("abcdefghi")
    var text = "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
    for (previous, letter) in zip(letters, letters.dropFirst()) {
      text += "\(letter): &\(letter) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
    }
    let clock = ContinuousClock()
    var error: YAMLError?
    let elapsed = clock.measure { error = yamlError(text, file: "bomb.yaml") }
    let found = try #require(error)
    #expect(found.kind == .tooManyNodes)
    #expect(found.message.contains("1000000"))
    #expect(found.message.contains("alias"))
    #expect(found.mark != nil)
    #expect(elapsed < .seconds(5))
  }

  @Test("the node limit counts every node an alias copies")
  func exactNodeCount() throws {
    // root mapping, key a, the sequence and its 3 items, key b, then *a copies 4 nodes: 11.
    let text = "a: &a [1, 2, 3]\nb: *a\n"
    #expect(yamlError(text, limits: YAMLLimits(maxNodes: 11)) == nil)
    let error = try #require(expectError(text, limits: YAMLLimits(maxNodes: 10)))
    #expect(error.kind == .tooManyNodes)
    #expect(error.mark == mark(2, 4))
  }

  @Test("nesting deeper than the limit is an error, aliases included")
  func depthLimit() throws {
    let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    let error = try #require(expectError(deep))
    #expect(error.kind == .tooDeep)
    #expect(error.mark == mark(1, 257))

    let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
    #expect(yamlError(ok) == nil)

    let nested =
      "a: &a " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n"
      + "b: " + String(repeating: "[", count: 100) + "*a" + String(repeating: "]", count: 100) + "\n"
    let aliased = try #require(expectError(nested))
    #expect(aliased.kind == .tooDeep)
    #expect(aliased.mark == mark(2, 104))
  }

  static let mergeText = """
    base: &base
      image: nginx
      port: 80
      env: prod
    extra: &extra
      port: 9090
      replicas: 2
    single:
      <<: *base
      port: 8080
    list:
      <<: [*extra, *base]
      name: x
    override:
      image: custom
      <<: *base
    inline:
      <<: {a: 1, b: 1}
      b: 2
    chained:
      <<: &mid
        <<: *base
        env: staging
      replicas: 3
    quoted:
      "<<": not a merge
    """

  @Test("merge keys: single, list, override, inline, chained")
  func mergeKeys() throws {
    let value = try json(Self.mergeText)
    #expect(value["single"] == ["image": "nginx", "port": 8080, "env": "prod"])
    // explicit keys win wherever they are; in a list the earlier mapping wins
    #expect(value["list"] == ["port": 9090, "replicas": 2, "image": "nginx", "env": "prod", "name": "x"])
    #expect(value["override"] == ["image": "custom", "port": 80, "env": "prod"])
    #expect(value["inline"] == ["a": 1, "b": 2])
    #expect(value["chained"] == ["image": "nginx", "port": 80, "env": "staging", "replicas": 3])
    #expect(value["quoted"] == ["<<": "not a merge"])
    // merged entries take the place of `<<`
    #expect(value["single"]?.objectValue?.keys == ["image", "env", "port"])
    #expect(value["list"]?.objectValue?.keys == ["port", "replicas", "image", "env", "name"])
  }

  @Test("merged keys keep the positions where they were written")
  func mergedPositions() throws {
    let doc = try #require(documents(Self.mergeText, file: "m.yaml").first)
    #expect(doc.location(of: "single.image").mark == mark(2, 3))
    #expect(doc.location(of: "single.port").mark == mark(10, 3))
    #expect(doc.location(of: "list.port").mark == mark(6, 3))
    #expect(doc.location(of: "list.env").mark == mark(4, 3))
    #expect(doc.location(of: "chained.env").mark == mark(23, 5))
    #expect(doc.location(of: "chained.image").description == "m.yaml:2:3")
  }

  @Test("invalid merge values are errors at the value")
  func invalidMerge() throws {
    let scalar = try #require(expectError("a:\n  <<: 1\n"))
    #expect(scalar.kind == .invalidMerge)
    #expect(scalar.mark == mark(2, 7))
    let item = try #require(expectError("b: &b {x: 1}\na:\n  <<: [*b, 2]\n"))
    #expect(item.kind == .invalidMerge)
    #expect(item.mark == mark(3, 12))
    let twice = try #require(expectError("b: &b {x: 1}\na:\n  <<: *b\n  <<: *b\n"))
    #expect(twice.kind == .duplicateKey)
    #expect(twice.mark == mark(4, 3))
    #expect(twice.related == mark(3, 3))
  }

  @Test("duplicate keys are errors carrying both positions")
  func duplicateKeys() throws {
    let error = try #require(expectError("kind: Team\nname: a\nspec: {}\nname: b\n", file: "team.yaml"))
    #expect(error.kind == .duplicateKey)
    #expect(error.mark == mark(4, 1))
    #expect(error.related == mark(2, 1))
    #expect(error.description == "team.yaml:4:1: duplicate key \"name\" (first defined at line 2, column 1)")

    let flow = try #require(expectError("x: {a: 1, b: 2, a: 3}"))
    #expect(flow.mark == mark(1, 17))
    #expect(flow.related == mark(1, 5))

    let nested = try #require(expectError("spec:\n  workers:\n    - name: a\n      name: b\n"))
    #expect(nested.mark == mark(4, 7))
    #expect(nested.related == mark(3, 7))
    // the same key in different mappings is fine
    #expect(yamlError("a: {name: 1}\nb: {name: 2}\n") == nil)
  }
}
