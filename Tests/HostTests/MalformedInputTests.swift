import Foundation
import Testing

/// Malformed YAML to the CLI and malformed JSON to the API: a clear 4xx or a clear error, never
/// a crash or a 5xx, and nothing written.
@Suite(.serialized) struct MalformedInputTests {
  @Test func seededFuzzOfTheAPIAndTheCLI() async throws {
    try await withHost { host in
      let valid = #"{"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"fuzz"},"spec":{"model":"m","skills":["a"],"env":{"K":"V"}}}"#
      var generator = SplitMix64(seed: 0x5EED)

      var statuses: [Int: Int] = [:]
      for round in 0..<300 {
        var bytes = Array(valid.utf8)
        switch round % 4 {
        case 0:  // flip bytes
          for _ in 0..<(1 + Int(generator.next() % 4)) {
            bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
          }
        case 1:  // truncate
          bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
        case 2:  // wrong types
          let text = valid.replacingOccurrences(of: #""m""#, with: ["1", "[]", "{}", "null", "true"][Int(generator.next() % 5)])
          bytes = Array(text.utf8)
        default:  // random garbage
          bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        let method = round % 2 == 0 ? "POST" : "PUT"
        let path = method == "POST" ? "/api/v1/workers" : "/api/v1/workers/fuzz"
        let response = try await host.request(method, path, body: Data(bytes))
        statuses[response.status, default: 0] += 1
        if response.status >= 200 && response.status < 300 {
          // A mutation can still be a valid document (a flipped byte inside a string).
          _ = try await host.request("DELETE", "/api/v1/workers/fuzz")
          continue
        }
        #expect((400..<500).contains(response.status), "\(method) \(String(decoding: bytes, as: UTF8.self)) → \(response.status) \(response.text)")
        let body = try? response.json()
        #expect(body?["message"] is String, "errors carry a message: \(response.text)")
      }
      #expect(statuses.keys.allSatisfy { $0 < 500 }, "\(statuses)")
      // Only mutations that were still valid documents were stored, and they were deleted.
      let nothingLeft = try await eventually {
        (try await host.request("GET", "/api/v1/workers").json()["items"] as? [Any])?.isEmpty == true
      }
      #expect(nothingLeft)

      // Malformed YAML through the CLI: an error with a position, nothing sent.
      let cases = ["kind: Worker\n  bad: [unclosed", "apiVersion: hiclaw.io/v1beta1\nkind: Worker\nmetadata: {name: x\n", "\t- tab", "key: &a [*a]"]
      for text in cases {
        let result = await host.cli("apply", "-f", "-", input: text)
        #expect(result.status != 0, "\(text) → \(result.output)")
        #expect(!result.output.contains("Fatal error"), "\(result.output)")
      }
      #expect(try await host.request("GET", "/api/v1/workers/x").status == 404)
    }
  }
}

/// A small deterministic generator (the fuzz is reproducible from its seed).
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49EB_133D_111B
    return z ^ (z >> 31)
  }
}
