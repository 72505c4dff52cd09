import FireflyModel
import FireflyPluginKit
import FireflyTestSupport
import Foundation
import RemoteWriteExporter
import Testing

/// Round trips through a real Prometheus (Debian's `prometheus`, installed by
/// `FIREFLY_BOOTSTRAP_TEST=1 scripts/bootstrap`): what the exporter writes is read back with
/// PromQL, value for value and label for label.
@Suite(.serialized) struct PrometheusIntegrationTests {
    /// Whole seconds a few minutes ago: Prometheus refuses samples too old for its head block.
    static func recentMs(minutesAgo: Int) -> Int64 {
        (Int64(Date().timeIntervalSince1970) - Int64(minutesAgo * 60)) * 1000
    }

    static func ns(_ ms: Int64) -> UInt64 { UInt64(ms) * 1_000_000 }

    func makeExporter(_ prometheus: PrometheusServer) throws -> RemoteWriteExporter {
        try RemoteWriteExporter(
            context: .standalone(instanceName: "remote_write"),
            config: PluginConfig([
                "url": .string(prometheus.writeURL), "timeout": .string("2s"),
                "external_labels": .object(["cluster": .string("test")]),
            ]))
    }

    @Test func everySeriesKindReadsBackExactly() async throws {
        let prometheus = try PrometheusServer()
        try await prometheus.start()
        defer { prometheus.stop() }
        let exporter = try makeExporter(prometheus)
        let t1 = Self.recentMs(minutesAgo: 6)
        let t2 = t1 + 60_000
        let cloudWatch = MetricPoint(
            name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "checkout", kind: .summary, isDelta: true,
            labels: [Label("FunctionName", "checkout"), Label("cloud.account.id", "123456789012"), Label("cloud.region", "us-east-1")],
            timeUnixNano: Self.ns(t1), count: 12, sum: 1530,
            quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(0.999, 800), Quantile(1, 812.5)])
        let otelLabels = [Label("faas.name", "checkout"), Label("service.name", "shop")]
        let gauge = MetricPoint(name: "memory.usage", unit: "By", kind: .gauge, labels: otelLabels, timeUnixNano: Self.ns(t1), value: 1_048_576)
        let counter1 = MetricPoint(name: "http.requests", unit: "{request}", kind: .cumulativeSum, isMonotonic: true, labels: otelLabels, timeUnixNano: Self.ns(t1), value: 7)
        var counter2 = counter1
        counter2.timeUnixNano = Self.ns(t2)
        counter2.value = 12
        let histogram = MetricPoint(
            name: "http.server.request.duration", unit: "s", kind: .histogram, labels: otelLabels, timeUnixNano: Self.ns(t1),
            count: 6, sum: 2.5, bounds: [0.1, 1], bucketCounts: [2, 3, 1])
        let summary = MetricPoint(
            name: "rpc.latency", unit: "ms", kind: .summary, labels: otelLabels, timeUnixNano: Self.ns(t1), count: 4, sum: 10,
            quantiles: [Quantile(0, 1), Quantile(0.99, 4.5), Quantile(1, 5)])
        // Out of time order on purpose: the exporter orders samples per series.
        let batch = TelemetryBatch(points: [counter2, cloudWatch, gauge, counter1, histogram, summary])
        #expect(await exporter.export(batch) == .ok)
        await exporter.shutdown()

