// The verified byte-level example of wire-formats.md C.6 and hand-made protobuf edge cases.
import FireflyPluginKitTesting
import FireflyModel
import FireflyWire
import FireflyPluginKit
import OTLPAdapter
import Testing

enum SpecExample {
    /// wire-formats.md C.6: one SERVER span `GET /cart`, status ERROR "boom", flags 0x301.
    static let traceRequest: [UInt8] =
        [0x0A, 0x97, 0x01, 0x0A, 0x1C, 0x0A, 0x1A, 0x0A, 0x0C] + Array("service.name".utf8)
        + [0x12, 0x0A, 0x0A, 0x08] + Array("checkout".utf8)
        + [0x12, 0x77, 0x0A, 0x11, 0x0A, 0x0F] + Array("firefly.example".utf8)
        + [0x12, 0x62, 0x0A, 0x10, 0x5B, 0x8E, 0xFF, 0xF7, 0x98, 0x03, 0x81, 0x03, 0xD2, 0x69, 0xB6, 0x33, 0x81, 0x3F, 0xC6, 0x0C]
        + [0x12, 0x08, 0xEE, 0xE1, 0x9B, 0x7E, 0xC3, 0xC1, 0xB1, 0x74]
        + [0x2A, 0x09] + Array("GET /cart".utf8)
        + [0x30, 0x02]
        + [0x39, 0x00, 0x48, 0x59, 0xE3, 0xFA, 0xEB, 0x6F, 0x15]
        + [0x41, 0x00, 0x12, 0xF4, 0x1E, 0xFB, 0xEB, 0x6F, 0x15]
        + [0x4A, 0x15, 0x0A, 0x0A] + Array("http.route".utf8) + [0x12, 0x07, 0x0A, 0x05] + Array("/cart".utf8)
        + [0x7A, 0x08, 0x12, 0x04] + Array("boom".utf8) + [0x18, 0x02]
        + [0x85, 0x01, 0x01, 0x03, 0x00, 0x00]

