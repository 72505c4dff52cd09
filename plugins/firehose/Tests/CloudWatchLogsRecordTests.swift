import FireflyBenchmarkKit
import FireflyModel
import FireflyPluginKit
import FireflyPluginKitTesting
@testable import FirehoseAdapter
import Foundation
import Testing

/// 2026-12-03T10:00:00Z, the first event of the fixtures (make_cwlogs_fixtures.py's T0), in ns.
private let t0: UInt64 = 1_796_292_000_000 * 1_000_000
private func ms(_ n: UInt64) -> UInt64 { t0 + n * 1_000_000 }
private func eventID(_ n: Int) -> String { "371900000000000000000000000000000000000000000000000000" + String(format: "%02d", n) }

private func decodeLogs(_ bytes: [UInt8], format: RecordFormat = .auto, index: Int = 0) -> FirehoseDelivery {
    var delivery = FirehoseDelivery()
    var record = bytes
    FirehoseRequestDecoder(format: format, observedTimeUnixNano: fixedNowNano).decodeRecord(&record, index: index, into: &delivery)
    return delivery
}

private let nodeGroup = "/aws/lambda/checkout"
private let nodeStream = "2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef"
private let nodeResource: [Attribute] = [
    Attribute("cloud.provider", .string("aws")), Attribute("cloud.platform", .string("aws_lambda")),
    Attribute("cloud.account.id", .string("123456789012")), Attribute("faas.name", .string("checkout")),
    Attribute("faas.version", .string("$LATEST")), Attribute("aws.log.group.names", .string(nodeGroup)),
    Attribute("aws.log.stream.names", .string(nodeStream)),
]
private let nodeInvocationAttributes: [Attribute] = [
    Attribute("cloud.account.id", .string("123456789012")), Attribute("aws.log.group.names", .string(nodeGroup)),
    Attribute("aws.log.stream.names", .string(nodeStream)),
]
private let pythonGroup = "/aws/lambda/us-east-1.resize"
private let pythonStream = "2026/12/03/[7]fedcba9876543210fedcba9876543210"
private let pythonResource: [Attribute] = [
    Attribute("cloud.provider", .string("aws")), Attribute("cloud.platform", .string("aws_lambda")),
    Attribute("cloud.account.id", .string("123456789012")), Attribute("faas.name", .string("resize")),
    Attribute("faas.version", .string("7")), Attribute("aws.log.group.names", .string(pythonGroup)),
    Attribute("aws.log.stream.names", .string(pythonStream)),
]
private let pythonInvocationAttributes: [Attribute] = [
    Attribute("cloud.account.id", .string("123456789012")), Attribute("aws.log.group.names", .string(pythonGroup)),
    Attribute("aws.log.stream.names", .string(pythonStream)),
]
private let reqA = "11111111-1111-4111-8111-111111111111"
private let reqB = "22222222-2222-4222-8222-222222222222"
private let reqC = "33333333-3333-4333-8333-333333333333"
private let reqD = "44444444-4444-4444-8444-444444444444"
private let reqE = "55555555-5555-4555-8555-555555555555"
private let reqF = "66666666-6666-4666-8666-666666666666"
private let nodeTrace = TraceID(hex: "5759e988bd862e3fe1be46a994272793")!
private let pythonTrace = TraceID(hex: "67891233abcdef012345678912345678")!

private func invocationID(_ id: String) -> [Attribute] { [Attribute("faas.invocation_id", .string(id))] }

private func nodeLog(
    _ n: Int, at offset: UInt64, _ severity: UInt8, _ text: String, _ body: String, request: String,
    trace: TraceID = .zero, span: SpanID = .zero, flags: UInt32 = 0
) -> LogRecord {
    LogRecord(
        timeUnixNano: ms(offset), observedTimeUnixNano: fixedNowNano, severityNumber: severity, severityText: text,
        body: .string(body), attributes: invocationID(request), resourceAttributes: nodeResource, traceID: trace, spanID: span,
        traceFlags: flags, function: "checkout", recordID: eventID(n))
}

