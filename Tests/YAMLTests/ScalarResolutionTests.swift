// YAML 1.2 core schema, rule by rule: the plain scalar `v: <text>` must resolve to the value.
import Testing
import YAML

@Suite("Scalar resolution (YAML 1.2 core schema)")
struct ScalarResolutionTests {
  static let plain: [(String, JSONValue)] = [
    // null: null | Null | NULL | ~ | empty
    ("", nil), ("~", nil), ("null", nil), ("Null", nil), ("NULL", nil),
    ("nULL", "nULL"), ("NuLL", "NuLL"), ("none", "none"), ("None", "None"),
    // bool: exactly three spellings each
    ("true", true), ("True", true), ("TRUE", true), ("false", false), ("False", false), ("FALSE", false),
    ("tRUE", "tRUE"), ("fAlse", "fAlse"),
    // YAML 1.1 booleans stay strings (the Norway problem).
    ("yes", "yes"), ("Yes", "Yes"), ("YES", "YES"), ("no", "no"), ("No", "No"), ("NO", "NO"),
    ("on", "on"), ("On", "On"), ("ON", "ON"), ("off", "off"), ("Off", "Off"), ("y", "y"), ("n", "n"),
    // int, base 10: [-+]? [0-9]+ (leading zeros are decimal: 0123 is 123, 0777 is 777)
    ("0", 0), ("-0", 0), ("+0", 0), ("42", 42), ("+12", 12), ("-17", -17), ("0123", 123), ("-0123", -123),
    ("007", 7), ("0777", 777),
    ("9223372036854775807", .int(Int.max)), ("-9223372036854775808", .int(Int.min)),
    // int, base 8 and 16: 0o [0-7]+, 0x [0-9a-fA-F]+ (lower-case prefix only, no sign)
    ("0o17", 15), ("0o0", 0), ("0x1F", 31), ("0xff", 255), ("0xFF", 255), ("0x0", 0),
    ("0X1F", "0X1F"), ("0O17", "0O17"), ("-0x1F", "-0x1F"), ("+0o7", "+0o7"), ("0o8", "0o8"), ("0xg", "0xg"),
    ("0x", "0x"), ("0o", "0o"),
    // YAML 1.1-only integer forms are strings.
    ("0b101", "0b101"), ("1_000", "1_000"), ("1:30", "1:30"), ("0x_1F", "0x_1F"),
    // float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    ("1e3", 1000.0), ("1E3", 1000.0), ("1e+3", 1000.0), ("1e-2", 0.01), (".5", 0.5), ("-.5", -0.5), ("+.5", 0.5),
    ("1.", 1.0), ("1.5", 1.5), ("-1.5", -1.5), ("0.0", 0.0), ("1.0e+3", 1000.0), ("6.02e23", 6.02e23),
    (".5e1", 5.0), ("01.50", 1.5), ("1.e2", 100.0),
    ("1e", "1e"), ("e3", "e3"), (".", "."), ("1.2.3", "1.2.3"), ("1e3.5", "1e3.5"), ("+", "+"), (".e3", ".e3"),
    ("1,5", "1,5"), ("1 000", "1 000"), ("0x1p3", "0x1p3"),
    // Words Double() would accept are not numbers in YAML.
    ("inf", "inf"), ("nan", "nan"), ("NaN", "NaN"), ("Infinity", "Infinity"), (".Nan", ".Nan"), (".iNF", ".iNF"),
    // no timestamps in the core schema
    ("2024-01-02", "2024-01-02"), ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
    ("hello world", "hello world"), ("a#b", "a#b"), ("v1beta1", "v1beta1"),
  ]

  @Test("plain scalars", arguments: plain)
  func plainScalar(text: String, expected: JSONValue) throws {
    let value = try json("v: \(text)\n")["v"]
    #expect(value == expected, "v: \(text)")
  }

  static let nonFinite = [".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.INF", ".nan", ".NaN", ".NAN", "1e999", "-1e400"]

  @Test("infinity, NaN and overflowing floats are errors with a position", arguments: nonFinite)
  func nonFiniteIsError(text: String) throws {
    let error = try #require(expectError("a: 1\nvalue: \(text)\n", file: "f.yaml"))
    #expect(error.kind == .invalidValue)
    #expect(error.mark == mark(2, 8))
    #expect(error.description.hasPrefix("f.yaml:2:8: \"\(text)\""))
    #expect(error.message.contains("quote it"))
  }

  @Test(
    "integers beyond 64 bits are errors",
    arguments: ["9223372036854775808", "-9223372036854775809", "0x10000000000000000"])
  func intOverflow(text: String) throws {
    let error = try #require(expectError("n: \(text)"))
    #expect(error.kind == .invalidValue)
    #expect(error.mark == mark(1, 4))
    #expect(error.message.contains("does not fit in 64 bits"))
  }