    static let traceRequestJSON = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scopeSpans":[{"scope":{"name":"firefly.example"},
            "spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
              "name":"GET /cart","kind":2,
              "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
              "attributes":[{"key":"http.route","value":{"stringValue":"/cart"}}],
              "status":{"message":"boom","code":2},"flags":769}]}]}]}
        """

    static let expectedSpan = Span(
        traceID: TraceID(hex: "5b8efff798038103d269b633813fc60c")!, spanID: SpanID(hex: "eee19b7ec3c1b174")!,
        name: "GET /cart", kind: .server, statusCode: .error, statusMessage: "boom",
        startTimeUnixNano: 1_544_712_660_000_000_000, endTimeUnixNano: 1_544_712_661_000_000_000,
        function: "checkout", service: "checkout", scopeName: "firefly.example",
        attributes: [Attribute("http.route", .string("/cart"))],
        resourceAttributes: [Attribute("service.name", .string("checkout"))])
}

/// Minimal protobuf encoding for hand-made edge cases.
struct PB {
    var bytes: [UInt8] = []

    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    func tag(_ field: UInt64, _ wire: UInt64) -> PB { PB(bytes: bytes + Self.varint(field << 3 | wire)) }
    func varint(_ field: UInt64, _ v: UInt64) -> PB { PB(bytes: tag(field, 0).bytes + Self.varint(v)) }
    func fixed64(_ field: UInt64, _ v: UInt64) -> PB {
        PB(bytes: tag(field, 1).bytes + (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) })
    }
    func double(_ field: UInt64, _ d: Double) -> PB { fixed64(field, d.bitPattern) }
    func fixed32(_ field: UInt64, _ v: UInt32) -> PB {
        PB(bytes: tag(field, 5).bytes + (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) })
    }
    func len(_ field: UInt64, _ payload: [UInt8]) -> PB { PB(bytes: tag(field, 2).bytes + Self.varint(UInt64(payload.count)) + payload) }
    func len(_ field: UInt64, _ message: PB) -> PB { len(field, message.bytes) }
    func string(_ field: UInt64, _ s: String) -> PB { len(field, Array(s.utf8)) }
}

@Suite struct ProtobufEdgeCaseTests {
    @Test func theSpecExampleDecodes() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/traces", SpecExample.traceRequest), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.first?.spans == [SpecExample.expectedSpan])
    }

    @Test func theSpecExampleInJSONDecodesToTheSameSpan() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(
            post("/v1/traces", Array(SpecExample.traceRequestJSON.utf8), contentType: "application/json"), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.first?.spans == [SpecExample.expectedSpan])
    }

    static let traceID = (0..<16).map { UInt8($0 + 1) }
    static let spanID: [UInt8] = [9, 9, 9, 9, 9, 9, 9, 9]

    static func request(span: PB, resourceAfterScope: Bool = false) -> [UInt8] {
        let resource = PB().len(1, PB().string(1, "service.name").len(2, PB().string(1, "svc")))
        let scope = PB().len(1, PB().string(1, "lib").string(2, "9")).len(2, span)
        let rs = resourceAfterScope ? PB().len(2, scope).len(1, resource) : PB().len(1, resource).len(2, scope)
        return PB().len(1, rs).bytes
    }

    @Test func unknownFieldsOfEveryWireTypeAndMistypedKnownFieldsAreSkipped() throws {
        let plain = PB().len(1, Self.traceID).len(2, Self.spanID).string(5, "op").varint(6, 3)
        let noisy = PB().varint(200, 7).len(1, Self.traceID).fixed64(201, 1).len(2, Self.spanID).fixed32(202, 2)
            .string(5, "op").len(203, [1, 2, 3]).varint(6, 3)
            .varint(5, 99)  // name with the wrong wire type: skipped, the string above stays
            .fixed32(1, 0)  // trace_id with the wrong wire type: skipped
        let a = RecordingSink()
        let b = RecordingSink()
        #expect(try makeAdapter().handle(post("/v1/traces", Self.request(span: plain)), sink: a).status == 200)
        #expect(try makeAdapter().handle(post("/v1/traces", Self.request(span: noisy)), sink: b).status == 200)
        #expect(a.batches.first?.spans.count == 1)
        #expect(a.batches == b.batches)
        #expect(a.batches.first?.spans.first?.kind == .client)
    }

    @Test func aResourceAfterItsSpansStillApplies() throws {
        let span = PB().len(1, Self.traceID).len(2, Self.spanID).string(5, "op")
        let sink = RecordingSink()
        _ = try makeAdapter().handle(post("/v1/traces", Self.request(span: span, resourceAfterScope: true)), sink: sink)
        let s = try #require(sink.batches.first?.spans.first)
        #expect(s.service == "svc")
        #expect(s.function == "svc")
        #expect(s.scopeName == "lib")
        #expect(s.scopeVersion == "9")
    }

    static func histogramRequest(point: PB) -> [UInt8] {
        let metric = PB().string(1, "h").len(9, PB().len(1, point).varint(2, 2))
        return PB().len(1, PB().len(2, PB().len(2, metric))).bytes
    }

    @Test func packedAndUnpackedRepeatedFieldsDecodeAlike() throws {
        let base = PB().fixed64(3, 5).fixed64(4, 3).double(5, 4.5)
        let packedCounts = (1...3).flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(v) >> (8 * $0)) } }
        let packedBounds = [1.0, 2.0].flatMap { d in (0..<8).map { UInt8(truncatingIfNeeded: d.bitPattern >> (8 * $0)) } }
        let packed = base.len(6, packedCounts).len(7, packedBounds)
        let unpacked = base.fixed64(6, 1).fixed64(6, 2).double(7, 1.0).fixed64(6, 3).double(7, 2.0)
        let a = RecordingSink()
        let b = RecordingSink()
        _ = try makeAdapter().handle(post("/v1/metrics", Self.histogramRequest(point: packed)), sink: a)
        _ = try makeAdapter().handle(post("/v1/metrics", Self.histogramRequest(point: unpacked)), sink: b)
        let p = try #require(a.batches.first?.points.first)
        #expect(p.bucketCounts == [1, 2, 3])
        #expect(p.bounds == [1.0, 2.0])
        #expect(p.count == 3)
        #expect(p.sum == 4.5)
        #expect(p.kind == .histogram)
        #expect(p.hasMinMax == false)
        #expect(a.batches == b.batches)
    }

    @Test func exponentialBucketCountsPackedOrUnpackedDecodeAlike() throws {
        func request(_ buckets: PB) -> [UInt8] {
            let point = PB().fixed64(3, 1).fixed64(4, 3).varint(6, 0).len(8, buckets)  // scale 0: base 2
            let metric = PB().string(1, "e").len(10, PB().len(1, point).varint(2, 1))
            return PB().len(1, PB().len(2, PB().len(2, metric))).bytes
        }
        let packed = PB().varint(1, 2).len(2, [1, 2])  // offset sint32 1 (zig-zag 2), counts [1, 2]
        let unpacked = PB().varint(1, 2).varint(2, 1).varint(2, 2)
        let a = RecordingSink()
        let b = RecordingSink()
        _ = try makeAdapter().handle(post("/v1/metrics", request(packed)), sink: a)
        _ = try makeAdapter().handle(post("/v1/metrics", request(unpacked)), sink: b)
        let p = try #require(a.batches.first?.points.first)
        // zero bucket (-inf, 0], gap (0, 2], (2, 4] = 1, (4, 8] = 2, +Inf.
        #expect(p.bounds == [0, 2, 4, 8])
        #expect(p.bucketCounts == [0, 0, 1, 2, 0])
        #expect(p.isDelta)
        #expect(a.batches == b.batches)
    }

    @Test func mismatchedHistogramBucketsAreRejectedAsPartialSuccess() throws {
        let point = PB().fixed64(3, 5).fixed64(4, 3).len(6, [UInt8](repeating: 0, count: 8)).double(7, 1.0).double(7, 2.0)
        let sink = RecordingSink()
        let response = try makeAdapter().handle(
            post("/v1/metrics", Self.histogramRequest(point: point), contentType: "application/x-protobuf"), sink: sink)
        #expect(response.status == 200)
        let message = "1 rejected; first problem: histogram 'h' has 1 bucket counts for 2 bounds (want bounds + 1)"
        let inner: [UInt8] = [0x08, 0x01, 0x12, UInt8(message.utf8.count)] + Array(message.utf8)
        #expect(response.body == [0x0A, UInt8(inner.count)] + inner)
        #expect(sink.batches.isEmpty)
    }

    @Test func sumsWithoutTemporalityAreRejectedInJSON() throws {
        let body = #"""
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[
              {"name":"x","sum":{"dataPoints":[{"asInt":"1"},{"asDouble":2}]}}]}]}]}
            """#
        let response = try makeAdapter().handle(
            post("/v1/metrics", Array(body.utf8), contentType: "application/json"), sink: RecordingSink())
        #expect(response.status == 200)
        #expect(
            response.text
                == #"{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"2 rejected; first problem: sum 'x' has no aggregation temporality"}}"#
        )
    }

    @Test func jsonAcceptsNumbersForInt64AndSpecialDoubles() throws {
        let body = #"""
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[
              {"name":"g","gauge":{"dataPoints":[{"asInt":7,"timeUnixNano":1700000000000000001},
                                                 {"asDouble":"NaN","timeUnixNano":"5"},
                                                 {"asDouble":"-Infinity","timeUnixNano":"6","unknownKey":{}}]}}]}]}]}
            """#
        let sink = RecordingSink()
        #expect(try makeAdapter().handle(post("/v1/metrics", Array(body.utf8), contentType: "application/json"), sink: sink).status == 200)
        let points = try #require(sink.batches.first?.points)
        #expect(points.count == 3)
        #expect(points[0].value == 7)
        #expect(points[0].timeUnixNano == 1_700_000_000_000_000_001)
        #expect(points[1].value.isNaN)
        #expect(points[2].value == -.infinity)
    }

    @Test func attributeValuesNestedTooDeeplyAreRejected() throws {
        var value = PB().string(1, "leaf")
        for _ in 0..<40 { value = PB().len(5, PB().len(1, value)) }
        let span = PB().len(1, Self.traceID).len(2, Self.spanID).len(9, PB().string(1, "deep").len(2, value))
        let response = try makeAdapter().handle(post("/v1/traces", Self.request(span: span)), sink: RecordingSink())
        #expect(response.status == 400)
        #expect(
            response.body
                == rpcStatusBytes(code: 3, message: "cannot decode ExportTraceServiceRequest (protobuf): attribute values nested deeper than 32"))
    }
}
