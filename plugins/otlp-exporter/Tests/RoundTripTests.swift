// The exporter's requests decode, through the otlp receiver's own decoder, to the batch that was encoded.
import FireflyOTLP
import FireflyModel
import FireflyWire
import OTLPExporter
import Testing

@testable import OTLPAdapter

/// A batch using every field the model carries through OTLP, grouped as the encoder groups it.
enum SampleBatch {
    static let t0: UInt64 = 1_700_000_000_000_000_000
    static let lambdaResource: [Attribute] = [
        Attribute("service.name", .string("checkout")), Attribute("faas.name", .string("checkout")),
        Attribute("cloud.region", .string("eu-west-1")), Attribute("cloud.account.id", .string("123456789012")),
    ]

    static func span(trace: UInt64, index: UInt64, resource: [Attribute] = lambdaResource) -> Span {
        Span(
            traceID: TraceID(high: 0xABCD, low: trace), spanID: SpanID(trace << 8 | (index + 1)),
            parentSpanID: index == 0 ? .zero : SpanID(trace << 8 | 1), traceState: index == 0 ? "vendor=1" : "",
            name: "handler \(index)", kind: index == 0 ? .server : .client, statusCode: index == 2 ? .error : .unset,
            statusMessage: index == 2 ? "boom" : "", startTimeUnixNano: t0 + index,
            endTimeUnixNano: t0 + 1_000_000 + index,
            function: "checkout", service: "checkout", scopeName: "io.opentelemetry.aws-lambda", scopeVersion: "1.2.0",
            attributes: [
                Attribute("faas.coldstart", .bool(index == 0)), Attribute("http.status_code", .int(200)),
                Attribute("ratio", .double(0.25)), Attribute("raw", .bytes([0, 1, 255])),
                Attribute("tags", .json("[1,\"a\",{\"k\":true},null,2.5]")),
            ],
            resourceAttributes: resource,
            events: [
                SpanEvent(
                    timeUnixNano: t0 + 5, name: "exception", attributes: [Attribute("exception.type", .string("E"))])
            ],
            links: [
                SpanLink(
                    traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), traceState: "x=y",
                    attributes: [Attribute("l", .int(-7))])
            ])
    }

    static var spans: [Span] {
        (UInt64(0)..<3).map { span(trace: 1, index: $0) } + (UInt64(0)..<2).map { span(trace: 2, index: $0) }
            + [span(trace: 3, index: 0, resource: [Attribute("service.name", .string("billing"))])].map { s in
                var s = s
                s.function = "billing"
                s.service = "billing"
                return s
            }
    }

    static let labels = [
        Label("cloud.region", "eu-west-1"), Label("faas.name", "checkout"), Label("service.name", "checkout"),
        Label("http.route", "/pay"),
    ]

    static var points: [MetricPoint] {
        [
            MetricPoint(
                name: "queue.depth", unit: "{item}", function: "checkout", kind: .gauge, labels: labels,
                timeUnixNano: t0, value: 7.5),
            MetricPoint(
                name: "queue.depth", unit: "{item}", function: "checkout", kind: .gauge, labels: labels,
                timeUnixNano: t0 + 60, value: -1),
            MetricPoint(
                name: "http.requests", unit: "{request}", function: "checkout", kind: .cumulativeSum, isMonotonic: true,
                labels: labels, startTimeUnixNano: t0 - 1000, timeUnixNano: t0, value: 1234),
            MetricPoint(
                name: "bytes.out", unit: "By", function: "checkout", kind: .deltaSum, isDelta: true, labels: labels,
                startTimeUnixNano: t0 - 1000, timeUnixNano: t0, value: 99),
            MetricPoint(
                name: "http.server.request.duration", unit: "s", function: "checkout", kind: .histogram,
                hasMinMax: true,
                isDelta: true, labels: labels, startTimeUnixNano: t0 - 1000, timeUnixNano: t0, count: 10, sum: 2.5,
                min: 0.01,
                max: 1.2, bounds: [0.1, 0.5, 1], bucketCounts: [3, 4, 2, 1]),
            MetricPoint(
                name: "rpc.latency", unit: "ms", function: "checkout", kind: .summary, hasMinMax: true, labels: labels,
                timeUnixNano: t0, count: 12, sum: 1530, min: 3.2, max: 812.5,
                quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5)]),
            MetricPoint(
                name: "orders", function: "", kind: .cumulativeSum, labels: [Label("shop", "eu")], timeUnixNano: t0,
                value: 3),
            // A CloudWatch point as the Firehose receiver makes it (one-minute delta summary).
            MetricPoint(
                name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "checkout", kind: .summary,
                hasMinMax: true, isDelta: true,
                labels: [
                    Label("FunctionName", "checkout"), Label("cloud.account.id", "123456789012"),
                    Label("cloud.region", "eu-west-1"),
                ],
                timeUnixNano: t0, count: 12, sum: 1530, min: 3.2, max: 812.5,
                quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5)]),
        ]
    }

    static var logs: [LogRecord] {
        [
            LogRecord(
                timeUnixNano: t0, observedTimeUnixNano: t0 + 9, severityNumber: 17, severityText: "ERROR",
                body: .string("payment failed"), attributes: [Attribute("code.function", .string("pay"))],
                resourceAttributes: lambdaResource, traceID: TraceID(high: 0xABCD, low: 1), spanID: SpanID(0x101),
                traceFlags: 1,
                function: "checkout", service: "checkout", scopeName: "app", scopeVersion: "2"),
            LogRecord(
                timeUnixNano: t0 + 1, severityNumber: 9, body: .json("{\"order\":42,\"items\":[\"a\",\"b\"]}"),
                resourceAttributes: lambdaResource, function: "checkout", service: "checkout", scopeName: "app",
                scopeVersion: "2"),
            LogRecord(
                timeUnixNano: 0, observedTimeUnixNano: t0, body: .string(""), resourceAttributes: [], function: "",
                service: ""),
        ]
    }
}

