import FireflyModel
import Foundation
import Testing
@testable import FireflyDemo

@Suite struct MetricStreamEncoderTests {
    static let duration = CloudWatchDatapoint(
        metricStreamName: "firefly-demo-otel", accountID: "123456789012", region: "us-east-1",
        metricName: "Duration", dimensions: [("FunctionName", "checkout-api")], timestampMs: 1_700_000_040_000,
        min: 3.2, max: 812.5, sum: 1530, count: 12, percentiles: [("p50", 101.25), ("p90", 402.5), ("p99", 790.1)],
        unit: "Milliseconds")
    static let invocations = CloudWatchDatapoint(
        metricStreamName: "firefly-demo-otel", accountID: "123456789012", region: "us-east-1",
        metricName: "Invocations", dimensions: [("FunctionName", "checkout-api")], timestampMs: 1_700_000_040_000,
        min: 1, max: 1, sum: 12, count: 12, unit: "Count")

    @Test func jsonLineHasCloudWatchsShape() {
        #expect(
            CloudWatchJSONEncoder.line(Self.duration)
                == #"{"metric_stream_name":"firefly-demo-otel","account_id":"123456789012","region":"us-east-1","namespace":"AWS/Lambda","metric_name":"Duration","dimensions":{"FunctionName":"checkout-api"},"timestamp":1700000040000,"value":{"max":812.5,"min":3.2,"sum":1530.0,"count":12.0,"p50":101.25,"p90":402.5,"p99":790.1},"unit":"Milliseconds"}"#
        )
    }

    @Test func openTelemetryRecordDecodesWithTheOfficialProtobufClasses() throws {
        let record = MetricStreamOTelEncoder.record([
            MetricStreamOTelEncoder.request([Self.duration]), MetricStreamOTelEncoder.request([Self.invocations]),
        ])
        let points = try #require(try PythonDecoder.run(PythonDecoder.metricRecord, input: record) as? [[String: Any]])
        #expect(points.count == 2)
        let d = points[0]
        #expect(d["name"] as? String == "amazonaws.com/AWS/Lambda/Duration")
        #expect(d["unit"] as? String == "ms")
        #expect(d["field"] as? String == "summary")
        #expect(d["start"] as? String == "1700000040000000000")
        #expect(d["time"] as? String == "1700000100000000000")
        #expect(d["count"] as? Int == 12)
        #expect(d["sum"] as? Double == 1530)
        let quantiles = try #require(d["quantiles"] as? [[Double]])
        #expect(quantiles == [[0, 3.2], [0.5, 101.25], [0.9, 402.5], [0.99, 790.1], [1, 812.5]])
        let attributes = try #require(d["attributes"] as? [String: Any])
        #expect(attributes["Namespace"] as? String == "AWS/Lambda")
        #expect(attributes["MetricName"] as? String == "Duration")
        #expect(attributes["Dimensions"] as? [String: String] == ["FunctionName": "checkout-api"])
        let resource = try #require(d["resource"] as? [String: String])
        #expect(
            resource == [
                "cloud.provider": "aws", "cloud.account.id": "123456789012", "cloud.region": "us-east-1",
                "aws.exporter.arn": "arn:aws:cloudwatch:us-east-1:123456789012:metric-stream/firefly-demo-otel",
            ])
        #expect(points[1]["name"] as? String == "amazonaws.com/AWS/Lambda/Invocations")
        #expect(points[1]["unit"] as? String == "{Count}")
        #expect(points[1]["quantiles"] as? [[Double]] == [[0, 1], [1, 1]])
    }

    @Test func unitsFollowAWSsTranslation() {
        #expect(MetricStreamOTelEncoder.unit("Count/Second") == "{Count}/s")
        #expect(MetricStreamOTelEncoder.unit("Bytes") == "By")
        #expect(MetricStreamOTelEncoder.unit("None") == "1")
    }
}