        let at1 = Double(t1) / 1000
        let cw = ["account_id": "123456789012", "cluster": "test", "dimension_FunctionName": "checkout", "region": "us-east-1"]
        let cwResult = try await prometheus.query(#"{__name__=~"aws_lambda_duration_.*"}"#, at: at1)
        let expectedCW: [(String, String)] = [
            ("average", "127.5"), ("maximum", "812.5"), ("minimum", "3.2"), ("p99", "790.1"), ("p99_9", "800"),
            ("sample_count", "12"), ("sum", "1530"),
        ]
        #expect(cwResult == expectedCW.map { stat, value in
            PrometheusServer.Sample(metric: cw.merging(["__name__": "aws_lambda_duration_\(stat)"]) { $1 }, value: value)
        })

        let otel = ["cluster": "test", "faas_name": "checkout", "job": "shop", "service_name": "shop"]
        #expect(try await prometheus.query("memory_usage_bytes", at: at1) == [
            .init(metric: otel.merging(["__name__": "memory_usage_bytes"]) { $1 }, value: "1048576")
        ])
        #expect(try await prometheus.query("http_requests_total", at: at1).map(\.value) == ["7"])
        #expect(try await prometheus.query("http_requests_total", at: Double(t2) / 1000) == [
            .init(metric: otel.merging(["__name__": "http_requests_total"]) { $1 }, value: "12")
        ])
        let buckets = try await prometheus.query("http_server_request_duration_seconds_bucket", at: at1)
        #expect(buckets.map { "\($0.metric["le"] ?? "?")=\($0.value)" }.sorted() == ["+Inf=6", "0.1=2", "1=5"])
        #expect(buckets.allSatisfy { $0.metric.filter { $0.key != "le" } == otel.merging(["__name__": "http_server_request_duration_seconds_bucket"]) { $1 } })
        #expect(try await prometheus.query("http_server_request_duration_seconds_sum", at: at1).map(\.value) == ["2.5"])
        #expect(try await prometheus.query("http_server_request_duration_seconds_count", at: at1).map(\.value) == ["6"])
        let quantiles = try await prometheus.query("rpc_latency_milliseconds", at: at1)
        #expect(quantiles.map { "\($0.metric["quantile"] ?? "?")=\($0.value)" }.sorted() == ["0.99=4.5", "0=1", "1=5"])
        #expect(try await prometheus.query("rpc_latency_milliseconds_sum", at: at1) == [
            .init(metric: otel.merging(["__name__": "rpc_latency_milliseconds_sum"]) { $1 }, value: "10")
        ])
        #expect(try await prometheus.query("rpc_latency_milliseconds_count", at: at1).map(\.value) == ["4"])
    }

    @Test func rejectedWritesArePermanentAndOutagesAreRetryableUntilPrometheusIsBack() async throws {
        let prometheus = try PrometheusServer()
        try await prometheus.start()
        defer { prometheus.stop() }
        let exporter = try makeExporter(prometheus)
        let t1 = Self.recentMs(minutesAgo: 8)
        func gauge(_ value: Double, at ms: Int64, name: String = "queue.depth") -> MetricPoint {
            MetricPoint(name: name, kind: .gauge, labels: [Label("queue", "orders")], timeUnixNano: Self.ns(ms), value: value)
        }
        #expect(await exporter.export(TelemetryBatch(points: [gauge(5, at: t1 + 60_000)])) == .ok)

        // The same exporter drops the late point itself, so nothing reaches Prometheus…
        #expect(await exporter.export(TelemetryBatch(points: [gauge(4, at: t1)])) == .ok)
        // …but one without that memory (a restarted collector) gets Prometheus' 400, never retried.
        let fresh = try makeExporter(prometheus)
        let rejected = await fresh.export(TelemetryBatch(points: [gauge(4, at: t1)]))
        await fresh.shutdown()
        #expect(rejected == .permanent(message: "remote write to \(prometheus.writeURL) rejected with HTTP 400: out of order sample"))
        #expect(try await prometheus.query("queue_depth", at: Double(t1 + 60_000) / 1000).map(\.value) == ["5"])

        // Prometheus down: retryable. Back up (same data directory): the same batch goes through.
        prometheus.stop()
        let batch = TelemetryBatch(points: [gauge(6, at: t1 + 120_000), gauge(1, at: t1 + 120_000, name: "queue.oldest")])
        let down = await exporter.export(batch)
        guard case .retryable = down else {
            Issue.record("expected retryable while Prometheus is down, got \(down)")
            return
        }
        try await prometheus.start()
        #expect(await exporter.export(batch) == .ok)
        await exporter.shutdown()
        let at3 = Double(t1 + 120_000) / 1000
        #expect(try await prometheus.query("queue_depth", at: at3) == [
            .init(metric: ["__name__": "queue_depth", "cluster": "test", "queue": "orders"], value: "6")
        ])
        #expect(try await prometheus.query("queue_oldest", at: at3).map(\.value) == ["1"])
        #expect(try await prometheus.query("queue_depth", at: Double(t1 + 60_000) / 1000).map(\.value) == ["5"])
    }
}
