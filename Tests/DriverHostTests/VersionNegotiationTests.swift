// Minor-version negotiation (§C.4, §C.11 item 4): the host offers its highest minor, the driver
// answers min(host, driver); a driver newer than the host is accepted and its larger vtable is
// read only up to the host's struct.
import DriverHost
import DriverProtocols
import Foundation
import Testing

@Suite("Version negotiation", .timeLimit(.minutes(2)))
struct VersionNegotiationTests {
  @Test("future_minor (driver minor 7) loads on a minor-0 host and negotiates 0", arguments: DriverIsolation.allCases)
  func futureMinor(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      let driver = try await t.load(try t.fixture("future_minor"), isolation)
      #expect(driver.info.magic.abiMinor == 7)
      #expect(driver.info.negotiatedMinor == 0)
      // The driver's own struct_size (two appended functions) is reported as is.
      #expect(driver.info.vtableSize == 96)
      let instance = try await driver.makeInstance()
      #expect(try await instance.call("ping") == #"{"driver":"future_minor"}"#)
      let unknown = await instance.callOutcome("nope")
      #expect(unknown.driverStatus == .unimplemented)
      await instance.destroy()
      let stats = await driver.shutdown()
      #expect(stats.allocator.allocations == stats.allocator.frees, "\(stats.allocator)")
      #expect(stats.violations.isEmpty)
    }
  }

  @Test("hostMinor: the negotiated minor is min(offered, driver's)", arguments: DriverIsolation.allCases)
  func hostMinorParameter(_ isolation: DriverIsolation) async throws {
    try await withTestHost { t in
      // noop knows minor 0: offering 5 still negotiates 0.
      let noop = try await t.load(try t.fixture("noop"), isolation, hostMinor: 5)
      #expect(noop.info.negotiatedMinor == 0)
      let instance = try await noop.makeInstance()
      #expect(try await instance.call("ping") == #"{"driver":"noop"}"#)
      await instance.destroy()
      await noop.shutdown()

      // future_minor knows 7: offering 3 negotiates 3, offering 9 negotiates 7. Separate copies:
      // a library is initialised once per process.
      let three = try await t.load(try t.fixture("future_minor", copy: "offer3"), isolation, hostMinor: 3)
      #expect(three.info.negotiatedMinor == 3)
      let nine = try await t.load(try t.fixture("future_minor", copy: "offer9"), isolation, hostMinor: 9)
      #expect(nine.info.negotiatedMinor == 7)
      await three.shutdown()
      await nine.shutdown()
    }
  }
}