  @Test("quoted and block scalars are always strings")
  func quotedAreStrings() throws {
    let value = try json(
      """
      a: "123"
      b: '123'
      c: "true"
      d: 'null'
      e: ""
      f: ".inf"
      g: |
        123
      h: >-
        0x1F
      i: "yes"
      """)
    #expect(
      value == [
        "a": "123", "b": "123", "c": "true", "d": "null", "e": "", "f": ".inf", "g": "123\n", "h": "0x1F", "i": "yes",
      ]
    )
  }

  @Test("the style is kept on the node")
  func styles() throws {
    let root = try #require(documents("a: x\nb: 'x'\nc: \"x\"\nd: |\n  x\ne: >\n  x\nf: [1]\ng:\n  - 1\n").first?.root)
    let styles = ["a", "b", "c", "d", "e"].map { key -> YAMLScalarStyle? in
      if case .scalar(_, let style)? = root[key]?.content { return style }
      return nil
    }
    #expect(styles == [.plain, .singleQuoted, .doubleQuoted, .literal, .folded])
    if case .sequence(_, let style)? = root["f"]?.content { #expect(style == .flow) } else { Issue.record("f") }
    if case .sequence(_, let style)? = root["g"]?.content { #expect(style == .block) } else { Issue.record("g") }
    if case .mapping(_, let style) = root.content { #expect(style == .block) } else { Issue.record("root") }
  }

  static let tagged: [(String, JSONValue)] = [
    ("!!str 123", "123"), ("!!str true", "true"), ("!!str ~", "~"), ("!!str", ""), ("!!str .inf", ".inf"),
    ("!!int \"12\"", 12), ("!!int 0x10", 16), ("!!int '0o10'", 8), ("!!int -5", -5),
    ("!!float 1", 1.0), ("!!float \"1e3\"", 1000.0), ("!!float .5", 0.5), ("!!float 99999999999999999999", 1e20),
    ("!!bool \"true\"", true), ("!!bool FALSE", false),
    ("!!null ''", nil), ("!!null ~", nil), ("!!null", nil),
    ("! 123", "123"), ("! true", "true"),
    ("!!binary aGk=", "aGk="), ("!!timestamp 2024-01-02", "2024-01-02"),
    ("!!seq [1, 2]", [1, 2]), ("!!map {a: 1}", ["a": 1]),
    ("!<tag:yaml.org,2002:int> '7'", 7),
  ]

  @Test("explicit tags are honoured", arguments: tagged)
  func explicitTags(text: String, expected: JSONValue) throws {
    #expect(try json("v: \(text)\n")["v"] == expected, "v: \(text)")
  }

  static let badTags: [(String, YAMLError.Kind)] = [
    ("!!int abc", .invalidValue), ("!!int 1.5", .invalidValue), ("!!bool yes", .invalidValue),
    ("!!null x", .invalidValue), ("!!float abc", .invalidValue), ("!!float .inf", .invalidValue),
    ("!!str [a]", .invalidValue), ("!!map [a]", .invalidValue), ("!!seq x", .invalidValue),
    ("!foo x", .unsupported), ("!!set {a: null}", .unsupported), ("!custom [1]", .unsupported),
  ]

  @Test("content that does not fit its tag is an error at the node", arguments: badTags)
  func badTag(text: String, kind: YAMLError.Kind) throws {
    let error = try #require(expectError("x: 1\nv: \(text)\n", file: "t.yaml"))
    #expect(error.kind == kind)
    #expect(error.mark == mark(2, 4))
    #expect(error.description.hasPrefix("t.yaml:2:4: "))
  }

  @Test("non-string keys become strings")
  func nonStringKeys() throws {
    let value = try json("1: a\ntrue: b\n~: c\n1.5: d\n0x10: e\n0123: f\n\"2\": g\n1e3: h\n")
    #expect(value.objectValue?.keys == ["1", "true", "null", "1.5", "16", "123", "2", "1000.0"])
    #expect(value == ["1": "a", "true": "b", "null": "c", "1.5": "d", "16": "e", "123": "f", "2": "g", "1000.0": "h"])
  }

  @Test(
    "keys that read the same after conversion are duplicates",
    arguments: [
      "1: a\n\"1\": b\n", "0x10: a\n16: b\n", "true: a\n'true': b\n", "~: a\nnull: b\n", "010: a\n10: b\n",
    ])
  func convertedKeyDuplicates(text: String) throws {
    let error = try #require(expectError(text))
    #expect(error.kind == .duplicateKey)
    #expect(error.mark == mark(2, 1))
    #expect(error.related == mark(1, 1))
  }

  @Test("a key JSON cannot carry is an error at the key")
  func infiniteKey() throws {
    let error = try #require(expectError("a: 1\n.inf: x\n"))
    #expect(error.kind == .invalidValue)
    #expect(error.mark == mark(2, 1))
    #expect(error.message.hasPrefix("mapping key: "))
  }

  @Test("mappings and sequences cannot be keys")
  func complexKeys() throws {
    for text in ["? [a, b]\n: 1\n", "{a: 1}: 2\n", "? - x\n: 1\n"] {
      let error = try #require(expectError(text))
      #expect(error.kind == .unsupported)
      #expect(error.mark?.line == 1)
    }
  }
}