@Suite struct CloudWatchLogsRecordTests {
    @Test func nodeTextRecordBecomesOneLogRecordPerEventAndOneInvocationPerReport() throws {
        let delivery = decodeLogs(try testdata.bytes("cwlogs_node_text.gz"))
        #expect(delivery.rejections == [])
        #expect(delivery.points == [])
        #expect(delivery.logs.map(\.recordID) == (1...12).map(eventID))

        let stack =
            "TypeError: Cannot read properties of undefined (reading 'id')\n    at charge (/var/task/index.js:10:20)\n"
            + "    at Runtime.handler (/var/task/index.js:3:9)"
        let report =
            "REPORT RequestId: \(reqA)\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
            + "Max Memory Used: 70 MB\tInit Duration: 200.12 ms\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\t"
            + "SegmentId: 53995c3f42cd8ad8\tSampled: true"
        let expected: [LogRecord] = [
            nodeLog(1, at: 0, 9, "INFO", "START RequestId: \(reqA) Version: $LATEST", request: reqA),
            nodeLog(2, at: 5, 9, "INFO", "charging order 42", request: reqA),
            nodeLog(3, at: 12, 9, "INFO", "END RequestId: \(reqA)", request: reqA),
            nodeLog(4, at: 12, 9, "INFO", report, request: reqA, trace: nodeTrace, span: SpanID(0x5399_5c3f_42cd_8ad8), flags: 1),
            nodeLog(5, at: 1000, 9, "INFO", "START RequestId: \(reqB) Version: $LATEST", request: reqB),
            nodeLog(6, at: 1500, 17, "ERROR", stack, request: reqB),
            nodeLog(7, at: 4000, 17, "ERROR", "2026-12-03T10:00:04.000Z \(reqB) Task timed out after 3.00 seconds", request: reqB),
            nodeLog(8, at: 4001, 9, "INFO", "END RequestId: \(reqB)", request: reqB),
            nodeLog(
                9, at: 4001, 17, "ERROR",
                "REPORT RequestId: \(reqB)\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
                    + "Max Memory Used: 90 MB\tStatus: timeout", request: reqB),
            nodeLog(10, at: 5000, 9, "INFO", "START RequestId: \(reqC) Version: $LATEST", request: reqC),
            nodeLog(11, at: 5100, 13, "WARN", "loading 2 GB into memory", request: reqC),
            nodeLog(
                12, at: 5900, 17, "ERROR",
                "REPORT RequestId: \(reqC)\tDuration: 900.50 ms\tBilled Duration: 901 ms\tMemory Size: 128 MB\t"
                    + "Max Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory", request: reqC),
        ]
        for (got, want) in zip(delivery.logs, expected) { #expect(got == want) }

        #expect(
            delivery.invocations == [
                Invocation(
                    function: "checkout", version: "$LATEST", requestID: reqA, startTimeUnixNano: ms(0), durationMs: 12.34,
                    billedDurationMs: 13, memorySizeMB: 128, maxMemoryUsedMB: 70, initDurationMs: 200.12, status: .success,
                    traceID: nodeTrace, attributes: nodeInvocationAttributes),
                Invocation(
                    function: "checkout", version: "$LATEST", requestID: reqB, startTimeUnixNano: ms(1000), durationMs: 3000,
                    billedDurationMs: 3000, memorySizeMB: 128, maxMemoryUsedMB: 90, status: .timeout,
                    attributes: nodeInvocationAttributes),
                Invocation(
                    function: "checkout", version: "$LATEST", requestID: reqC, startTimeUnixNano: ms(5000), durationMs: 900.5,
                    billedDurationMs: 901, memorySizeMB: 128, maxMemoryUsedMB: 128, status: .outOfMemory,
                    errorType: "Runtime.OutOfMemory", attributes: nodeInvocationAttributes),
            ])
        #expect(delivery.invocations.map(\.isColdStart) == [true, false, false])
    }

