// The remote-write exporter, in process, writing into a real Prometheus on loopback.
import FireflyModel
import FireflyPluginKit
import Foundation
import RemoteWriteExporter

enum RemoteWriteIntoPrometheus {
    /// Exports batches of CloudWatch-like summary points for `duration`; the samples Prometheus
    /// appended (its own `prometheus_tsdb_head_samples_appended_total`) per second is the result.
    static func run(prometheusURL: String, duration: Duration, machine: Machine) async -> BenchResult {
        let name = "samples into Prometheus"
        let group = "remote-write"
        func unavailable(_ why: String) -> BenchResult {
            BenchResult(group: group, name: name, value: nil, unit: "samples/s", detail: "n/a (\(why))", target: nil, verdict: nil, machine: machine.summary)
        }
        guard let url = URL(string: prometheusURL), let port = url.port else { return unavailable("no --prometheus-url") }
        // The counter has no series until the first sample, so an answer without it means 0.
        func appended() -> Double? {
            HTTPProbe.get(port: port, path: "/metrics").map { HTTPProbe.sum("prometheus_tsdb_head_samples_appended_total", in: $0.body) ?? 0 }
        }
        guard let before = appended() else { return unavailable("Prometheus does not answer on \(prometheusURL)") }
        let exporter: RemoteWriteExporter
        do {
            exporter = try RemoteWriteExporter(
                context: .standalone(instanceName: "bench"),
                config: PluginConfig(["url": .string(prometheusURL + "/api/v1/write")]))
        } catch {
            return unavailable("cannot configure the exporter: \(error)")
        }
        let functions = 500
        let now = UInt64(Date().timeIntervalSince1970) * 1_000_000_000
        let first = now - 50 * 60 * 1_000_000_000  // inside Prometheus' head window, and in order per series
        let assembler = SeriesAssembler()
        let clock = ContinuousClock()
        let started = clock.now
        var batches = 0
        var planned = 0
        var failures: [String] = []
        while clock.now - started < duration, batches < 2900 {
            let t = first + UInt64(batches) * 1_000_000_000
            let points = (0..<functions).map { f in
                MetricPoint(
                    name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "fn-\(f)", kind: .summary,
                    hasMinMax: true, isDelta: true,
                    labels: [Label("FunctionName", "fn-\(f)"), Label("cloud.account.id", "123456789012"), Label("cloud.region", "us-east-1")],
                    timeUnixNano: t, count: 12, sum: 1530 + Double(batches % 7), min: 3.2, max: 812.5,
                    quantiles: [Quantile(0, 3.2), Quantile(0.5, 101), Quantile(0.9, 402), Quantile(0.99, 790.1), Quantile(1, 812.5)])
            }
            planned += assembler.plan(points) { _ in nil }.shards.joined().joined().reduce(0) { $0 + $1.samples.count }
            let result = await exporter.export(TelemetryBatch(points: points))
            if result != .ok, failures.count < 3 { failures.append("\(result)") }
            batches += 1
        }
        let elapsed = clock.now - started
        await exporter.shutdown()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard let after = appended() else { return unavailable("Prometheus stopped answering") }
        let samples = after - before
        return BenchResult(
            group: group, name: name, value: samples / seconds, unit: "samples/s",
            detail: "\(batches) batches of \(functions) summary points → \(Int(samples)) samples appended (\(planned) sent)"
                + (failures.isEmpty ? "" : "; failures: \(failures.joined(separator: "; "))"),
            target: nil, verdict: nil, machine: machine.summary,
            extra: ["samples": samples, "samples_sent": Double(planned), "seconds": seconds])
    }
}
