import Foundation
import Synchronization
import Testing

/// Crashes and restarts of the host.
@Suite(.serialized) struct RecoveryTests {
  /// kill -9 in the middle of applying 200 Workers; after a restart and a second apply every
  /// Worker converges, and the backend created each exactly once.
  @Test func killDuringAnApplyOf200WorkersConvergesExactlyOnce() async throws {
    let host = LiveHost()
    defer { host.remove() }
    try await host.start()
    let manifests = (0..<200).map { workerYAML(String(format: "w%03d", $0)) }.joined(separator: "\n---\n")
    let file = host.dataDirectory.appendingPathComponent("workers.yaml")
    try manifests.write(to: file, atomically: true, encoding: .utf8)

    // Apply through a proxy that lets 20 requests through and holds the 21st: the host is
    // killed while the apply waits for that answer, with 20 Workers stored and the reconcilers
    // bringing the first ones up (deterministic, however fast the CLI and the host are).
    let proxy = try PausingProxy(upstreamPort: host.url.port!, requestLimit: 20)
    let apply = Task {
      await runCommandOnThread(Products.cli, ["apply", "-f", file.path], environment: [
        "HICLAW_CONTROLLER_URL": "http://127.0.0.1:\(proxy.port)", "HICLAW_TOKEN": host.adminToken,
      ])
    }
    let partway = await eventually(timeout: .seconds(60), every: .milliseconds(5)) { proxy.forwarded == 20 }
    #expect(partway)
    try await Task.sleep(for: .milliseconds(50))  // let the reconcilers get going
    host.kill9()
    proxy.release()
    let interrupted = await apply.value
    #expect(interrupted.status != 0, "the apply saw the host die: \(interrupted.output)")

    try await host.start()
    let second = await host.cli("apply", "-f", file.path)
    #expect(second.status == 0, "\(second.output)")
    let converged = try await eventually(timeout: .seconds(120)) {
      let list = try await host.request("GET", "/api/v1/workers").json()
      let items = list["items"] as? [[String: Any]] ?? []
      return items.count == 200 && items.allSatisfy { ($0["status"] as? [String: Any])?["phase"] as? String == "Running" }
    }
    #expect(converged)
    let instances = try host.instances()
    #expect(instances.count == 200)
    for (name, instance) in instances {
      let creates = instance.log.filter { $0.text.hasPrefix("created ") }.count
      #expect(creates == 1, "\(name) was created \(creates) times")
    }
    // Ids are handed out in sequence: 200 instances with ids up to 200 means no create was lost
    // to a duplicate.
    let highest = instances.values.compactMap { Int($0.id.dropFirst(4)) }.max()
    #expect(highest == 200)
  }

  /// A watch resumed from the last revision it saw, after a restart of the host, continues
  /// with exactly the events it had not seen: none missing, none repeated, in order.
  @Test func watchResumesFromARevisionAcrossARestart() async throws {
    let host = LiveHost()
    defer { host.remove() }
    try await host.start()
    for index in 0..<5 {
      #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON("a\(index)")).status == 201)
    }
    let firstPart = try await watchLines(host, fromRevision: 0, until: { $0.count >= 5 })
    let lastSeen = try #require(firstPart.last?.revision)

    host.stop()
    try await host.start()
    for index in 0..<5 {
      #expect(try await host.request("POST", "/api/v1/workers", body: workerJSON("b\(index)")).status == 201)
    }
    let current = try await host.request("GET", "/api/v1/workers")
    let listRevision = try #require(Int((try current.json()["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? ""))
    let secondPart = try await watchLines(host, fromRevision: lastSeen, until: { $0.last.map { $0.revision >= listRevision } ?? false })
    let everything = try await watchLines(host, fromRevision: 0, until: { $0.last.map { $0.revision >= listRevision } ?? false })

    // The controllers keep writing status meanwhile: compare up to the revision of the list.
    let resumed = (firstPart + secondPart).filter { $0.revision <= listRevision }
    let reference = everything.filter { $0.revision <= listRevision }
    #expect(resumed.map(\.revision) == reference.map(\.revision), "the resumed watch has a gap or a repeat")
    #expect(resumed.map(\.type) == reference.map(\.type))
    #expect(resumed.map(\.revision) == resumed.map(\.revision).sorted())
    #expect(Set(resumed.map(\.revision)).count == resumed.count)
    #expect(secondPart.contains { $0.name == "b4" })
  }

  struct WatchLine {
    var type: String
    var name: String
    var revision: Int
  }

  /// Reads `GET /api/v1/workers?watch=1&resourceVersion=N` with curl until `done` holds.
  func watchLines(_ host: LiveHost, fromRevision: Int, until done: @escaping ([WatchLine]) -> Bool) async throws -> [WatchLine] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-sN", "-H", "Authorization: Bearer \(host.adminToken)",
      host.url.absoluteString + "/api/v1/workers?watch=1&resourceVersion=\(fromRevision)"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    defer { if process.isRunning { process.terminate() } }
    var lines: [WatchLine] = []
    var buffer = Data()
    let deadline = ContinuousClock.now.advanced(by: .seconds(30))
    while !done(lines), ContinuousClock.now < deadline {
      let chunk = pipe.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      buffer.append(chunk)
      while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        let line = buffer[buffer.startIndex..<newline]
        buffer.removeSubrange(buffer.startIndex...newline)
        guard let event = try JSONSerialization.jsonObject(with: line) as? [String: Any],
          let type = event["type"] as? String, type != "BOOKMARK",
          let object = event["object"] as? [String: Any], let metadata = object["metadata"] as? [String: Any],
          let name = metadata["name"] as? String,
          let revision = Int(metadata["resourceVersion"] as? String ?? "")
        else { continue }
        lines.append(WatchLine(type: type, name: name, revision: revision))
      }
    }
    return lines
  }
}