    @Test func pythonJSONRecordReadsApplicationAndPlatformRecords() throws {
        let delivery = decodeLogs(try testdata.bytes("cwlogs_python_json.gz"))
        #expect(delivery.rejections == [])
        #expect(delivery.logs.map(\.recordID) == (21...32).map(eventID))
        #expect(delivery.logs.allSatisfy { $0.function == "resize" && $0.resourceAttributes == pythonResource })
        #expect(delivery.logs.allSatisfy { $0.observedTimeUnixNano == fixedNowNano })
        #expect(delivery.logs.map(\.timeUnixNano) == [0, 300, 310, 320, 400, 401, 2000, 2100, 5000, 5001, 6000, 6700].map(ms))
        #expect(delivery.logs.map(\.severityNumber) == [9, 9, 9, 13, 9, 9, 9, 17, 17, 17, 9, 17])
        #expect(
            delivery.logs.map(\.severityText)
                == ["INFO", "INFO", "INFO", "WARNING", "INFO", "INFO", "INFO", "ERROR", "ERROR", "ERROR", "INFO", "ERROR"])
        #expect(
            delivery.logs.map { $0.attributes.first?.value }
                == [nil, .string(reqD), .string(reqD), .string(reqD), .string(reqD), .string(reqD), .string(reqE),
                    .string(reqE), .string(reqE), .string(reqE), .string(reqF), .string(reqF)])

        // Application records: the message is the body, a string or JSON text.
        #expect(delivery.logs[2].body == .string("resizing image.png"))
        #expect(delivery.logs[3].body == .json(#"{"width":4000,"height":3000,"note":"big"}"#))
        #expect(
            delivery.logs[7].attributes == [
                Attribute("faas.invocation_id", .string(reqE)), Attribute("exception.type", .string("ConnectionError")),
                Attribute("exception.message", .string("connection reset")),
                Attribute("exception.stacktrace", .string("  File \"/var/task/app.py\", line 8, in handler\n\n    fetch()\n")),
            ])
        #expect(delivery.logs[7].body == .string("upstream failed"))
        // Platform records: the record is the body, traced when `tracing` says so.
        #expect(
            delivery.logs[1].body
                == .json(
                    #"{"time":"2026-12-03T10:00:00.300Z","type":"platform.start","record":{"requestId":"\#(reqD)","version":"7","tracing":{"spanId":"1234567890abcdef","type":"X-Amzn-Trace-Id","value":"Root=1-67891233-abcdef012345678912345678;Parent=1234567890abcdef;Sampled=1"}}}"#
                ))
        #expect(delivery.logs[1].traceID == pythonTrace)
        #expect(delivery.logs[1].spanID == SpanID(0x1234_5678_90ab_cdef))
        #expect(delivery.logs[1].traceFlags == 1)
        #expect(delivery.logs[5].traceID == pythonTrace)
        #expect(delivery.logs[2].traceID == .zero)

        #expect(
            delivery.invocations == [
                Invocation(
                    function: "resize", version: "7", requestID: reqD, startTimeUnixNano: ms(300), durationMs: 98.76,
                    billedDurationMs: 99, memorySizeMB: 512, maxMemoryUsedMB: 80, initDurationMs: 295.5, status: .success,
                    traceID: pythonTrace, attributes: pythonInvocationAttributes),
                Invocation(
                    function: "resize", version: "7", requestID: reqE, startTimeUnixNano: ms(2000), durationMs: 3000,
                    billedDurationMs: 3000, memorySizeMB: 512, maxMemoryUsedMB: 100, status: .timeout,
                    attributes: pythonInvocationAttributes),
                Invocation(
                    function: "resize", version: "7", requestID: reqF, startTimeUnixNano: ms(6000), durationMs: 700.25,
                    billedDurationMs: 701, memorySizeMB: 512, maxMemoryUsedMB: 512, status: .outOfMemory,
                    errorType: "Runtime.OutOfMemory", attributes: pythonInvocationAttributes),
            ])
    }

    @Test func controlMessagesYieldNothing() throws {
        let delivery = decodeLogs(try testdata.bytes("cwlogs_control.gz"))
        #expect(delivery == FirehoseDelivery())
    }

    @Test func adapterEmitsLogsAndInvocationsAndAnswers200() throws {
        let sink = RecordingSink()
        let body = envelope(records: [
            try testdata.bytes("cwlogs_node_text.gz"), try testdata.bytes("cwlogs_control.gz"),
            try testdata.bytes("cwlogs_python_json.gz"), Array(durationLine.utf8),
        ])
        let response = try makeAdapter().handle(firehoseRequest(body), sink: sink)
        #expect(response.status == 200)
        let logs = sink.batches.flatMap(\.logs)
        let invocations = sink.batches.flatMap(\.invocations)
        #expect(sink.points == [durationPoint])
        #expect(logs.count == 24)
        #expect(invocations.map(\.requestID) == [reqA, reqB, reqC, reqD, reqE, reqF])
        #expect(invocations.map(\.status) == [.success, .timeout, .outOfMemory, .success, .timeout, .outOfMemory])
        #expect(logs.allSatisfy { $0.observedTimeUnixNano == fixedNowNano })
    }

    @Test func logsOfATracedInvocationGetItsTraceIDOnceTheDeliveryIsDecoded() throws {
        let body = envelope(records: [try testdata.bytes("cwlogs_node_text.gz"), try testdata.bytes("cwlogs_python_json.gz")])
        let delivery = try FirehoseRequestDecoder().decode(body: body)
        // Request A (events 1–4) and request D (events 22–26) were traced; the others were not.
        #expect(delivery.logs.map(\.traceID) == Array(repeating: nodeTrace, count: 4) + Array(repeating: .zero, count: 8)
            + [.zero] + Array(repeating: pythonTrace, count: 5) + Array(repeating: .zero, count: 6))
        // Only the trace id: the span of the REPORT line stays its own.
        #expect(delivery.logs[1].spanID == .zero)
    }

    @Test func adapterSplitsLogsIntoBatchesOfMaxPointsPerEmit() throws {
        let sink = RecordingSink()
        let adapter = try makeAdapter(["max_points_per_emit": .number(5)])
        let response = adapter.handle(firehoseRequest(envelope(records: [try testdata.bytes("cwlogs_node_text.gz")])), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.map(\.logs.count) == [5, 5, 2])
        #expect(sink.batches.map(\.invocations.count) == [3, 0, 0])
    }

    @Test func startInAnEarlierRecordOfTheSameDeliveryGivesTheStartTime() throws {
        let start = uncompressed(events: [(1, 1000, "START RequestId: r-1 Version: 3\n")])
        let report = uncompressed(events: [
            (2, 1500, "REPORT RequestId: r-1\tDuration: 100.00 ms\tBilled Duration: 100 ms\tMemory Size: 256 MB\tMax Memory Used: 20 MB\t\n")
        ])
        let delivery = try FirehoseRequestDecoder().decode(body: envelope(records: [start, report]))
        #expect(delivery.invocations.map(\.startTimeUnixNano) == [1000 * 1_000_000])
        // Without the START the report's time less its duration stands in.
        let alone = decodeLogs(report)
        #expect(alone.invocations.map(\.startTimeUnixNano) == [1400 * 1_000_000])
        #expect(alone.invocations.map(\.version) == ["$LATEST"])
    }

    @Test func pythonTextFormatIsUnderstood() {
        let delivery = decodeLogs(
            uncompressed(events: [
                (1, 1, "[ERROR]\t2026-12-03T10:00:00.001Z\tr-9\tboom\nTraceback (most recent call last):\n  File \"x.py\"\n"),
                (2, 2, "[WARNING]\t2026-12-03T10:00:00.002Z\tr-9\tslow\n"),
                (3, 3, "plain print output\n"),
            ]))
        #expect(delivery.logs.map(\.severityNumber) == [17, 13, 0])
        #expect(delivery.logs.map(\.severityText) == ["ERROR", "WARNING", ""])
        #expect(
            delivery.logs.map(\.body) == [
                .string("boom\nTraceback (most recent call last):\n  File \"x.py\""), .string("slow"), .string("plain print output"),
            ])
        #expect(delivery.logs.map(\.attributes) == [invocationID("r-9"), invocationID("r-9"), []])
    }

    @Test func benchmarkBodyDecodesToEveryEventAndInvocation() throws {
        let body = FirehoseDecodeBenchmark.makeLogsBody(records: 2, invocationsPerRecord: 3)
        let delivery = try FirehoseRequestDecoder().decode(body: body)
        #expect(delivery.rejections == [])
        #expect(delivery.logs.count == 36)
        #expect(Array(delivery.logs.map(\.severityNumber).prefix(6)) == [9, 9, 9, 13, 9, 9])
        #expect(delivery.invocations.map(\.function) == ["function-0", "function-0", "function-0", "function-1", "function-1", "function-1"])
        #expect(delivery.invocations.map(\.durationMs) == [10.25, 11.25, 12.25, 10.25, 11.25, 12.25])
        #expect(Set(delivery.logs.map(\.recordID)).count == 36)
    }

    @Test func aLineNamingNoRequestBelongsToTheInvocationItsStreamIsIn() {
        let delivery = decodeLogs(
            uncompressed(events: [
                (1, 1, "before any invocation\n"), (2, 2, "START RequestId: r-1 Version: $LATEST\n"), (3, 3, "print output\n"),
                (4, 4, "END RequestId: r-1\n"), (5, 5, "between invocations\n"),
                (6, 6, #"{"time":"t","type":"platform.start","record":{"requestId":"r-2"}}"#), (7, 7, #"{"message":"json, no id"}"#),
                (8, 8, #"{"time":"t","type":"platform.report","record":{"requestId":"r-2","metrics":{"durationMs":1}}}"#),
                (9, 9, "after\n"),
            ]))
        #expect(
            delivery.logs.map(\.attributes) == [
                [], invocationID("r-1"), invocationID("r-1"), invocationID("r-1"), [], invocationID("r-2"), invocationID("r-2"),
                invocationID("r-2"), [],
            ])
    }

    @Test func functionAndVersionComeFromLogGroupAndStream() {
        #expect(CloudWatchLogsDecoder.function(logGroup: "/aws/lambda/my-fn") == "my-fn")
        #expect(CloudWatchLogsDecoder.function(logGroup: "/aws/lambda/us-east-1.my-fn") == "my-fn")
        #expect(CloudWatchLogsDecoder.function(logGroup: "/ecs/web") == "")
        #expect(CloudWatchLogsDecoder.version(logStream: "2026/12/03/[$LATEST]abcdef") == "$LATEST")
        #expect(CloudWatchLogsDecoder.version(logStream: "2026/12/03/[7]abcdef") == "7")
        #expect(CloudWatchLogsDecoder.version(logStream: "web/abc") == "")
    }

    @Test func aLogGroupOfNoFunctionStillGivesLogRecords() {
        let delivery = decodeLogs(uncompressed(logGroup: "/ecs/web", logStream: "web/1", events: [(1, 7, "GET / 200")]))
        #expect(
            delivery.logs == [
                LogRecord(
                    timeUnixNano: 7_000_000, observedTimeUnixNano: fixedNowNano, body: .string("GET / 200"),
                    resourceAttributes: [
                        Attribute("cloud.provider", .string("aws")), Attribute("cloud.account.id", .string("123456789012")),
                        Attribute("aws.log.group.names", .string("/ecs/web")), Attribute("aws.log.stream.names", .string("web/1")),
                    ], recordID: "e1")
            ])
    }
}

/// A CloudWatch Logs document without gzip (what Firehose's decompression option delivers).
func uncompressed(
    messageType: String = "DATA_MESSAGE", logGroup: String = "/aws/lambda/fn", logStream: String = "2026/12/03/[$LATEST]ab",
    events: [(id: Int, timestamp: UInt64, message: String)]
) -> [UInt8] {
    let items = events.map { e -> [String: Any] in ["id": "e\(e.id)", "timestamp": e.timestamp, "message": e.message] }
    let doc: [String: Any] = [
        "messageType": messageType, "owner": "123456789012", "logGroup": logGroup, "logStream": logStream,
        "subscriptionFilters": ["f"], "logEvents": items,
    ]
    // messageType first, as CloudWatch writes it (the record format detection relies on it).
    let rest = try! JSONSerialization.data(withJSONObject: doc.filter { $0.key != "messageType" }, options: [.sortedKeys])
    return Array("{\"messageType\":\"\(messageType)\",".utf8) + Array(rest.dropFirst())
}
