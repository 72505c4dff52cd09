// The protobuf traces decoder writes the C batch the host stores: a varied request checked field by field.
import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import FireflyWire
import Testing

@testable import OTLPAdapter

/// A request covering what the decoder maps: several resources and scopes (one scope after its
/// spans on the wire), `faas.name` / `service.name` at span and resource level, events, links (one
/// invalid), every attribute value type, invalid ids and invalid UTF-8.
enum VariedTraces {
    static let traceID: [UInt8] = Array(1...16)
    static let otherTrace: [UInt8] = Array(17...32)

    static func id8(_ n: UInt8) -> [UInt8] { [0, 0, 0, 0, 0, 0, 0, n] }

    static func attribute(_ w: inout ProtobufWriter, _ field: UInt32, _ key: [UInt8], _ value: ((inout ProtobufWriter) -> Void)?) {
        w.message(field) { kv in
            kv.bytesField(1, key)
            if let value { kv.message(2, value) }
        }
    }

    static func attribute(_ w: inout ProtobufWriter, _ field: UInt32, _ key: String, _ value: ((inout ProtobufWriter) -> Void)?) {
        attribute(&w, field, Array(key.utf8), value)
    }

    static func string(_ s: String) -> (inout ProtobufWriter) -> Void { { $0.stringField(1, s) } }

    static func span(
        _ w: inout ProtobufWriter, name: [UInt8], trace: [UInt8] = traceID, id: [UInt8], parent: [UInt8]? = nil,
        _ more: (inout ProtobufWriter) -> Void = { _ in }
    ) {
        w.message(2) { s in
            s.bytesField(1, trace)
            s.bytesField(2, id)
            if let parent { s.bytesField(4, parent) }
            s.bytesField(5, name)
            s.fixed64Field(7, 1_000)
            s.fixed64Field(8, 2_000)
            more(&s)
        }
    }

