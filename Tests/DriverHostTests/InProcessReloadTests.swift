// Loading the same library in process more than once. A library is dlopen'ed and initialised once
// per process (NativeDriver caches it by dlopen handle) and bound to the host services of the
// first load. A later load must then either work as the caller asked or be refused with a clear
// DriverLoadError — never hand out a driver that silently belongs to someone else or is dead.
import DriverHost
import DriverProtocols
import Foundation
import Testing

@Suite("In-process reload", .timeLimit(.minutes(1)))
struct InProcessReloadTests {
  @Test("loading a library again after its driver was shut down gives a working driver or a clear error")
  func reloadAfterShutdown() async throws {
    try await withTestHost { t in
      let path = try t.fixture("async_ok")
      let first = try await t.load(path, .inProcess)
      let instance = try await first.makeInstance()
      #expect(try await instance.call("ping") == #"{"driver":"async_ok"}"#)
      await instance.destroy()
      await first.shutdown()

      do {
        let second = try await t.load(path, .inProcess)
        let again = try await second.makeInstance()
        let outcome = await again.callOutcome("ping")
        #expect(outcome == RawOutcome(status: 0, json: #"{"driver":"async_ok"}"#),
          "the second load returned the driver that was shut down: \(outcome)")
        await again.destroy()
      } catch let error as DriverLoadError {
        #expect(error.message.contains("shut down"), "refused without saying why: \(error)")
      }
    }
  }

  @Test("a library loaded in process by two hosts does not send one host's state to the other")
  func twoHostsOneLibrary() async throws {
    try await withTestHost { a in
      try await withTestHost { b in
        let path = try a.fixture("async_ok")
        let fromA = try await a.load(path, .inProcess)
        #expect(fromA.name == "async_ok")
        do {
          let fromB = try await b.load(path, .inProcess)
          let instance = try await fromB.makeInstance()
          #expect(try await instance.call("hc.test.state", #"{"key":"owner","value":"b"}"#) == #"{"value":"b"}"#)
          await instance.destroy()
          let inB = FileStateStore(directory: b.stateDirectory).get(driver: "async_ok", key: "owner") == "b"
          let inA = FileStateStore(directory: a.stateDirectory).get(driver: "async_ok", key: "owner") != nil
          #expect(inB, "host B's call did not reach host B's state store")
          #expect(!inA, "host B's driver wrote its state into host A's state store")
        } catch let error as DriverLoadError {
          // Refusing the second host is acceptable if it says why.
          #expect(error.message.contains("already loaded"), "\(error)")
        }
      }
    }
  }
}
