import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import FirehoseAdapter
import Foundation
import Synchronization

/// Files in plugins/firehose/testdata.
let testdata = TestData(besides: #filePath)

/// A Firehose delivery body as Firehose builds it.
func envelope(requestId: String = "req-1", timestamp: UInt64 = 1_700_000_065_123, records: [[UInt8]]) -> [UInt8] {
    let items = records.map { "{\"data\":\"\(Data($0).base64EncodedString())\"}" }
    return Array("{\"requestId\":\"\(requestId)\",\"timestamp\":\(timestamp),\"records\":[\(items.joined(separator: ","))]}".utf8)
}

func envelope(requestId: String = "req-1", lines: [String]...) -> [UInt8] {
    envelope(requestId: requestId, records: lines.map { Array(($0.joined(separator: "\n") + "\n").utf8) })
}

func firehoseRequest(
    _ body: [UInt8], requestId: String? = "req-1", accessKey: String? = nil, method: String = "POST",
    extraHeaders: [(name: String, value: String)] = []
) -> PluginRequest {
    var headers: [(name: String, value: String)] = [
        (name: "Content-Type", value: "application/json"), (name: "X-Amz-Firehose-Protocol-Version", value: "1.0"),
    ]
    if let requestId { headers.append((name: "X-Amz-Firehose-Request-Id", value: requestId)) }
    if let accessKey { headers.append((name: "X-Amz-Firehose-Access-Key", value: accessKey)) }
    return PluginRequest(method: method, path: "/firehose", headers: headers + extraHeaders, body: body)
}

/// 2023-11-14T22:14:30.5Z, the fixed "now" of adapter tests.
let fixedNowNano: UInt64 = 1_700_000_070_500_000_000
let fixedNowMs: UInt64 = 1_700_000_070_500

func makeAdapter(_ config: [String: JSONValue] = [:]) throws -> FirehoseAdapter {
    try FirehoseAdapter(
        context: .standalone(instanceName: "firehose"), config: PluginConfig(config), nowUnixNano: { fixedNowNano })
}

/// The Duration line of the spec's example record (wire-formats B.1).
let durationLine =
    #"{"metric_stream_name":"firefly","account_id":"123456789012","region":"us-east-1","namespace":"AWS/Lambda","metric_name":"Duration","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"max":812.5,"min":3.2,"sum":1530.0,"count":12.0,"p99":790.1},"unit":"Milliseconds"}"#
let invocationsLine =
    #"{"metric_stream_name":"firefly","account_id":"123456789012","region":"us-east-1","namespace":"AWS/Lambda","metric_name":"Invocations","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"max":1.0,"min":1.0,"sum":12.0,"count":12.0},"unit":"Count"}"#

let durationPoint = MetricPoint(
    name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "checkout", kind: .summary,
    hasMinMax: true, isDelta: true,
    labels: [Label("FunctionName", "checkout"), Label("cloud.account.id", "123456789012"), Label("cloud.region", "us-east-1")],
    timeUnixNano: 1_700_000_000_000_000_000, count: 12, sum: 1530, min: 3.2, max: 812.5,
    quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5)])
let invocationsPoint = MetricPoint(
    name: "Invocations", namespace: "AWS/Lambda", unit: "Count", function: "checkout", kind: .summary,
    hasMinMax: true, isDelta: true,
    labels: [Label("FunctionName", "checkout"), Label("cloud.account.id", "123456789012"), Label("cloud.region", "us-east-1")],
    timeUnixNano: 1_700_000_000_000_000_000, count: 12, sum: 12, min: 1, max: 1,
    quantiles: [Quantile(0, 1), Quantile(1, 1)])

/// Decodes one record's bytes with a fresh delivery.
func decodeRecord(_ bytes: [UInt8], format: RecordFormat = .auto, index: Int = 0) -> FirehoseDelivery {
    var delivery = FirehoseDelivery()
    var record = bytes
    FirehoseRequestDecoder(format: format).decodeRecord(&record, index: index, into: &delivery)
    return delivery
}