@Suite struct RoundTripTests {
    @Test func spansComeBackAsTheyWereSent() throws {
        let bytes = OTLPRequestEncoder.traces(SampleBatch.spans)
        let outcome = try OTLPAdapter.decode(bytes, signal: .traces, encoding: .protobuf)
        #expect(outcome.rejected == 0)
        #expect(outcome.batch.spans == SampleBatch.spans)
    }

    @Test func spansOfOneResourceAndScopeShareOneEntry() throws {
        let bytes = OTLPRequestEncoder.traces(SampleBatch.spans)
        // Two resources (checkout, billing): two resource_spans (field 1) at the top level.
        let entries = try ProtobufReader.read(bytes) { (r: inout ProtobufReader) throws(ProtobufError) -> Int in
            var n = 0
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                #expect(field == 1)
                try r.skip(wire)
                n += 1
            }
            return n
        }
        #expect(entries == 2)
    }

    @Test func metricPointsOfEveryKindComeBackAsTheyWereSent() throws {
        let bytes = OTLPRequestEncoder.metrics(SampleBatch.points)
        let outcome = try OTLPAdapter.decode(bytes, signal: .metrics, encoding: .protobuf)
        #expect(outcome.rejected == 0)
        #expect(outcome.batch.points == SampleBatch.points)
    }

    @Test func logRecordsComeBackAsTheyWereSent() throws {
        let bytes = OTLPRequestEncoder.logs(SampleBatch.logs)
        let outcome = try OTLPAdapter.decode(bytes, signal: .logs, encoding: .protobuf)
        #expect(outcome.rejected == 0)
        #expect(outcome.batch.logs == SampleBatch.logs)
    }

    @Test func emptyInputIsAnEmptyRequest() {
        #expect(OTLPRequestEncoder.traces([]).isEmpty)
        #expect(OTLPRequestEncoder.metrics([]).isEmpty)
        #expect(OTLPRequestEncoder.logs([]).isEmpty)
    }
}
