import Foundation
import Testing
import YAML

@Suite("JSON values and text")
struct JSONTests {
  @Test("document order and sorted order")
  func keyOrder() throws {
    let value = try json("zeta: 1\nalpha:\n  b: [true, null, 1.5, x]\n  a: {}\nmid: []\n")
    #expect(value.jsonText() == #"{"zeta":1,"alpha":{"b":[true,null,1.5,"x"],"a":{}},"mid":[]}"#)
    #expect(value.jsonText(keyOrder: .sorted) == #"{"alpha":{"a":{},"b":[true,null,1.5,"x"]},"mid":[],"zeta":1}"#)
    #expect(value.description == value.jsonText())
  }

  @Test("pretty printing")
  func pretty() throws {
    let value = try json("b: [1, {c: d}]\na: {}\n")
    #expect(
      value.jsonText(keyOrder: .sorted, prettyPrinted: true) == """
        {
          "a": {},
          "b": [
            1,
            {
              "c": "d"
            }
          ]
        }
        """)
  }

  @Test("string escaping")
  func escaping() throws {
    let value = try json(#"s: "quote\" back\\ nl\n tab\t cr\r ctl\x01\x1f bell\b ff\f é 😀 /""#)
    #expect(value.jsonText() == #"{"s":"quote\" back\\ nl\n tab\t cr\r ctl\u0001\u001f bell\b ff\f é 😀 /"}"#)
  }

  @Test(
    "numbers",
    arguments: [
      ("1e3", "1000.0"), ("0.1", "0.1"), ("-0", "0"), ("1e16", "1e+16"), ("-2.5e-8", "-2.5e-08"),
      ("0x7fffffffffffffff", "9223372036854775807"),
    ])
  func numbers(text: String, expected: String) throws {
    #expect(try json("- \(text)").jsonText() == "[\(expected)]")
  }

  @Test("JSON text parses back with Foundation to the same values")
  func roundTrip() throws {
    let doc = try #require(
      documents(
        """
        kind: Worker
        metadata: {name: w1, labels: {a: "1"}}
        spec:
          replicas: 3
          ratio: .25
          enabled: true
          nothing: ~
          env: [{name: A, value: "x\\ty"}]
          text: |
            line one
            line "two"
          last: |-
            no final break
        """
      ).first)
    let data = try doc.jsonData(keyOrder: .sorted)
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let spec = try #require(object["spec"] as? [String: Any])
    #expect(spec["replicas"] as? Int == 3)
    #expect(spec["ratio"] as? Double == 0.25)
    #expect(spec["enabled"] as? Bool == true)
    #expect(spec["nothing"] is NSNull)
    #expect(spec["text"] as? String == "line one\nline \"two\"\n")
    #expect(spec["last"] as? String == "no final break")
    #expect(((spec["env"] as? [[String: Any]])?.first?["value"] as? String) == "x\ty")
  }

  @Test("values: accessors, literals and key-order-insensitive equality")
  func values() {
    var object: JSONObject = ["b": 1, "a": 2]
    object["c"] = "x"
    object["b"] = nil
    #expect(object.keys == ["a", "c"])
    #expect(object.map(\.key) == ["a", "c"])
    let value = JSONValue.object(object)
    #expect(value == ["c": "x", "a": 2])
    #expect(value.hashValue == JSONValue.object(["c": "x", "a": 2]).hashValue)
    #expect(value["a"]?.intValue == 2)
    #expect(value["c"]?.stringValue == "x")
    #expect(JSONValue.int(1) != JSONValue.double(1))
    #expect(JSONValue.int(1).doubleValue == 1)
    #expect(JSONValue.array([1, nil])[1]?.isNull == true)
    #expect(JSONValue.double(.infinity).jsonText() == "null")
  }
}
