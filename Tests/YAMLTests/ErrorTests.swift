import Foundation
import Testing
import YAML

@Suite("Syntax errors carry file:line:column and read well")
struct ErrorTests {
  @Test(
    "a tab used for indentation",
    arguments: [
      ("a:\n\tb: 1\n", mark(2, 1)),
      ("a: 1\n\tb: 2\n", mark(2, 1)),
      ("a:\n  b: 1\n\t c: 2\n", mark(3, 1)),
      ("a:\n  - x\n\t- y\n", mark(3, 1)),
      ("spec:\n  workers:\n    - name: a\n  \t  model: x\n", mark(4, 3)),
    ])
  func tabIndentation(text: String, expected: YAMLMark) throws {
    let error = try #require(expectError(text, file: "team.yaml"))
    #expect(error.kind == .syntax)
    #expect(error.mark == expected)
    #expect(
      error.description
        == "team.yaml:\(expected.line):\(expected.column): "
        + "found a tab character where indentation was expected (YAML indents with spaces only)"
    )
  }

  @Test("a tab as a separator after a colon is fine")
  func tabSeparator() throws {
    #expect(try json("key:\tvalue\n") == ["key": "value"])
  }

  @Test("a tab where a space is needed")
  func tabAfterIndicator() throws {
    let error = try #require(expectError("- a\n-\tb\n"))
    #expect(error.mark == mark(2, 2))
    #expect(error.message.contains("tab character"))
  }

  @Test(
    "unterminated quotes",
    arguments: [
      ("name: \"abc\nnext: 1\n", mark(1, 7)), ("name: 'abc\nnext: 1\n", mark(1, 7)),
      ("a: 1\nb: [\"x\n", mark(2, 5)),
    ])
  func unterminatedQuotes(text: String, start: YAMLMark) throws {
    let error = try #require(expectError(text, file: "q.yaml"))
    #expect(error.kind == .syntax)
    #expect(error.related == start)
    #expect(error.message.contains("quoted string that starts at line \(start.line), column \(start.column)"))
    #expect(error.message.contains("closing quote"))
    #expect(error.description.hasPrefix("q.yaml:"))
  }

  @Test("bad indentation names the mapping it breaks")
  func badIndentation() throws {
    let error = try #require(expectError("a:\n  b: 1\n c: 2\n", file: "i.yaml"))
    #expect(error.mark == mark(3, 2))
    #expect(error.related == mark(1, 1))
    #expect(
      error.description
        == "i.yaml:3:2: did not find expected key "
        + "(while parsing a block mapping that starts at line 1, column 1); check this line's indentation"
    )
  }

  @Test("other libyaml problems keep libyaml's wording with a position")
  func otherProblems() throws {
    let colon = try #require(expectError("a: b: c\n"))
    #expect(colon.mark == mark(1, 5))
    #expect(colon.message.hasPrefix("mapping values are not allowed in this context"))

    let reserved = try #require(expectError("a: @x\n"))
    #expect(reserved.mark == mark(1, 4))
    #expect(reserved.message.hasPrefix("found character '@' that cannot start any token"))

    let flow = try #require(expectError("a: [1, 2\nb: 3\n"))
    #expect(flow.kind == .syntax)
    #expect(flow.mark != nil)

    let key = try #require(expectError("a: 1\nb\nc: 2\n"))
    #expect(key.mark == mark(3, 1))
    #expect(key.related == mark(2, 1))
    #expect(key.message.hasPrefix("could not find the ':' after the key that starts at line 2, column 1"))

    let extra = try #require(expectError("[a]\nb\n"))
    #expect(extra.mark == mark(2, 1))
    #expect(extra.message.hasPrefix("found more content after the document's top-level value"))

    let sequence = try #require(expectError("items:\n  - a\n  b: 1\n"))
    #expect(sequence.mark == mark(3, 3))
    #expect(
      sequence.message
        == "did not find expected '-' indicator "
        + "(while parsing a block collection that starts at line 2, column 3); check this line's indentation"
    )

    let block = try #require(expectError("a: |x\n  b\n"))
    #expect(
      block.message
        == "did not find expected comment or line break (while scanning a block scalar that starts at line 1, column 4)"
    )

    let control = try #require(expectError("a: x\u{07}\n"))
    #expect(control.mark == mark(1, 5))
    #expect(control.message == "control characters are not allowed (U+0007)")

    let tag = try #require(expectError("a: !e!x 1\n"))
    #expect(tag.message.contains("undefined tag handle"))
  }

  @Test("invalid UTF-8 is an error at the byte")
  func invalidUTF8() throws {
    var bytes = Array("a: 1\nbé: ".utf8)
    bytes.append(0xFF)
    do {
      _ = try YAMLDocument.parse(data: Data(bytes), file: "bin.yaml")
      Issue.record("no error")
    } catch {
      #expect(error.kind == .syntax)
      #expect(error.mark == mark(2, 5))  // columns count characters: "bé: " is four
      #expect(
        error.message
          == "invalid leading UTF-8 octet (byte 0xFF); YAML text must be UTF-8 (or UTF-16 with a byte-order mark)")
      #expect(error.description.hasPrefix("bin.yaml:2:5: "))
    }
  }

  @Test("columns count characters, not bytes")
  func unicodeColumns() throws {
    let error = try #require(expectError("ключ: значение\nимя: \"x\n"))
    #expect(error.related == mark(2, 6))
    let doc = try #require(documents("\"ü\": {a: 1}\n").first)
    #expect(doc.location(of: "ü.a").mark == mark(1, 7))
  }

  @Test("byte-order marks: UTF-8 and UTF-16")
  func byteOrderMarks() throws {
    do {
      _ = try YAMLDocument.parse(data: Data([0xEF, 0xBB, 0xBF] + Array("a: @\n".utf8)), file: "bom.yaml")
      Issue.record("no error")
    } catch {
      #expect(error.mark == mark(1, 4))  // the mark is not a column
    }
    let utf16 = try #require("name: ü\nn: 1\n".data(using: .utf16))  // Foundation writes a BOM
    #expect(utf16.starts(with: [0xFF, 0xFE]) || utf16.starts(with: [0xFE, 0xFF]))
    #expect(try YAMLDocument.parse(data: utf16).first?.json() == ["name": "ü", "n": 1])
  }

  @Test("files: the name is in every document, error and location")
  func files() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }

    let good = directory.appendingPathComponent("team.yaml")
    try "kind: Team\nspec:\n  workers:\n    - name: a\n---\nkind: Human\n".write(
      to: good, atomically: true, encoding: .utf8)
    let docs = try YAMLDocument.parse(contentsOfFile: good.path, displayName: "team.yaml")
    #expect(docs.map(\.file) == ["team.yaml", "team.yaml"])
    #expect(docs.first?.location(of: "spec.workers[0].name").description == "team.yaml:4:7")
    #expect(try YAMLDocument.parse(contentsOfFile: good.path).first?.file == good.path)

    let bad = directory.appendingPathComponent("bad.yaml")
    try "a: 1\nb:\n\tc: 2\n".write(to: bad, atomically: true, encoding: .utf8)
    do {
      _ = try YAMLDocument.parse(contentsOfFile: bad.path)
      Issue.record("no error")
    } catch {
      #expect(error.file == bad.path)
      #expect(error.description.hasPrefix("\(bad.path):3:1: found a tab character where indentation was expected"))
    }

    let converted = directory.appendingPathComponent("value.yaml")
    try "a: 1\nb: .nan\n".write(to: converted, atomically: true, encoding: .utf8)
    do {
      _ = try YAMLDocument.parse(contentsOfFile: converted.path, displayName: "value.yaml").first?.json()
      Issue.record("no error")
    } catch {
      #expect(error.description.hasPrefix("value.yaml:2:4: \".nan\" is not-a-number"))
    }

    let missing = directory.appendingPathComponent("missing.yaml").path
    do {
      _ = try YAMLDocument.parse(contentsOfFile: missing)
      Issue.record("no error")
    } catch {
      #expect(error.kind == .io)
      #expect(error.mark == nil)
      #expect(error.description.hasPrefix("\(missing): cannot read the file"))
    }
  }

  @Test("errors describe themselves for people")
  func errorDescription() throws {
    let error = YAMLError(.syntax, file: "a.yaml", mark: mark(3, 4), "boom")
    #expect(error.description == "a.yaml:3:4: boom")
    #expect(error.localizedDescription == "a.yaml:3:4: boom")
    #expect(YAMLError(.syntax, file: nil, mark: mark(3, 4), "boom").description == "3:4: boom")
  }
}
