// codec: the Model's per-Worker JSON work on the apply path (BM1), each next to the Foundation
// coder it replaced (the peer), single-threaded, in ns per operation:
//   - the stored form of a Worker's status (NodeEncoder.jsonBytes; peer: JSONEncoder, sorted keys)
//   - a spec hash (SpecHash.of over CanonicalJSON; peer: JSONEncoder, sorted keys, no pruning)
//   - a PUT body decoded and validated (ResourceDecoder, strict; peer: JSONDecoder, no validation)
// Each case runs `batch` operations per sample and keeps the fastest and median sample of each
// repetition, so another process taking the core for a while moves the median, not the minimum.
import Foundation
import Model

enum CodecBench {
  static func run(options: Options, report: Report) throws {
    let batch = options.quick ? 200 : 2000
    let samples = options.quick ? 5 : 25
    report.heading("codec: the Model's JSON work per Worker on the apply path, vs Foundation's coders, "
      + "\(options.repetitions) repetitions of \(samples) samples of \(batch) operations (ns per operation)")

    var worker = Worker(metadata: ObjectMeta(name: "bench-worker-0001"), spec: WorkerSpec(model: "qwen3-coder"))
    worker = Defaults().applied(to: worker)
    let status = WorkerStatus(
      phase: .running, observedGeneration: 1,
      conditions: [
        Condition(type: "Ready", status: .true, reason: "InstanceRunning", message: "the instance is running",
          lastTransitionTime: Timestamp(millisecondsSinceEpoch: 1_764_900_000_000), observedGeneration: 1),
        Condition(type: "Provisioned", status: .true, reason: "Provisioned",
          lastTransitionTime: Timestamp(millisecondsSinceEpoch: 1_764_900_000_000), observedGeneration: 1),
      ],
      containerState: "running")
    let body = Data("""
      {"apiVersion":"hiclaw.io/v1beta1","kind":"Worker","metadata":{"name":"bench-worker-0001"},\
      "spec":{"model":"qwen3-coder"}}
      """.utf8)
    let sortedEncoder = JSONEncoder()
    sortedEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let decoder = ResourceDecoder(mode: .strict)
    guard (try? decoder.decodeAndValidate(body)) != nil else { throw BenchError("the codec bench's body does not validate") }

    let cases: [(name: String, peer: String, run: () throws -> Int, peerRun: () throws -> Int)] = [
      ("status, stored form (NodeEncoder.jsonBytes)", "JSONEncoder, sorted keys",
       { try NodeEncoder.jsonBytes(status).count }, { try sortedEncoder.encode(status).count }),
      ("spec hash (SpecHash.of, CanonicalJSON)", "JSONEncoder, sorted keys",
       { SpecHash.of(worker.spec).utf8.count }, { try sortedEncoder.encode(worker.spec).count }),
      ("PUT body decoded and validated (ResourceDecoder)", "JSONDecoder, no validation",
       { try decoder.decodeAndValidate(body).value.name.utf8.count },
       { try JSONDecoder().decode(Worker.self, from: body).metadata.name.utf8.count }),
    ]
    var rows: [[String]] = []
    for item in cases {
      var ours: [Double] = []
      var peer: [Double] = []
      var oursMin: [Double] = []
      for _ in 0..<options.repetitions {
        // Alternating samples, so both sides see the same moments of the machine.
        var a: [Double] = []
        var b: [Double] = []
        for _ in 0..<samples {
          a.append(try timePerOperation(batch, item.run))
          b.append(try timePerOperation(batch, item.peerRun))
        }
        ours.append(median(a))
        peer.append(median(b))
        oursMin.append(a.min()!)
      }
      var record = Record(section: "codec", name: item.name, unit: "ns")
      record.set(ours)
      record.ratio = median(zip(ours, peer).map { $0 / $1 })
      record.ratioTo = "\(item.peer) (peer), same repetition"
      record.note = String(format: "fastest sample %.0f ns; peer median %.0f ns", median(oursMin), median(peer))
      report.add(record)
      var peerRecord = Record(section: "codec", name: "peer: \(item.peer) for \(item.name)", unit: "ns")
      peerRecord.set(peer)
      report.add(peerRecord)
      rows.append([item.name, formatTime(record.median), formatTime(median(oursMin)), formatTime(peerRecord.median),
        formatRatio(record.ratio)])
    }
    report.table(["case", "median", "fastest", "peer median", "vs peer"], rows)
  }

  /// Nanoseconds per call of `body` over `count` calls (its result is summed so the calls stay).
  static func timePerOperation(_ count: Int, _ body: () throws -> Int) throws -> Double {
    var sink = 0
    let start = nowNanoseconds()
    for _ in 0..<count { sink &+= try body() }
    let elapsed = nowNanoseconds() - start
    if sink == Int.min { print(sink) }
    return Double(elapsed) / Double(count)
  }
}