    static var body: [UInt8] {
        var w = ProtobufWriter()
        // Resource A: a Lambda function, with structured and bytes attributes.
        w.message(1) { rs in
            rs.message(1) { r in
                attribute(&r, 1, "service.name", string("checkout"))
                attribute(&r, 1, "faas.name", string("checkout-fn"))
                attribute(&r, 1, "cloud.region", string("eu-west-1"))
                attribute(&r, 1, "cloud.account.id", { $0.varintField(3, 123_456_789_012) })
                attribute(&r, 1, "blob", { $0.bytesField(7, [0, 1, 255]) })
                attribute(&r, 1, "tags") { v in
                    v.message(5) { a in
                        a.message(1) { $0.varintField(3, 1) }
                        a.message(1) { $0.stringField(1, "a") }
                        a.message(1) { $0.varintField(2, 1) }
                        a.message(1) { $0.doubleField(4, 2.5) }
                        a.message(1) { $0.bytesField(7, [1, 2]) }
                    }
                }
                attribute(&r, 1, "kv") { v in
                    v.message(6) { l in
                        l.message(1) { kv in
                            kv.stringField(1, "k")
                            kv.message(2) { $0.varintField(2, 1) }
                        }
                        l.message(1) { $0.stringField(1, "n") }
                    }
                }
            }
            rs.message(2) { ss in
                ss.message(1) { scope in
                    scope.stringField(1, "lib-a")
                    scope.stringField(2, "1.0")
                }
                span(&ss, name: Array("handler".utf8), id: id8(1)) { s in
                    s.stringField(3, "k=v")
                    s.varintField(6, 2)
                    attribute(&s, 9, "faas.name", string("span-fn"))
                    attribute(&s, 9, "http.status_code", { $0.varintField(3, 500) })
                    s.message(11) { e in
                        e.fixed64Field(1, 1_500)
                        e.stringField(2, "exception")
                        attribute(&e, 3, "exception.type", string("ValueError"))
                    }
                    s.message(13) { l in
                        l.bytesField(1, otherTrace)
                        l.bytesField(2, id8(9))
                        l.stringField(3, "l=1")
                        attribute(&l, 4, "link.kind", string("follows"))
                    }
                    s.message(13) { l in  // all-zero trace id: dropped
                        l.bytesField(1, [UInt8](repeating: 0, count: 16))
                        l.bytesField(2, id8(8))
                    }
                    s.message(15) { st in
                        st.stringField(2, "boom")
                        st.varintField(3, 2)
                    }
                }
                span(&ss, name: Array("bad-trace".utf8), trace: Array(1...15), id: id8(2))
                span(&ss, name: Array("child".utf8), id: id8(3), parent: id8(1)) { s in
                    attribute(&s, 9, "faas.name", string(""))
                    attribute(&s, 9, "service.name", string("span-svc"))
                }
            }
            rs.message(2) { ss in
                // Invalid UTF-8 in a span name, an attribute key and value, an event name, a status message.
                span(&ss, name: Array("bad".utf8) + [0xFF] + Array("name".utf8), id: id8(4), parent: [UInt8](repeating: 0, count: 8)) { s in
                    s.varintField(6, 99)
                    attribute(&s, 9, [0x6B, 0xC3], { $0.bytesField(1, [0x76, 0xFE]) })
                    s.message(11) { e in e.bytesField(2, [0x65, 0x80]) }
                    s.message(15) { st in
                        st.bytesField(2, [0xE2, 0x82])
                        st.varintField(3, 7)
                    }
                }
                span(&ss, name: Array("zero-span".utf8), id: [UInt8](repeating: 0, count: 8))
                span(&ss, name: Array("bad-parent".utf8), id: id8(6), parent: [1, 2, 3])
                // The scope after its spans.
                ss.message(1) { $0.stringField(1, "lib-b") }
            }
        }
        // Resource B: service.name is not a string; the span names the service.
        w.message(1) { rs in
            rs.message(1) { r in
                attribute(&r, 1, "service.name", { $0.varintField(3, 7) })
                attribute(&r, 1, "cloud.provider", string("aws"))
            }
            rs.message(2) { ss in
                span(&ss, name: Array("values".utf8), id: id8(7)) { s in
                    attribute(&s, 9, "service.name", string("svc-from-span"))
                    attribute(&s, 9, "no.value", nil)
                    attribute(&s, 9, "empty.value", { _ in })
                    attribute(&s, 9, "d", { $0.doubleField(4, -0.5) })
                    attribute(&s, 9, "b", { $0.varintField(2, 0) })
                    attribute(&s, 9, "i", { $0.int64Field(3, -3) })
                    attribute(&s, 9, "empty.bytes", { $0.bytesField(7, []) })
                    attribute(&s, 9, "empty.string", string(""))
                    attribute(&s, 9, "last.wins") { v in
                        v.stringField(1, "first")
                        v.varintField(3, 42)
                    }
                }
            }
        }
        // Resource C: faas.name is not a string, service.name is.
        w.message(1) { rs in
            rs.message(1) { r in
                attribute(&r, 1, "faas.name", { $0.varintField(3, 5) })
                attribute(&r, 1, "service.name", string("svc-c"))
            }
            rs.message(2) { ss in
                span(&ss, name: Array("plain".utf8), id: id8(8))
            }
        }
        return w.bytes
    }

