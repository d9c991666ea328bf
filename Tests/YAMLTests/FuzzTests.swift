// Property test: randomly mutated YAML never crashes or hangs the reader; it yields documents
// (whose JSON is valid JSON) or an error with a position. Seeded, so a failure reproduces.
import Foundation
import Testing
import YAML

/// SplitMix64: small, fast and reproducible.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite("Fuzz: mutated YAML")
struct FuzzTests {
  static let corpus = [
    """
    apiVersion: hiclaw.io/v1beta1
    kind: Team
    metadata:
      name: alpha
      labels: {tier: "gold", app.kubernetes.io/name: alpha}
    spec:
      leader: {name: lead, model: gpt-x}
      workers:
        - name: w0
          skills: [github, "web search"]
        - name: w1
          env: [{name: A, value: '1'}]
    """,
    """
    base: &base
      image: nginx
      ports: [80, 443]
    one:
      <<: *base
      image: custom
    two:
      <<: [*base, {extra: true}]
    list: &l [1, 2.5, .5, 1e3, 0x1F, 0o17, ~, true, "q"]
    again: *l
    """,
    """
    ---
    kind: Human
    name: "Ann \\"the\\" admin"
    note: |
      multi
      line
    folded: >-
      a
      b
    ...
    --- !!str tagged
    ---
    - [a, {b: c}, [d]]
    - ? complex
      : value
    """,
    "key: value # comment\n'single': 'it''s'\nempty:\nnull_value: null\n",
  ]

  static let insertions = [
    ":", "-", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"", "#", "\t", "\n", " ", ",", "?", "%", "@", "`",
    "&a ", "*a", "*base", "<<: ", "---\n", "...\n", "!!int ", "!!float ", "\t\t", "\\", "\u{FEFF}", "é", "\0",
  ].map { Array($0.utf8) }

  static func mutate(_ input: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
    var bytes = input
    for _ in 0..<Int.random(in: 1...4, using: &random) {
      let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
      switch Int.random(in: 0..<6, using: &random) {
      case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
      case 1: bytes = Array(bytes.prefix(position))
      case 2 where !bytes.isEmpty:
        bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &random)))
      case 3 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &random)
      default: bytes.insert(contentsOf: insertions.randomElement(using: &random)!, at: position)
      }
    }
    return bytes
  }

  static let paths = [
    "spec.workers[1].name", "one.image", "list[3]", "[0][1].b", "metadata.labels.app.kubernetes.io/name", "",
  ]

  @Test("3,000 mutated documents: documents or a positioned error, never a crash", .timeLimit(.minutes(2)))
  func mutatedDocuments() throws {
    var random = SeededGenerator(seed: 0x6869_636C_6177)
    var parsed = 0
    var failed = 0
    for iteration in 0..<3_000 {
      let base = Array(Self.corpus[iteration % Self.corpus.count].utf8)
      let input = Self.mutate(base, using: &random)
      let lineCount = Self.lineCount(input)
      do {
        for document in try YAMLDocument.parse(data: Data(input), file: "fuzz.yaml") {
          for path in Self.paths { _ = document.location(of: path) }
          do {
            let data = try document.jsonData(keyOrder: .sorted)
            #expect(
              (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil,
              "invalid JSON \(String(decoding: data, as: UTF8.self)) from iteration \(iteration)")
          } catch {
            check(error, lineCount: lineCount, iteration: iteration)
          }
        }
        parsed += 1
      } catch {
        check(error, lineCount: lineCount, iteration: iteration)
        failed += 1
      }
    }
    // Both outcomes must be exercised, or the mutations are too weak or too strong.
    #expect(parsed > 300)
    #expect(failed > 300)
  }

  /// An upper bound on the lines libyaml can count (it also breaks on NEL, LS and PS).
  static func lineCount(_ bytes: [UInt8]) -> Int {
    1 + bytes.filter { [0x0A, 0x0D, 0x85, 0xA8, 0xA9].contains($0) }.count
  }

  func check(_ error: YAMLError, lineCount: Int, iteration: Int) {
    guard let mark = error.mark else {
      Issue.record("no position: \(error) (iteration \(iteration))")
      return
    }
    #expect(error.kind != .io)
    #expect(error.file == "fuzz.yaml")
    #expect(mark.line >= 1 && mark.column >= 1, "\(error) (iteration \(iteration))")
    #expect(mark.line <= lineCount + 1, "\(error) past the end (iteration \(iteration))")
    #expect(!error.message.isEmpty)
    #expect(error.description.hasPrefix("fuzz.yaml:\(mark.line):\(mark.column): "))
  }

  @Test("random bytes", .timeLimit(.minutes(1)))
  func randomBytes() throws {
    var random = SeededGenerator(seed: 42)
    let alphabet = Array(":-[]{}&*!|>'\"#\t\n ,?abc01.~".utf8)
    for iteration in 0..<1_000 {
      let count = Int.random(in: 0...200, using: &random)
      let input = (0..<count).map { _ in alphabet.randomElement(using: &random)! }
      do {
        for document in try YAMLDocument.parse(data: Data(input), file: "fuzz.yaml") {
          do { _ = try document.json() } catch { check(error, lineCount: Self.lineCount(input), iteration: iteration) }
        }
      } catch {
        check(error, lineCount: Self.lineCount(input), iteration: iteration)
      }
    }
  }
}
