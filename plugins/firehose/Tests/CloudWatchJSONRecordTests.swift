import FireflyPluginKitTesting
import FireflyModel
import FirehoseAdapter
import Foundation
import Testing

@Suite struct CloudWatchJSONRecordTests {
    let labels = [Label("FunctionName", "checkout"), Label("cloud.account.id", "123456789012"), Label("cloud.region", "us-east-1")]

    @Test func decodesEveryLineOfAMultiLineRecord() {
        let d = decodeRecord(Array("\(durationLine)\n\(invocationsLine)\n".utf8))
        #expect(d.points == [durationPoint, invocationsPoint])
        #expect(d.rejections == [])
        // No trailing newline, CRLF and blank lines are fine too.
        #expect(decodeRecord(Array("\n\(durationLine)\r\n\r\n  \n\(invocationsLine)".utf8)).points == [durationPoint, invocationsPoint])
    }

    @Test func keepsPercentilesSortedAndIgnoresOtherStatistics() {
        let line =
            #"{"namespace":"AWS/Lambda","metric_name":"Duration","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"p99.9":811.0,"max":812.5,"tm99":700.0,"p50":101.25,"IQM":99.5,"min":3.2,"TM(25%:75%)":98.0,"sum":1530.0,"PR(:300)":10.0,"count":12.0,"p99":790.1,"p95":600.5,"wm90":500.0},"unit":"Milliseconds"}"#
        let d = decodeRecord(Array(line.utf8))
        #expect(d.rejections == [])
        #expect(
            d.points == [
                MetricPoint(
                    name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "checkout", kind: .summary,
                    hasMinMax: true, isDelta: true, labels: [Label("FunctionName", "checkout")],
                    timeUnixNano: 1_700_000_000_000_000_000, count: 12, sum: 1530, min: 3.2, max: 812.5,
                    quantiles: [
                        Quantile(0, 3.2), Quantile(0.5, 101.25), Quantile(0.95, 600.5), Quantile(0.99, 790.1),
                        Quantile(0.999, 811.0), Quantile(1, 812.5),
                    ])
            ])
    }

    @Test func keepsUnicodeAndEscapedDimensionValues() {
        let line =
            #"{"namespace":"Shop\/Checkout","metric_name":"Latency","dimensions":{"Caf\u00e9":"cr\u00e8me \"br\u00fbl\u00e9e\" \\ ok","Stage":"prod-\ud83d\ude80","Région":"Zürich 東京"},"timestamp":1700000000000,"value":{"max":2,"min":1,"sum":3,"count":2},"unit":"Seconds"}"#
        let d = decodeRecord(Array(line.utf8))
        #expect(d.rejections == [])
        #expect(
            d.points == [
                MetricPoint(
                    name: "Latency", namespace: "Shop/Checkout", unit: "Seconds", kind: .summary, hasMinMax: true, isDelta: true,
                    labels: [Label("Café", "crème \"brûlée\" \\ ok"), Label("Région", "Zürich 東京"), Label("Stage", "prod-🚀")],
                    timeUnixNano: 1_700_000_000_000_000_000, count: 2, sum: 3, min: 1, max: 2,
                    quantiles: [Quantile(0, 1), Quantile(1, 2)])
            ])
    }

    @Test func findsEscapesAndSpecialBytesAtEveryOffsetOfAWord() {
        // The string scanner reads eight bytes at a time; put each kind of special byte at every
        // position of the first three words.
        let specials: [(json: String, text: String)] = [("\\\"", "\""), ("\\\\", "\\"), ("é", "é"), ("\\u00e9", "é"), ("🚀", "🚀")]
        for (json, text) in specials {
            for offset in 0..<24 {
                let pad = String(repeating: "a", count: offset)
                let line = #"{"namespace":"N","metric_name":"M","timestamp":0,"value":{"min":0,"max":0,"sum":0,"count":0},"dimensions":{"D":""#
                    + pad + json + "bcdefghijklmnop" + #""}}"#
                let d = decodeRecord(Array(line.utf8))
                #expect(d.points.first?.labels == [Label("D", pad + text + "bcdefghijklmnop")], "\(json) at \(offset)")
            }
        }
        for offset in 0..<24 {
            let line = #"{"namespace":"N","metric_name":"M","timestamp":0,"value":{"min":0,"max":0,"sum":0,"count":0},"dimensions":{"D":""#
                + String(repeating: "a", count: offset) + "\t" + "bcdefghijklmnop" + #""}}"#
            let d = decodeRecord(Array(line.utf8))
            #expect(d.rejections == [RecordRejection(.invalidJSON, record: 0, line: 1, detail: "unescaped control character in string at byte \(112 + offset)")])
        }
    }

    @Test func fillsMissingOptionalFields() {
        // No dimensions, unit, account, region or stream name: still one point, unit "None".
        let line = #"{"namespace":"Custom","metric_name":"Jobs","timestamp":1700000000000,"value":{"max":5,"min":0,"sum":7,"count":3}}"#
        let d = decodeRecord(Array(line.utf8))
        #expect(d.rejections == [])
        #expect(
            d.points == [
                MetricPoint(
                    name: "Jobs", namespace: "Custom", unit: "None", kind: .summary, hasMinMax: true, isDelta: true,
                    timeUnixNano: 1_700_000_000_000_000_000, count: 3, sum: 7, min: 0, max: 5,
                    quantiles: [Quantile(0, 0), Quantile(1, 5)])
            ])
        let nulls = #"{"namespace":"Custom","metric_name":"Jobs","dimensions":null,"unit":null,"region":null,"timestamp":1700000000000,"value":{"max":5,"min":0,"sum":7,"count":3}}"#
        #expect(decodeRecord(Array(nulls.utf8)).points == d.points)
        let empty = #"{"namespace":"Custom","metric_name":"Jobs","dimensions":{},"unit":"","timestamp":1700000000000,"value":{"max":5,"min":0,"sum":7,"count":3}}"#
        #expect(decodeRecord(Array(empty.utf8)).points == d.points)
    }

    @Test func rejectsBadLinesAndKeepsTheOthers() {
        let record = [
            durationLine,
            #"{"namespace":"AWS/Lambda","metric_name":"Duration","timestamp":1700000000000,"value":{"max":1,"min":1,"sum":1}}"#,
            #"{"namespace":"AWS/Lambda","metric_name":"Duration","timestamp":"soon","value":{"max":1,"min":1,"sum":1,"count":1}}"#,
            #"{"namespace":"AWS/Lambda","metric_name":"Duration","timestamp":1700000000000.5,"value":{"max":1,"min":1,"sum":1,"count":1}}"#,
            #"{"namespace":"AWS/Lambda","dimensions":{"FunctionName":7},"metric_name":"Duration","timestamp":1700000000000,"value":{"max":1,"min":1,"sum":1,"count":1}}"#,
            #"{"metric_name":"Duration","timestamp":1700000000000,"value":{"max":1,"min":1,"sum":1,"count":1}}"#,
            #"{"namespace":"AWS/Lambda","metric_name":"Duration","timestamp":1700000000000,"value":{"max":1,"min":1,"sum":1,"count":1}} x"#,
            #"[1, 2]"#,
            invocationsLine,
        ].joined(separator: "\n")
        let d = decodeRecord(Array(record.utf8), index: 4)
        #expect(d.points == [durationPoint, invocationsPoint])
        #expect(
            d.rejections == [
                RecordRejection(.missingField, record: 4, line: 2, detail: "value needs min, max, sum and count"),
                RecordRejection(.invalidField, record: 4, line: 3, detail: "timestamp is not a number"),
                RecordRejection(.invalidField, record: 4, line: 4, detail: "timestamp is not a whole number of milliseconds since 1970"),
                RecordRejection(.invalidField, record: 4, line: 5, detail: "dimension FunctionName is not a string"),
                RecordRejection(.missingField, record: 4, line: 6, detail: "namespace is missing"),
                RecordRejection(.invalidJSON, record: 4, line: 7, detail: "data after the JSON value at byte 122"),
                RecordRejection(.invalidJSON, record: 4, line: 8, detail: "unexpected character at byte 0"),
            ])
    }

    @Test func decodesTheSameRequestIntoIdenticalPoints() throws {
        // Firehose re-delivers a request with the same id; identical points make storage dedup it.
        let body = envelope(lines: [durationLine, invocationsLine], [invocationsLine.replacingOccurrences(of: "checkout", with: "pay")])
        let decoder = FirehoseRequestDecoder()
        let first = try decoder.decode(body: body)
        let second = try decoder.decode(body: body)
        #expect(first == second)
        #expect(first.points.count == 3)
        #expect(first.requestId == "req-1")
        #expect(first.timestamp == 1_700_000_065_123)
        #expect(first.recordCount == 2)
    }

    @Test func acceptsAnyNamespace() {
        let line = durationLine.replacingOccurrences(of: "AWS/Lambda", with: "AWS/SQS")
            .replacingOccurrences(of: "\"FunctionName\"", with: "\"QueueName\"")
        let point = decodeRecord(Array(line.utf8)).points.first
        #expect(point?.namespace == "AWS/SQS")
        #expect(point?.function == "")
        #expect(point?.labels.first == Label("QueueName", "checkout"))
    }

    @Test func decodesEnvelopesWithEscapedBase64AndUnknownFields() throws {
        // "\/" is a legal JSON escape of the base64 character "/".
        let raw = Data((durationLine + "\n").utf8).base64EncodedString()
        let escaped = raw.replacingOccurrences(of: "/", with: "\\/")
        let body = #" { "extra": [1, {"a": null}], "records" : [ {"data": ""#
            + escaped + #"", "note": true} ], "requestId": "r\u002d1", "timestamp": 1.7e12 } "#
        let d = try FirehoseRequestDecoder().decode(body: Array(body.utf8))
        #expect(d.requestId == "r-1")
        #expect(d.timestamp == 1_700_000_000_000)
        #expect(d.points == [durationPoint])
    }
}