    static let resourceA: [Attribute] = [
        Attribute("service.name", .string("checkout")), Attribute("faas.name", .string("checkout-fn")),
        Attribute("cloud.region", .string("eu-west-1")), Attribute("cloud.account.id", .int(123_456_789_012)),
        Attribute("blob", .bytes([0, 1, 255])), Attribute("tags", .json(#"[1,"a",true,2.5,"AQI="]"#)),
        Attribute("kv", .json(#"{"k":true,"n":null}"#)),
    ]

    static func expectedSpan(
        name: String, id: UInt8, parent: UInt8 = 0, function: String, service: String, scope: (String, String),
        attributes: [Attribute] = [], resource: [Attribute]
    ) -> Span {
        Span(
            traceID: TraceID(bytes: traceID)!, spanID: SpanID(bytes: id8(id))!, parentSpanID: SpanID(bytes: id8(parent))!,
            traceState: "", name: name, kind: .unspecified, statusCode: .unset, statusMessage: "",
            startTimeUnixNano: 1_000, endTimeUnixNano: 2_000, function: function, service: service,
            scopeName: scope.0, scopeVersion: scope.1, attributes: attributes, resourceAttributes: resource,
            events: [], links: [])
    }

    static var expected: [Span] {
        var handler = expectedSpan(
            name: "handler", id: 1, function: "span-fn", service: "checkout", scope: ("lib-a", "1.0"),
            attributes: [Attribute("faas.name", .string("span-fn")), Attribute("http.status_code", .int(500))],
            resource: resourceA)
        handler.traceState = "k=v"
        handler.kind = .server
        handler.statusCode = .error
        handler.statusMessage = "boom"
        handler.events = [
            SpanEvent(timeUnixNano: 1_500, name: "exception", attributes: [Attribute("exception.type", .string("ValueError"))])
        ]
        handler.links = [
            SpanLink(
                traceID: TraceID(bytes: otherTrace)!, spanID: SpanID(bytes: id8(9))!, traceState: "l=1",
                attributes: [Attribute("link.kind", .string("follows"))])
        ]
        let child = expectedSpan(
            name: "child", id: 3, parent: 1, function: "checkout-fn", service: "checkout", scope: ("lib-a", "1.0"),
            attributes: [Attribute("faas.name", .string("")), Attribute("service.name", .string("span-svc"))],
            resource: resourceA)
        // Invalid UTF-8 repaired as `ProtobufReader.readString` (the Swift decoder) repaired it.
        func repair(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        var repaired = expectedSpan(
            name: repair(Array("bad".utf8) + [0xFF] + Array("name".utf8)), id: 4, function: "checkout-fn", service: "checkout",
            scope: ("lib-b", ""), attributes: [Attribute(repair([0x6B, 0xC3]), .string(repair([0x76, 0xFE])))], resource: resourceA)
        repaired.events = [SpanEvent(timeUnixNano: 0, name: repair([0x65, 0x80]))]
        repaired.statusMessage = repair([0xE2, 0x82])
        let values = expectedSpan(
            name: "values", id: 7, function: "svc-from-span", service: "", scope: ("", ""),
            attributes: [
                Attribute("service.name", .string("svc-from-span")), Attribute("no.value", .json("null")),
                Attribute("empty.value", .json("null")), Attribute("d", .double(-0.5)), Attribute("b", .bool(false)),
                Attribute("i", .int(-3)), Attribute("empty.bytes", .bytes([])), Attribute("empty.string", .string("")),
                Attribute("last.wins", .int(42)),
            ],
            resource: [Attribute("service.name", .int(7)), Attribute("cloud.provider", .string("aws"))])
        let plain = expectedSpan(
            name: "plain", id: 8, function: "svc-c", service: "svc-c", scope: ("", ""),
            resource: [Attribute("faas.name", .int(5)), Attribute("service.name", .string("svc-c"))])
        return [handler, child, repaired, values, plain]
    }
}

@Suite struct CBatchDecodingTests {
    @Test func aVariedRequestDecodesToTheExpectedSpansFieldByField() throws {
        let outcome = try TraceProtoDecoder.decode(VariedTraces.body)
        expectSpansEqual(outcome.batch.spans, VariedTraces.expected)
        #expect(outcome.batch.spans.count == 5)
        #expect(outcome.batch.spans.dropFirst(2).first?.name == "bad\u{FFFD}name")
        #expect(outcome.batch.points.isEmpty && outcome.batch.logs.isEmpty && outcome.batch.invocations.isEmpty)
    }

    @Test func theCBatchSharesEachResourcesAttributesAndPointsIntoTheBody() throws {
        let body = VariedTraces.body
        let arena = CArena()
        try body.withUnsafeBytes { raw in
            let decoded = try TraceProtoDecoder.decode(raw, into: arena)
            #expect(decoded.spanCount == 5)
            #expect(decoded.problems.rejected == 3)
            let b = decoded.batch.pointee
            #expect(b.span_count == 5 && b.point_count == 0 && b.log_count == 0 && b.invocation_count == 0)
            let spans = BatchBridge.buffer(b.spans, b.span_count)
            // The three spans of resource A share one attribute list.
            #expect(spans[0].resource_attributes == spans[1].resource_attributes)
            #expect(spans[0].resource_attributes == spans[2].resource_attributes)
            #expect(spans[0].resource_attribute_count == 7)
            // Names are slices of the request body, not copies.
            let range = UnsafeRawPointer(raw.baseAddress!)..<UnsafeRawPointer(raw.baseAddress! + raw.count)
            for s in spans { #expect(range.contains(UnsafeRawPointer(s.name.ptr!))) }
        }
        withExtendedLifetime(arena) {}
    }

    @Test func aReusedWorkspaceDecodesEachRequestAfresh() throws {
        let pool = TraceWorkspacePool(capacity: 1)
        let small = HostileInputTests.tracesProto(spans: 3, attributes: 2)
        // Varied, a large request (several arena chunks), varied again, small: each read back whole.
        for body in [VariedTraces.body, HostileInputTests.tracesProto(spans: 2000, attributes: 20), VariedTraces.body, small] {
            let spans = try pool.withWorkspace { workspace in
                try body.withUnsafeBytes { raw in
                    let decoded = try TraceProtoDecoder.decode(raw, in: workspace)
                    return try BatchBridge.telemetry(from: decoded.batch).spans
                }
            }
            #expect(spans == (try TraceProtoDecoder.decode(body).batch.spans))
        }
        let again = try TraceProtoDecoder.decode(VariedTraces.body).batch.spans
        expectSpansEqual(again, VariedTraces.expected)
    }

    @Test func rejectedSpansAreCountedWithTheFirstProblem() throws {
        let outcome = try TraceProtoDecoder.decode(VariedTraces.body)
        #expect(outcome.batch.spans.count == 5)
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/traces", VariedTraces.body), sink: sink)
        #expect(response.status == 200)
        // partial_success { rejected_spans: 3, error_message }
        let message = "3 rejected; first problem: span 'bad-trace' has an invalid trace_id"
        var w = ProtobufWriter()
        w.message(1) { p in
            p.varintField(1, 3)
            p.stringField(2, message)
        }
        #expect(response.body == w.bytes)
    }

    @Test func theReceiverEmitsWhatTheDecoderDecodes() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/traces", VariedTraces.body), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.count == 1)
        expectSpansEqual(sink.spans, VariedTraces.expected)
    }

    @Test func theGRPCPathDecodesTheSameSpans() throws {
        let decoded = try OTLPRequestDeserializer(signal: .traces, maxMessageBytes: 1 << 20).deserialize(VariedTraces.body)
        expectSpansEqual(decoded.batch.spans, VariedTraces.expected)
        #expect(decoded.rejected == 3)
        #expect(decoded.problemSummary == "3 rejected; first problem: span 'bad-trace' has an invalid trace_id")
    }

    @Test func anEmptyGRPCTracesMessageDecodesToNothing() throws {
        let decoded = try OTLPRequestDeserializer(signal: .traces, maxMessageBytes: 1 << 20).deserialize([UInt8]())
        #expect(decoded.isEmpty)
        #expect(decoded.rejected == 0)
    }

    @Test func aRequestWithoutKeptSpansEmitsNothing() throws {
        var w = ProtobufWriter()
        w.message(1) { rs in
            rs.message(2) { ss in VariedTraces.span(&ss, name: Array("x".utf8), id: [UInt8](repeating: 0, count: 8)) }
        }
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/traces", w.bytes), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.isEmpty)
    }
}
