// In-process decode rates on one thread (so: per core), through the plugins' benchmark APIs.
import FireflyBenchmarkKit
import FireflyDemo
import FirehoseAdapter
import Foundation
import OTLPAdapter
import RemoteWriteExporter

enum DecodeBenchmarks {
    static func run(machine: Machine, seconds: Double) -> [BenchResult] {
        var results: [BenchResult] = []
        let half = Duration.milliseconds(Int64(seconds * 500))

        for lines in [1, 10] {
            let r = FirehoseDecodeBenchmark.run(records: 5000, linesPerRecord: lines, minimumDuration: half)
            results.append(
                BenchResult(
                    group: "decode", name: "Firehose CloudWatch JSON, \(lines) line\(lines == 1 ? "" : "s")/record",
                    value: r.recordsPerSecond, unit: "records/s/core",
                    detail: "\(r.records) CloudWatch records × \(r.iterations) runs, body \(r.bodyBytes / 1024) KiB",
                    target: "≥ 1 000 000", verdict: r.recordsPerSecond >= 1_000_000 ? "met" : "missed", machine: machine.summary))
        }

        let logs = FirehoseDecodeBenchmark.runCloudWatchLogs(minimumDuration: half)
        results.append(
            BenchResult(
                group: "decode", name: "Firehose CloudWatch Logs (gzip, Node.js text)", value: logs.eventsPerSecond,
                unit: "log events/s/core", detail: "\(logs.events) events × \(logs.iterations) runs, body \(logs.bodyBytes / 1024) KiB",
                target: "≥ 500 000", verdict: logs.eventsPerSecond >= 500_000 ? "met" : "missed", machine: machine.summary))

        for perMetric in [true, false] {
            let otel = firehoseOpenTelemetry(requestPerMetric: perMetric, minimum: half)
            results.append(
                BenchResult(
                    group: "decode",
                    name: "Firehose OpenTelemetry 1.0, one request per \(perMetric ? "data point" : "function")",
                    value: otel.rate, unit: "points/s/core",
                    detail: "\(otel.points) summary points per body (demo data), \(otel.runs) runs", target: nil, verdict: nil,
                    machine: machine.summary))
        }

        // OTLPDecodeBenchmark takes an iteration count: calibrate it to about half the measurement time.
        let probe = OTLPDecodeBenchmark.run(spansPerRequest: 1000, iterations: 5)
        let iterations = max(10, Int(probe * seconds / 2 / 1000))
        let spans = OTLPDecodeBenchmark.run(spansPerRequest: 1000, iterations: iterations)
        results.append(
            BenchResult(
                group: "decode", name: "OTLP protobuf traces", value: spans, unit: "spans/s/core",
                detail: "1000-span requests × \(iterations)", target: "≥ 500 000", verdict: spans >= 500_000 ? "met" : "missed",
                machine: machine.summary))

        let logProbe = OTLPDecodeBenchmark.runLogs(recordsPerRequest: 1000, iterations: 5)
        let logIterations = max(10, Int(logProbe * seconds / 2 / 1000))
        let otlpLogs = OTLPDecodeBenchmark.runLogs(recordsPerRequest: 1000, iterations: logIterations)
        results.append(
            BenchResult(
                group: "decode", name: "OTLP protobuf logs", value: otlpLogs, unit: "log records/s/core",
                detail: "1000-record requests × \(logIterations)", target: nil, verdict: nil, machine: machine.summary))

        let encode = RemoteWriteBenchmark.run(functions: 200, minutes: 5, iterations: max(5, Int(seconds * 4)))
        results.append(
            BenchResult(
                group: "decode", name: "remote-write encode + snappy", value: encode.samplesPerSecond, unit: "samples/s/core",
                detail: "\(encode.samples) samples, \(encode.bytesCompressed / 1024) KiB compressed", target: nil, verdict: nil,
                machine: machine.summary))
        return results
    }

    /// The firehose receiver's decoder on OpenTelemetry 1.0 records (no benchmark API in the
    /// plugin for this format, so the body comes from the demo's encoder).
    /// `requestPerMetric`: each data point in its own length-delimited request (the demo's
    /// layout), else one request per function holding all its metrics.
    static func firehoseOpenTelemetry(requestPerMetric: Bool, minimum: Duration) -> (rate: Double, points: Int, runs: Int) {
        let topology = DemoTopology(functions: 500, seed: 1)
        let metrics = LambdaMetricsSimulator(topology: topology, tracesPerSecond: 500, seed: 1)
        var records: [[UInt8]] = []
        var points = 0
        for f in topology.functions.indices {
            let p = metrics.points(function: f, minuteStartMs: 1_700_000_040_000, streamName: "firefly-bench")
            points += p.count
            records.append(
                MetricStreamOTelEncoder.record(
                    requestPerMetric ? p.map { MetricStreamOTelEncoder.request([$0]) } : [MetricStreamOTelEncoder.request(p)]))
        }
        let body = FirehoseRequest.envelope(requestId: "bench", timestampMs: 1_700_000_100_000, records: records)
        let decoder = FirehoseRequestDecoder()
        let check = (try? decoder.decode(body: body))?.points.count ?? 0
        precondition(check == points, "OpenTelemetry body decoded to \(check) points, expected \(points)")
        let clock = ContinuousClock()
        let start = clock.now
        var runs = 0
        var decoded = 0
        repeat {
            decoded &+= (try? decoder.decode(body: body))?.points.count ?? 0
            runs += 1
        } while clock.now - start < minimum
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (Double(decoded) / seconds, points, runs)
    }
}
