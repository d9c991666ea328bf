import Model
import Testing

@Suite("Kind")
struct KindTests {
  @Test("parses singular, plural and short names in any case")
  func parsing() {
    for (text, kind) in [
      ("Worker", Kind.worker), ("workers", .worker), ("WK", .worker), ("wk", .worker),
      ("team", .team), ("Teams", .team), ("tm", .team),
      ("human", .human), ("HUMANS", .human), ("hm", .human),
      ("Manager", .manager), ("managers", .manager), ("mgr", .manager),
    ] {
      #expect(Kind(parsing: text) == kind, "\(text)")
    }
    for text in ["", "work", "w", "mgrs", "teamz", "hiclaw"] {
      #expect(Kind(parsing: text) == nil, "\(text)")
    }
  }

  @Test("names")
  func names() {
    #expect(Kind.worker.plural == "workers")
    #expect(Kind.manager.plural == "managers")
    #expect(Kind.allCases.map(\.shortName) == ["wk", "tm", "hm", "mgr"])
    #expect(Kind.team.rawValue == "Team")
    #expect(Kind.human.singular == "human")
  }
}
