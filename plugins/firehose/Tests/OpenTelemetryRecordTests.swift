import FireflyPluginKitTesting
import FireflyModel
import FirehoseAdapter
import Foundation
import Testing

/// OpenTelemetry records built by testdata/make_otel_fixtures.py with the official protobuf classes.
@Suite struct OpenTelemetryRecordTests {
    /// The points the fixture description (otel_fixtures.json) says a file holds.
    func expectedPoints(_ file: String) throws -> [MetricPoint] {
        let json = try JSONSerialization.jsonObject(with: Data(testdata.bytes("otel_fixtures.json"))) as! [String: Any]
        let entry = json[file] as! [String: Any]
        return (entry["points"] as! [[String: Any]]).map { p in
            let dims = (p["dimensions"] as! [String: String]).map { Label($0.key, $0.value) }
            let quantiles = (p["quantiles"] as! [[Double]]).map { Quantile($0[0], $0[1]) }
            return MetricPoint(
                name: p["metricName"] as! String, namespace: p["namespace"] as! String,
                unit: p["cloudWatchUnit"] as! String, function: dims.first { $0.key == "FunctionName" }?.value ?? "",
                kind: .summary, hasMinMax: true, isDelta: true,
                labels: dims + [Label("cloud.account.id", p["accountId"] as! String), Label("cloud.region", p["region"] as! String)],
                startTimeUnixNano: (p["startTimeUnixNano"] as! NSNumber).uint64Value,
                timeUnixNano: (p["timeUnixNano"] as! NSNumber).uint64Value,
                count: (p["count"] as! NSNumber).doubleValue, sum: (p["sum"] as! NSNumber).doubleValue,
                min: quantiles.first!.value, max: quantiles.last!.value, quantiles: quantiles)
        }
    }

    @Test func decodesTwoMessagesInOneRecord() throws {
        let d = decodeRecord(try testdata.bytes("otel1_lambda_two_messages.bin"))
        #expect(d.rejections == [])
        #expect(d.points == (try expectedPoints("otel1_lambda_two_messages.bin")))
        // Spelled out once, independently of the description file.
        #expect(
            d.points.first
                == MetricPoint(
                    name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "checkout", kind: .summary,
                    hasMinMax: true, isDelta: true,
                    labels: [Label("FunctionName", "checkout"), Label("cloud.account.id", "123456789012"), Label("cloud.region", "us-east-1")],
                    startTimeUnixNano: 1_700_000_000_000_000_000, timeUnixNano: 1_700_000_060_000_000_000,
                    count: 12, sum: 1530, min: 3.2, max: 812.5,
                    quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5)]))
        #expect(d.points.map(\.unit) == ["Milliseconds", "Count"])
    }

    @Test func decodesCustomNamespacesUnicodeAndUnorderedQuantiles() throws {
        let d = decodeRecord(try testdata.bytes("otel1_custom_namespace.bin"))
        #expect(d.rejections == [])
        let expected = try expectedPoints("otel1_custom_namespace.bin")
        #expect(d.points == expected)
        #expect(d.points.map(\.unit) == ["Microseconds", "Bytes/Second"])
        #expect(d.points[0].labels.first { $0.key == "Stage" }?.value == "prod-🚀")
        #expect(d.points[0].quantiles.map(\.quantile) == [0, 0.5, 0.999, 1])
    }

    @Test func readsOpenTelemetry07FlatLabels() throws {
        let d = decodeRecord(try testdata.bytes("otel07_lambda.bin"))
        #expect(d.rejections == [])
        #expect(d.points == (try expectedPoints("otel07_lambda.bin")))
        #expect(d.points.first?.name == "Errors")
        #expect(d.points.first?.labels.map(\.key) == ["ExecutedVersion", "FunctionName", "cloud.account.id", "cloud.region"])
    }

    @Test func rejectsATruncatedRecordAsAWhole() throws {
        let d = decodeRecord(try testdata.bytes("otel1_truncated.bin"), index: 2)
        #expect(d.points == [])
        // 864 bytes cut to 854: the second message's length (440, prefix at byte 422) overruns.
        #expect(d.rejections == [RecordRejection(.truncatedFraming, record: 2, detail: "truncated protobuf at byte 422")])
    }

    @Test func rejectsCorruptProtobufInsideValidFraming() throws {
        var bytes = try testdata.bytes("otel1_custom_namespace.bin")
        // length 9c 05 | resource_metrics 0a 99 05 | resource 0a b1 01: the Resource's tag becomes
        // field 1 with wire type 7.
        #expect(Array(bytes[0..<6]) == [0x9C, 0x05, 0x0A, 0x99, 0x05, 0x0A])
        bytes[5] = 0x0F
        let d = decodeRecord(bytes, index: 1)
        #expect(d.points == [])
        #expect(d.rejections == [RecordRejection(.invalidProtobuf, record: 1, detail: "unsupported wire type 7 at byte 5")])
    }

    @Test func detectsTheFormatOfEachRecordInAutoMode() throws {
        let otel = try testdata.bytes("otel1_lambda_two_messages.bin")
        let body = envelope(records: [otel, Array((durationLine + "\n").utf8)])
        let d = try FirehoseRequestDecoder(format: .auto).decode(body: body)
        #expect(d.rejections == [])
        #expect(d.points.map(\.name) == ["Duration", "Invocations", "Duration"])
        #expect(d.points.map(\.startTimeUnixNano) == [1_700_000_000_000_000_000, 1_700_000_000_000_000_000, 0])
    }

    @Test func tellsA123ByteMessageFromJSON() throws {
        // A 123-byte message has the length prefix 0x7B, which is "{".
        var message: [UInt8] = [0x0A, 121]
        message += [0x0A, 119] + [UInt8](repeating: 0, count: 119)  // resource_metrics { resource { … zeros … } }
        #expect(message.count == 123)
        let d = decodeRecord([0x7B] + message)
        // Zero bytes are not valid fields: auto detection chose protobuf, the protobuf is refused.
        #expect(d.rejections.map(\.reason) == [.invalidProtobuf])
    }

    @Test func honoursAFixedRecordFormat() throws {
        let otel = try testdata.bytes("otel1_lambda_two_messages.bin")
        let asJSON = decodeRecord(otel, format: .json)
        #expect(asJSON.points == [])
        #expect(!asJSON.rejections.isEmpty)
        #expect(Set(asJSON.rejections.map(\.reason)) == [.invalidJSON])
        #expect(decodeRecord(Array(durationLine.utf8), format: .openTelemetry).rejections.map(\.reason) == [.truncatedFraming])
        #expect(decodeRecord(otel, format: .openTelemetry).points.count == 2)
    }
}
