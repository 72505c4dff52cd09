// OTLP logs: ExportLogsServiceRequest in protobuf and OTLP/JSON, partial success, hostile input, and
// Lambda platform reports becoming invocations.
import FireflyPluginKitTesting
import FireflyModel
import FireflyWire
import FireflyPluginKit
import Foundation
import GRPCCore
import Testing

@testable import OTLPAdapter

/// Builds ExportLogsServiceRequest bytes with the plugin's own protobuf writer.
enum LogsRequest {
    static let traceIDHex = "5b8efff798038103d269b633813fc60c"
    static let spanIDHex = "eee19b7ec3c1b174"

    /// One ResourceLogs with `resource` string attributes and one ScopeLogs holding `records`.
    static func proto(
        resource: [(String, String)] = [("service.name", "checkout-svc"), ("faas.name", "checkout")],
        scope: (String, String) = ("checkout.handler", "1.2.0"), records: [(inout ProtobufWriter) -> Void]
    ) -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { rl in
            rl.message(1) { r in
                for (k, v) in resource { stringAttribute(&r, 1, k, v) }
            }
            rl.message(2) { sl in
                sl.message(1) { s in
                    s.stringField(1, scope.0)
                    s.stringField(2, scope.1)
                }
                for record in records { sl.message(2, record) }
            }
        }
        return w.bytes
    }

    static func stringAttribute(_ w: inout ProtobufWriter, _ field: UInt32, _ key: String, _ value: String) {
        w.message(field) { kv in
            kv.stringField(1, key)
            kv.message(2) { $0.stringField(1, value) }
        }
    }

    /// A log record with every field OTLP defines set.
    static func fullRecord(_ log: inout ProtobufWriter) {
        log.fixed64Field(1, 1_700_000_000_123_456_789)
        log.varintField(2, 17)
        log.stringField(3, "ERROR")
        log.message(5) { $0.stringField(1, "card declined") }
        stringAttribute(&log, 6, "code.function", "charge")
        log.message(6) { kv in
            kv.stringField(1, "attempt")
            kv.message(2) { $0.varintField(3, 2) }
        }
        log.message(6) { kv in
            kv.stringField(1, "card")
            kv.message(2) { v in
                v.message(6) { list in
                    list.message(1) { e in
                        e.stringField(1, "brand")
                        e.message(2) { $0.stringField(1, "visa") }
                    }
                }
            }
        }
        log.varintField(7, 3)  // dropped_attributes_count
        log.tag(8, .fixed32)
        log.bytes += [0x01, 0x03, 0x00, 0x00]  // flags 0x301: sampled (low 8 bits) + higher bits
        log.bytesField(9, hex(traceIDHex))
        log.bytesField(10, hex(spanIDHex))
        log.fixed64Field(11, 1_700_000_000_223_456_789)
        log.stringField(12, "payment.failed")
    }

    /// `fullRecord` as OTLP/JSON (hex ids, 64-bit integers as strings, the severity as its enum name).
    static let fullRecordJSON = #"""
        {"resourceLogs":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"checkout-svc"}},
            {"key":"faas.name","value":{"stringValue":"checkout"}}]},
          "scopeLogs":[{"scope":{"name":"checkout.handler","version":"1.2.0"},
            "logRecords":[{"timeUnixNano":"1700000000123456789","observedTimeUnixNano":"1700000000223456789",
              "severityNumber":"SEVERITY_NUMBER_ERROR","severityText":"ERROR","body":{"stringValue":"card declined"},
              "attributes":[{"key":"code.function","value":{"stringValue":"charge"}},
                {"key":"attempt","value":{"intValue":"2"}},
                {"key":"card","value":{"kvlistValue":{"values":[{"key":"brand","value":{"stringValue":"visa"}}]}}}],
              "droppedAttributesCount":3,"flags":769,
              "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","eventName":"payment.failed"}]}]}]}
        """#

    static let expectedFullRecord = LogRecord(
        timeUnixNano: 1_700_000_000_123_456_789, observedTimeUnixNano: 1_700_000_000_223_456_789, severityNumber: 17,
        severityText: "ERROR", body: .string("card declined"),
        attributes: [
            Attribute("code.function", .string("charge")), Attribute("attempt", .int(2)),
            Attribute("card", .json(#"{"brand":"visa"}"#)), Attribute("event.name", .string("payment.failed")),
        ],
        resourceAttributes: [Attribute("service.name", .string("checkout-svc")), Attribute("faas.name", .string("checkout"))],
        traceID: TraceID(hex: traceIDHex)!, spanID: SpanID(hex: spanIDHex)!, traceFlags: 1, function: "checkout",
        service: "checkout-svc", scopeName: "checkout.handler", scopeVersion: "1.2.0", recordID: "")
}

@Suite struct LogsDecodingTests {
    @Test func aProtobufLogRecordKeepsEveryField() throws {
        let outcome = try OTLPAdapter.decode(LogsRequest.proto(records: [LogsRequest.fullRecord]), signal: .logs, encoding: .protobuf)
        #expect(outcome.rejected == 0)
        #expect(outcome.batch.logs == [LogsRequest.expectedFullRecord])
        #expect(outcome.batch.invocations.isEmpty)
        #expect(outcome.batch.spans.isEmpty && outcome.batch.points.isEmpty)
    }

    @Test func theSameRecordInOTLPJSONDecodesIdentically() throws {
        let outcome = try OTLPAdapter.decode(Array(LogsRequest.fullRecordJSON.utf8), signal: .logs, encoding: .json)
        #expect(outcome.rejected == 0)
        #expect(outcome.batch.logs == [LogsRequest.expectedFullRecord])
    }

    @Test func bodiesKeepScalarTypesAndStructuredOnesBecomeJSON() throws {
        let bodies: [((inout ProtobufWriter) -> Void, AttributeValue)] = [
            ({ $0.stringField(1, "text") }, .string("text")),
            ({ $0.varintField(2, 1) }, .bool(true)),
            ({ $0.varintField(3, UInt64(bitPattern: -42)) }, .int(-42)),
            ({ $0.doubleField(4, 2.5) }, .double(2.5)),
            ({ $0.bytesField(7, [0xDE, 0xAD] as [UInt8]) }, .bytes([0xDE, 0xAD])),
            (
                { v in
                    v.message(5) { a in
                        a.message(1) { $0.varintField(3, 1) }
                        a.message(1) { $0.stringField(1, "x") }
                    }
                }, .json(#"[1,"x"]"#)
            ),
            (
                { v in
                    v.message(6) { l in
                        l.message(1) { e in
                            e.stringField(1, "k")
                            e.message(2) { $0.varintField(2, 0) }
                        }
                    }
                }, .json(#"{"k":false}"#)
            ),
            ({ _ in }, .string("")),  // an AnyValue with no value set: like no body
        ]
        for (write, expected) in bodies {
            let body = LogsRequest.proto(records: [{ $0.message(5, write) }])
            let outcome = try OTLPAdapter.decode(body, signal: .logs, encoding: .protobuf)
            #expect(outcome.batch.logs.map(\.body) == [expected])
        }
        // No body at all: the empty string.
        let none = try OTLPAdapter.decode(LogsRequest.proto(records: [{ $0.varintField(2, 9) }]), signal: .logs, encoding: .protobuf)
        #expect(none.batch.logs.map(\.body) == [.string("")])
        #expect(none.batch.logs.map(\.traceID) == [.zero])
        #expect(none.batch.logs.map(\.spanID) == [.zero])
    }

    @Test func jsonBodiesFollowTheSameRules() throws {
        func body(_ value: String) throws -> AttributeValue? {
            let json = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":\#(value)}]}]}]}"#
            return try OTLPAdapter.decode(Array(json.utf8), signal: .logs, encoding: .json).batch.logs.first?.body
        }
        #expect(try body(#"{"intValue":"9007199254740993"}"#) == .int(9_007_199_254_740_993))
        #expect(try body(#"{"doubleValue":"NaN"}"#).map { if case .double(let d) = $0 { d.isNaN } else { false } } == true)
        #expect(try body(#"{"arrayValue":{"values":[{"boolValue":true}]}}"#) == .json("[true]"))
        #expect(try body(#"{"bytesValue":"3q0="}"#) == .bytes([0xDE, 0xAD]))
    }

    @Test func severityOutsideTheDefinedRangeIsUnspecified() throws {
        let outcome = try OTLPAdapter.decode(
            LogsRequest.proto(records: [{ $0.varintField(2, 25) }, { $0.varintField(2, 24) }, { $0.varintField(2, 1) }]),
            signal: .logs, encoding: .protobuf)
        #expect(outcome.batch.logs.map(\.severityNumber) == [0, 24, 1])
        let json = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN3"},{"severityNumber":13}]}]}]}"#
        #expect(try OTLPAdapter.decode(Array(json.utf8), signal: .logs, encoding: .json).batch.logs.map(\.severityNumber) == [15, 13])
    }

    @Test func theFunctionComesFromLogAttributesThenTheResource() throws {
        let outcome = try OTLPAdapter.decode(
            LogsRequest.proto(
                resource: [("service.name", "svc")],
                records: [{ LogsRequest.stringAttribute(&$0, 6, "faas.name", "from-record") }, { $0.varintField(2, 9) }]),
            signal: .logs, encoding: .protobuf)
        #expect(outcome.batch.logs.map(\.function) == ["from-record", "svc"])
        #expect(outcome.batch.logs.map(\.service) == ["svc", "svc"])
    }

    @Test func theResourceMayFollowItsScopes() throws {
        var w = ProtobufWriter()
        w.message(1) { rl in
            rl.message(2) { sl in sl.message(2) { $0.varintField(2, 9) } }
            rl.message(1) { LogsRequest.stringAttribute(&$0, 1, "service.name", "late") }
        }
        let outcome = try OTLPAdapter.decode(w.bytes, signal: .logs, encoding: .protobuf)
        #expect(outcome.batch.logs.map(\.service) == ["late"])
    }

    @Test func idsOfTheWrongLengthRejectTheRecordAsPartialSuccess() throws {
        let body = LogsRequest.proto(records: [
            { $0.bytesField(9, [1, 2, 3] as [UInt8]) },
            LogsRequest.fullRecord,
            { log in
                log.bytesField(9, hex(LogsRequest.traceIDHex))
                log.bytesField(10, [1, 2, 3, 4, 5, 6, 7, 8, 9] as [UInt8])
            },
        ])
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/logs", body), sink: sink)
        #expect(response.status == 200)
        let message = "2 rejected; first problem: a log record has an invalid trace_id"
        // ExportLogsServiceResponse{partial_success (1) {rejected_log_records (1): 2, error_message (2)}}
        let inner: [UInt8] = [0x08, 0x02, 0x12, UInt8(message.utf8.count)] + Array(message.utf8)
        #expect(response.body == [0x0A, UInt8(inner.count)] + inner)
        #expect(sink.batches.first?.logs == [LogsRequest.expectedFullRecord])

        let json = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"abcd"},{"spanId":"zz"},{"traceId":"","spanId":""}]}]}]}"#
        let jsonSink = RecordingSink()
        let jsonResponse = try makeAdapter().handle(post("/v1/logs", Array(json.utf8), contentType: "application/json"), sink: jsonSink)
        #expect(jsonResponse.status == 200)
        #expect(
            jsonResponse.text
                == #"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"2 rejected; first problem: a log record has an invalid trace_id"}}"#
        )
        #expect(jsonSink.batches.first?.logs.count == 1)
    }

    @Test func logsAreEmittedAndAcknowledgedOverHTTP() throws {
        let sink = RecordingSink()
        let pb = try makeAdapter().handle(post("/v1/logs", LogsRequest.proto(records: [LogsRequest.fullRecord])), sink: sink)
        #expect(pb.status == 200 && pb.body.isEmpty)
        let json = try makeAdapter().handle(
            post("/v1/logs", Array(LogsRequest.fullRecordJSON.utf8), contentType: "application/json"), sink: sink)
        #expect(json.status == 200 && json.text == "{}")
        #expect(sink.batches.map(\.logs) == [[LogsRequest.expectedFullRecord], [LogsRequest.expectedFullRecord]])
    }

    @Test func aFullQueueAnswers503ForLogsToo() throws {
        let response = try makeAdapter().handle(
            post("/v1/logs", LogsRequest.proto(records: [LogsRequest.fullRecord])),
            sink: RecordingSink(answer: .busy(retryAfterMilliseconds: 2500)))
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "3")
        #expect(response.body == rpcStatusBytes(code: 14, message: "the collector's queue is full; retry later"))
    }
}

@Suite struct LogsHostileInputTests {
    func answer(_ body: [UInt8], contentType: String = "application/x-protobuf") throws -> (PluginResponse, RecordingSink) {
        let sink = RecordingSink()
        return (try makeAdapter().handle(post("/v1/logs", body, contentType: contentType), sink: sink), sink)
    }

    @Test func everyTruncationOfAValidRequestIsA400() throws {
        let body = LogsRequest.proto(records: [LogsRequest.fullRecord, LogsRequest.fullRecord])
        var refused = 0
        for n in 1..<body.count {
            let (response, sink) = try answer(Array(body.prefix(n)))
            if response.status == 400 {
                refused += 1
                #expect(response.text.contains("cannot decode ExportLogsServiceRequest (protobuf): "))
                #expect(response.body.starts(with: [0x08, 0x03, 0x12]))  // google.rpc.Status{code: 3 INVALID_ARGUMENT, message}
                #expect(sink.batches.isEmpty)
            } else {
                #expect(response.status == 200, "prefix of \(n) bytes answered \(response.status)")
            }
        }
        // The request is one length-delimited ResourceLogs: every proper prefix is cut inside it.
        #expect(refused == body.count - 1)
    }

    @Test func wrongWireTypesAndGarbageAre400() throws {
        let cases: [[UInt8]] = [
            [0x0B],  // field 1, wire type 3 (start group)
            LogsRequest.proto(records: [{ $0.bytes += [0x0E] }]),  // field 1 wire type 6 inside a log record
            [0x0A, 0x05, 0x12, 0x10],  // length past the end
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // varint over 64 bits
        ]
        for body in cases {
            let (response, sink) = try answer(body)
            #expect(response.status == 400, "\(body)")
            #expect(response.text.contains("cannot decode ExportLogsServiceRequest (protobuf)"))
            #expect(sink.batches.isEmpty)
        }
        // A known field with an unexpected wire type is skipped, as for spans: severity_number as a string.
        let skipped = try OTLPAdapter.decode(LogsRequest.proto(records: [{ $0.stringField(2, "ERROR") }]), signal: .logs, encoding: .protobuf)
        #expect(skipped.batch.logs.map(\.severityNumber) == [0])
    }

    @Test func jsonOfTheWrongShapeIs400() throws {
        let cases = [
            (#"{"resourceLogs":{}}"#, "resourceLogs: expected an array"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":5}]}]}]}"#, "severityText: expected a string"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}"#, "timeUnixNano: 'soon' is not an unsigned 64-bit integer"),
        ]
        for (json, problem) in cases {
            let (response, sink) = try answer(Array(json.utf8), contentType: "application/json")
            #expect(response.status == 400)
            #expect(response.text == #"{"code":3,"message":"cannot decode ExportLogsServiceRequest (JSON): \#(problem)"}"#)
            #expect(sink.batches.isEmpty)
        }
    }

    @Test func aLogRecordOverTheAttributeLimitIsRefused() throws {
        let limit = ProtoCommon.maxAttributesPerItem
        func record(_ attributes: Int) -> (inout ProtobufWriter) -> Void {
            { log in for a in 0..<attributes { LogsRequest.stringAttribute(&log, 6, "key.\(a)", "v") } }
        }
        let message = "an item has more than 128 attributes (the limit per resource, span, event, link, data point or log record)"
        let (over, sink) = try answer(LogsRequest.proto(records: [record(limit + 1)]))
        #expect(over.status == 400)
        #expect(over.text.contains(message))
        #expect(sink.batches.isEmpty)
        let attrs = (0...limit).map { #"{"key":"k\#($0)","value":{"boolValue":true}}"# }.joined(separator: ",")
        let (overJSON, _) = try answer(
            Array(#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[\#(attrs)]}]}]}]}"#.utf8), contentType: "application/json")
        #expect(overJSON.status == 400 && overJSON.text.contains(message))
        let (atLimit, okSink) = try answer(LogsRequest.proto(records: [record(limit)]))
        #expect(atLimit.status == 200)
        #expect(okSink.batches.first?.logs.first?.attributes.count == limit)
    }

    @Test func deeplyNestedBodiesAreRefused() throws {
        var value = ProtobufWriter()
        value.stringField(1, "leaf")
        for _ in 0..<40 {
            var outer = ProtobufWriter()
            outer.message(5) { $0.message(1) { $0.bytes += value.bytes } }
            value = outer
        }
        let nested = value.bytes
        let (response, sink) = try answer(LogsRequest.proto(records: [{ $0.bytesField(5, nested) }]))
        #expect(response.status == 400)
        #expect(response.text.contains("nested deeper than 32"))
        #expect(sink.batches.isEmpty)
    }

    @Test func aHostileStringBodyThatLooksLikeAReportIsJustALog() throws {
        let bodies = [
            #"{"type":"platform.report","record":"#,  // not JSON
            #"{"type":"platform.report","record":{"requestId":"r","metrics":{}}}"#,  // no durationMs
            #"{"type":"platform.report","record":{"requestId":"","metrics":{"durationMs":1}}}"#,  // no request id
            String(repeating: "[", count: 100_000) + "platform.report",
        ]
        for text in bodies {
            let outcome = try OTLPAdapter.decode(
                LogsRequest.proto(records: [{ log in log.message(5) { $0.stringField(1, "{" + text.dropFirst()) } }]),
                signal: .logs, encoding: .protobuf)
            #expect(outcome.batch.logs.count == 1)
            #expect(outcome.batch.invocations.isEmpty)
        }
    }
}

@Suite struct PlatformReportTests {
    /// What the opentelemetry-lambda extension's telemetryapi receiver emits for a report: the
    /// attribute `type`, the record as JSON text in the body, the function in the resource.
    static let extensionRecord = #"{"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","metrics":{"durationMs":101.51,"billedDurationMs":102,"memorySizeMB":512,"maxMemoryUsedMB":89,"initDurationMs":184.2},"status":"success","tracing":{"spanId":"54565fb41ac79632","type":"X-Amzn-Trace-Id","value":"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}}"#

    static func request(attributes: [(String, String)], body: @escaping (inout ProtobufWriter) -> Void, time: UInt64 = 1_700_000_000_500_000_000) -> [UInt8] {
        LogsRequest.proto(
            resource: [
                ("service.name", "orders-fn"), ("faas.name", "orders-fn"), ("faas.version", "$LATEST"),
                ("cloud.region", "eu-west-1"), ("cloud.provider", "aws"),
            ],
            records: [
                { log in
                    log.fixed64Field(1, time)
                    log.varintField(2, 9)
                    log.stringField(3, "INFO")
                    log.message(5, body)
                    for (k, v) in attributes { LogsRequest.stringAttribute(&log, 6, k, v) }
                }
            ])
    }

    @Test func theLambdaExtensionsReportBecomesAnInvocation() throws {
        for key in ["type", "lambda.event.type"] {
            let outcome = try OTLPAdapter.decode(
                Self.request(attributes: [(key, "platform.report")], body: { $0.stringField(1, Self.extensionRecord) }),
                signal: .logs, encoding: .protobuf)
            #expect(outcome.batch.logs.count == 1)  // the record stays a log record too
            #expect(
                outcome.batch.invocations == [
                    Invocation(
                        function: "orders-fn", version: "$LATEST", requestID: "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
                        startTimeUnixNano: 1_700_000_000_500_000_000 - 101_510_000, durationMs: 101.51, billedDurationMs: 102,
                        memorySizeMB: 512, maxMemoryUsedMB: 89, initDurationMs: 184.2, status: .success, errorType: "",
                        traceID: TraceID(hex: "5759e988bd862e3fe1be46a994272793")!,
                        attributes: [Attribute("cloud.region", .string("eu-west-1"))])
                ])
        }
    }

    /// CloudWatch Logs' plain-text REPORT line, as another Firefly's otlp exporter forwards the log
    /// records its firehose receiver made: read as the firehose receiver reads it.
    @Test func aCloudWatchReportLineBecomesAnInvocation() throws {
        let line = "REPORT RequestId: 6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\tDuration: 101.51 ms\tBilled Duration: 102 ms\t"
            + "Memory Size: 512 MB\tMax Memory Used: 89 MB\tInit Duration: 184.20 ms\t\n"
            + "XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true\t"
        let outcome = try OTLPAdapter.decode(
            Self.request(attributes: [], body: { $0.stringField(1, line) }), signal: .logs, encoding: .protobuf)
        #expect(outcome.batch.logs.count == 1)  // the line stays a log record too
        #expect(
            outcome.batch.invocations == [
                Invocation(
                    function: "orders-fn", version: "$LATEST", requestID: "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
                    startTimeUnixNano: 1_700_000_000_500_000_000 - 101_510_000, durationMs: 101.51, billedDurationMs: 102,
                    memorySizeMB: 512, maxMemoryUsedMB: 89, initDurationMs: 184.2, status: .success, errorType: "",
                    traceID: TraceID(hex: "5759e988bd862e3fe1be46a994272793")!,
                    attributes: [Attribute("cloud.region", .string("eu-west-1"))])
            ])
        // Timeouts and lines that only look like a report.
        let timeout = "REPORT RequestId: r-2\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout"
        let timedOut = try OTLPAdapter.decode(
            Self.request(attributes: [], body: { $0.stringField(1, timeout) }), signal: .logs, encoding: .protobuf)
        #expect(timedOut.batch.invocations.map(\.status) == [.timeout])
        let broken = try OTLPAdapter.decode(
            Self.request(attributes: [], body: { $0.stringField(1, "REPORT RequestId: ") }), signal: .logs, encoding: .protobuf)
        #expect(broken.batch.invocations.isEmpty && broken.batch.logs.count == 1)
    }

    @Test func aRawTelemetryAPIEventBodyBecomesAnInvocation() throws {
        let event = #"""
            {"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{"requestId":"req-1","metrics":{"durationMs":3000.0,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":128},"status":"error","errorType":"Runtime.OutOfMemory"}}
            """#
        let outcome = try OTLPAdapter.decode(
            Self.request(attributes: [], body: { $0.stringField(1, event) }), signal: .logs, encoding: .protobuf)
        let invocation = try #require(outcome.batch.invocations.first)
        #expect(outcome.batch.invocations.count == 1)
        #expect(invocation.requestID == "req-1")
        #expect(invocation.status == .outOfMemory)
        #expect(invocation.errorType == "Runtime.OutOfMemory")
        #expect(invocation.durationMs == 3000 && invocation.billedDurationMs == 3000)
        #expect(invocation.memorySizeMB == 128 && invocation.maxMemoryUsedMB == 128)
        #expect(invocation.initDurationMs == nil && !invocation.isColdStart)
        // The event's own time (1665532875 s) less the duration, not the log record's time.
        #expect(invocation.startTimeUnixNano == 1_665_532_875_000_000_000 - 3_000_000_000)
        #expect(invocation.traceID == .zero)
    }

    @Test func aKeyValueListBodyWorksInBothShapes() throws {
        // The event as a kvlist body, statuses timeout and error.
        func kv(_ w: inout ProtobufWriter, _ key: String, _ value: (inout ProtobufWriter) -> Void) {
            w.message(1) { e in
                e.stringField(1, key)
                e.message(2, value)
            }
        }
        func record(_ status: String) -> (inout ProtobufWriter) -> Void {
            { v in
                v.message(6) { r in
                    kv(&r, "requestId") { $0.stringField(1, "req-\(status)") }
                    kv(&r, "status") { $0.stringField(1, status) }
                    kv(&r, "metrics") { m in
                        m.message(6) { metrics in
                            kv(&metrics, "durationMs") { $0.doubleField(4, 900.5) }
                            kv(&metrics, "billedDurationMs") { $0.varintField(3, 901) }
                            kv(&metrics, "memorySizeMB") { $0.varintField(3, 256) }
                        }
                    }
                }
            }
        }
        let wrapped = try OTLPAdapter.decode(
            Self.request(attributes: [], body: { v in
                v.message(6) { e in
                    kv(&e, "time") { $0.stringField(1, "2024-02-29T23:59:59.250+01:00") }
                    kv(&e, "type") { $0.stringField(1, "platform.report") }
                    kv(&e, "record", record("timeout"))
                }
            }), signal: .logs, encoding: .protobuf)
        let timeout = try #require(wrapped.batch.invocations.first)
        #expect(timeout.status == .timeout)
        #expect(timeout.durationMs == 900.5 && timeout.billedDurationMs == 901 && timeout.memorySizeMB == 256)
        #expect(timeout.startTimeUnixNano == 1_709_247_599_250_000_000 - 900_500_000)
        let typed = try OTLPAdapter.decode(
            Self.request(attributes: [("type", "platform.report")], body: record("error")), signal: .logs, encoding: .protobuf)
        #expect(typed.batch.invocations.map(\.status) == [.error])
        #expect(typed.batch.invocations.map(\.requestID) == ["req-error"])
    }

    @Test func theJSONEncodingRecognisesReportsToo() throws {
        let escaped = Self.extensionRecord.replacingOccurrences(of: "\"", with: "\\\"")
        let json = #"""
            {"resourceLogs":[{"resource":{"attributes":[{"key":"faas.name","value":{"stringValue":"orders-fn"}}]},
              "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000500000000","body":{"stringValue":"\#(escaped)"},
                "attributes":[{"key":"type","value":{"stringValue":"platform.report"}}]}]}]}]}
            """#
        let outcome = try OTLPAdapter.decode(Array(json.utf8), signal: .logs, encoding: .json)
        #expect(outcome.batch.invocations.map(\.requestID) == ["6d68ca91-49c9-448d-89b8-7ca3e6dc66aa"])
        #expect(outcome.batch.invocations.map(\.function) == ["orders-fn"])
    }

    @Test func otherLogsAreNotInvocations() throws {
        let cases: [([(String, String)], String)] = [
            ([], Self.extensionRecord),  // the record without the `type` attribute: nothing says it is a report
            ([("type", "platform.start")], Self.extensionRecord),
            ([("type", "platform.report")], "REPORT RequestId: 1 Duration: 2 ms"),
            ([], #"{"message":"platform.report is late","level":"WARN"}"#),
        ]
        for (attributes, body) in cases {
            let outcome = try OTLPAdapter.decode(
                Self.request(attributes: attributes, body: { $0.stringField(1, body) }), signal: .logs, encoding: .protobuf)
            #expect(outcome.batch.logs.count == 1)
            #expect(outcome.batch.invocations.isEmpty, "\(attributes) \(body)")
        }
    }

    @Test func xrayHeadersGiveOpenTelemetryTraceIDs() {
        #expect(PlatformReport.xrayTraceID("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
            == TraceID(hex: "5759e988bd862e3fe1be46a994272793"))
        #expect(PlatformReport.xrayTraceID("Parent=53995c3f42cd8ad8; Root=1-5759e988-bd862e3fe1be46a994272793")
            == TraceID(hex: "5759e988bd862e3fe1be46a994272793"))
        #expect(PlatformReport.xrayTraceID("Root=2-5759e988-bd862e3fe1be46a994272793") == nil)
        #expect(PlatformReport.xrayTraceID("Root=1-5759e988-bd862e3fe1be46a99427279") == nil)
        #expect(PlatformReport.xrayTraceID("Sampled=1") == nil)
    }

    @Test func telemetryAPITimestampsParse() {
        #expect(UTCCalendar.unixNano(rfc3339: "1970-01-01T00:00:00Z") == 0)
        #expect(UTCCalendar.unixNano(rfc3339: "2022-10-12T00:01:15.000Z") == 1_665_532_875_000_000_000)
        #expect(UTCCalendar.unixNano(rfc3339: "2022-10-12T00:01:15.123456789Z") == 1_665_532_875_123_456_789)
        #expect(UTCCalendar.unixNano(rfc3339: "2022-10-12T02:01:15+02:00") == 1_665_532_875_000_000_000)
        #expect(UTCCalendar.unixNano(rfc3339: "2022-10-12 00:01:15") == nil)
        #expect(UTCCalendar.unixNano(rfc3339: "2022-13-12T00:01:15Z") == nil)
        #expect(UTCCalendar.unixNano(rfc3339: "yesterday") == nil)
    }
}

// In GRPCTests (serialized): one in-process gRPC server at a time.
extension GRPCTests {
    @Test func logsArriveOverGRPCExactlyAsOverHTTP() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let body = LogsRequest.proto(records: [LogsRequest.fullRecord])
        let response = try await server.call(OTLPGRPCMethods.logs, body)
        #expect(response.isEmpty)  // ExportLogsServiceResponse without partial_success
        let batch = try #require(sink.batches.first)
        #expect(batch.logs == [LogsRequest.expectedFullRecord])
        #expect(batch == (try httpBatch("/v1/logs", body)))
    }

    @Test func droppedRecordsAreReportedAsPartialSuccessAndGarbageIsInvalidArgument() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let response = try await server.call(
            OTLPGRPCMethods.logs, LogsRequest.proto(records: [{ $0.bytesField(10, [1] as [UInt8]) }, LogsRequest.fullRecord]))
        let message = "1 rejected; first problem: a log record has an invalid span_id"
        let inner: [UInt8] = [0x08, 0x01, 0x12, UInt8(message.utf8.count)] + Array(message.utf8)
        #expect(response == [0x0A, UInt8(inner.count)] + inner)
        #expect(sink.batches.map(\.logs.count) == [1])

        let error = try #require(await server.failure(OTLPGRPCMethods.logs, [0x0A, 0x05, 0x12]))
        #expect(error.code == .invalidArgument)
        #expect(error.message.hasPrefix("cannot decode ExportLogsServiceRequest (protobuf): "))
        #expect(sink.batches.count == 1)
    }
}
