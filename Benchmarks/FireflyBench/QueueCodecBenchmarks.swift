// In-process costs of the steps a Firehose request's batch takes between the receiver and an
// exporter, on one thread: the durable queue's record encode and decode, and the C-ABI bridge.
import DebugExporter
import FireflyBenchmarkKit
import FireflyCore
import FireflyModel
import FireflyPluginKit
import FirehoseAdapter
import OTLPAdapter
import Foundation

enum QueueCodecBenchmarks {
    static func run(machine: Machine, seconds: Double) -> [BenchResult] {
        let body = FirehoseDecodeBenchmark.makeBody(records: 2600, linesPerRecord: 10)
        guard let points = try? FirehoseRequestDecoder().decode(body: body).points else { return [] }
        let batch = TelemetryBatch(points: points)
        let minimum = Duration.milliseconds(Int64(seconds * 250))
        let encoded = RecordCodec.encode(batch, receiver: "firehose")
        let cArena = CArena()
        let cBatch = BatchBridge.cBatch(batch, in: cArena)
        var results: [BenchResult] = []
        func add(_ name: String, _ rate: Double, _ detail: String) {
            results.append(
                BenchResult(group: "queue codec", name: name, value: rate, unit: "points/s/core", detail: detail,
                            target: nil, verdict: nil, machine: machine.summary))
        }
        add("durable queue record encode", rate(batch.points.count, minimum) {
            var w = ByteWriter(capacity: encoded.count)
            return (try? RecordCodec.encode(cBatch, receiver: "firehose", keeping: .all, into: &w))?.points ?? 0
        }, "\(batch.points.count) CloudWatch points, from the receiver's C batch → \(encoded.count / 1024) KiB record")
        add("durable queue record → exporter's C batch", rate(batch.points.count, minimum) {
            let export = ExportBatch()
            guard (try? export.append(record: encoded, keeping: { _ in .all })) != nil else { return 0 }
            return export.slices(maxItems: 5000).reduce(0) { $0 + $1.cBatch().pointee.point_count }
        }, "what an exporter worker hands its plugin: decoded in place, no Swift values")
        add("durable queue record decode", rate(batch.points.count, minimum) { (try? RecordCodec.decode(encoded))?.batch.points.count ?? 0 },
            "the same record back to Swift values (dead letters)")
        add("C-ABI bridge, batch → C → batch", rate(batch.points.count, minimum) {
            let arena = CArena()
            return (try? BatchBridge.telemetry(from: BatchBridge.cBatch(batch, in: arena)))?.points.count ?? 0
        }, "what an emit of Swift values crosses")
        let arena = CArena()
        let c = BatchBridge.cBatch(batch, in: arena)
        add("C-ABI bridge, C → batch", rate(batch.points.count, minimum) { (try? BatchBridge.telemetry(from: c))?.points.count ?? 0 },
            "what the kit does before an exporter's export(_:)")
        add("debug exporter JSON lines", rate(batch.points.count, minimum) { DebugLines.encode(batch).count },
            "one JSON line per point")
        results += spans(minimum: minimum, machine: machine)
        return results
    }

    /// The record steps for spans: 1000 OTLP demo-shaped spans as the otlp receiver emits them.
    static func spans(minimum: Duration, machine: Machine) -> [BenchResult] {
        guard let spans = try? TraceProtoDecoder.decode(OTLPDecodeBenchmark.payload(spans: 1000)).batch.spans else { return [] }
        let arena = CArena()
        let cBatch = BatchBridge.cBatch(TelemetryBatch(spans: spans), in: arena)
        var w = ByteWriter()
        guard (try? RecordCodec.encode(cBatch, receiver: "otlp", keeping: .all, into: &w)) != nil else { return [] }
        let encoded = w.bytes
        func result(_ name: String, _ rate: Double, _ detail: String) -> BenchResult {
            BenchResult(group: "queue codec", name: name, value: rate, unit: "spans/s/core", detail: detail,
                        target: nil, verdict: nil, machine: machine.summary)
        }
        return [
            result("durable queue record encode, spans", rate(spans.count, minimum) {
                var w = ByteWriter(capacity: encoded.count)
                return (try? RecordCodec.encode(cBatch, receiver: "otlp", keeping: .all, into: &w))?.spans ?? 0
            }, "\(spans.count) OTLP spans (resource and span attributes), from the receiver's C batch → \(encoded.count / 1024) KiB record"),
            result("durable queue record → exporter's C batch, spans", rate(spans.count, minimum) {
                let export = ExportBatch()
                guard (try? export.append(record: encoded, keeping: { _ in .all })) != nil else { return 0 }
                return export.slices(maxItems: 5000).reduce(0) { $0 + $1.cBatch().pointee.span_count }
            }, "the same record, decoded in place for the exporter's plugin"),
        ]
    }

    static func rate(_ items: Int, _ minimum: Duration, _ work: () -> Int) -> Double {
        var sink = work()
        let clock = ContinuousClock()
        let start = clock.now
        var runs = 0
        repeat {
            sink &+= work()
            runs += 1
        } while clock.now - start < minimum
        let elapsed = clock.now - start
        if sink == 42 { print("") }
        return Double(items * runs) / PostgresBench.seconds(elapsed)
    }
}
