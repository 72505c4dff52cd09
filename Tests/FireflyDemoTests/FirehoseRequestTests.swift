import FireflyModel
import FirehoseAdapter
import Foundation
import Testing
@testable import FireflyDemo

@Suite struct FirehoseRequestTests {
    @Test func envelopeIsGzippedJSONWithBase64Records() throws {
        let records: [[UInt8]] = [Array("line one\n".utf8), [0x9B, 0x03, 0x0A, 0x00, 0xFF], []]
        let request = try FirehoseRequest(
            requestId: "ed4acda5-034f-4f42-bba1-f29aea6d7d8f", timestampMs: 1_700_000_065_123, records: records,
            sourceArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/demo", accessKey: "s3cr3t")
        let decoded = try #require(try PythonDecoder.run(PythonDecoder.envelope, input: request.body) as? [String: Any])
        #expect(decoded["requestId"] as? String == "ed4acda5-034f-4f42-bba1-f29aea6d7d8f")
        #expect(decoded["timestamp"] as? Int == 1_700_000_065_123)
        #expect(decoded["keys"] as? [String] == ["records", "requestId", "timestamp"])
        #expect(decoded["records"] as? [String] == ["6c696e65206f6e650a", "9b030a00ff", ""])
        let headers = Dictionary(uniqueKeysWithValues: request.headers.map { ($0.name, $0.value) })
        #expect(headers["Content-Encoding"] == "gzip")
        #expect(headers["Content-Type"] == "application/json")
        #expect(headers["X-Amz-Firehose-Protocol-Version"] == "1.0")
        #expect(headers["X-Amz-Firehose-Request-Id"] == "ed4acda5-034f-4f42-bba1-f29aea6d7d8f")
        #expect(headers["X-Amz-Firehose-Access-Key"] == "s3cr3t")
        #expect(headers["X-Amz-Firehose-Source-Arn"] == "arn:aws:firehose:us-east-1:123456789012:deliverystream/demo")
        #expect(request.uncompressedBytes == FirehoseRequest.envelope(requestId: request.requestId, timestampMs: 1_700_000_065_123, records: records).count)
    }

    @Test func noAccessKeyHeaderWithoutAKey() throws {
        let request = try FirehoseRequest(requestId: "r", timestampMs: 1, records: [], sourceArn: "a", accessKey: "")
        #expect(!request.headers.contains { $0.name == "X-Amz-Firehose-Access-Key" })
    }

    /// The firehose receiver's own decoder reads both streams of a demo minute back to the points.
    @Test func bothStreamFormatsDecodeToTheSamePointsInTheFirehoseAdapter() throws {
        var scenario = DemoScenario(functions: 4, tracesPerSecond: 20, seed: 7, formats: .both)
        let minute: UInt64 = 1_700_000_040_000
        let deliveries = try scenario.metricDeliveries(minuteStartMs: minute, nowMs: minute + 1234)
        #expect(deliveries.count == 2)
        var decodedPoints: [MetricPoint] = []
        for (request, count) in deliveries {
            let envelope = try Self.gunzip(request.body)
            let delivery = try FirehoseRequestDecoder().decode(body: envelope)
            #expect(delivery.rejections.isEmpty)
            #expect(delivery.points.count == count)
            #expect(delivery.requestId == request.requestId)
            decodedPoints += delivery.points
        }
        // Every function's Duration point decodes with min, p50, p90, p95, p99 and max as quantiles.
        for (i, fn) in scenario.topology.functions.enumerated() {
            let expected = scenario.metrics.points(function: i, minuteStartMs: minute, streamName: scenario.stream(of: i))
            let want = try #require(expected.first { $0.metricName == "Duration" })
            let got = try #require(decodedPoints.first { $0.function == fn.name && $0.name == "Duration" })
            #expect(got.kind == .summary)
            #expect(got.count == want.count)
            #expect(got.sum == want.sum)
            #expect(got.timeUnixNano == minute * 1_000_000 || got.timeUnixNano == (minute + 60_000) * 1_000_000)
            #expect(got.quantiles.map(\.quantile) == [0, 0.5, 0.9, 0.95, 0.99, 1])
            #expect(got.quantiles.map(\.value) == [want.min] + want.percentiles.map(\.value) + [want.max])
        }
        // Lambda Insights points keep their namespace; the function is in the `function_name` dimension.
        let insights = decodedPoints.filter { $0.namespace == "LambdaInsights" }
        let withInsights = scenario.topology.functions.filter(\.lambdaInsights).map(\.name)
        #expect(!withInsights.isEmpty)
        #expect(Set(insights.compactMap { p in p.labels.first { $0.key == "function_name" }?.value }) == Set(withInsights))
        #expect(Set(insights.map(\.name)).isSuperset(of: ["total_memory", "used_memory_max", "memory_utilization", "cpu_total_time"]))
    }

    /// zlib inflate, independent of the demo's deflate code path.
    static func gunzip(_ data: [UInt8]) throws -> [UInt8] {
        let out = try PythonDecoder.run(
            "import sys, gzip, json; print(json.dumps(list(gzip.decompress(sys.stdin.buffer.read()))))", input: data)
        return (out as? [Int] ?? []).map { UInt8($0) }
    }
}
