import CFireflyPlugin
import FireflyModel
import Testing

@testable import FireflyCore
@testable import FireflyPluginKit

/// `RecordCodec` writes the durable queue's record straight from a C batch; what it decodes to must
/// be exactly what the bridge makes of the same batch (C → Swift values), whatever the plugin sent.
@Suite struct RecordCodecTests {
    static let texts = ["", "Duration", "AWS/Lambda", "ünïcødé ✓", "quote \" and \\", "\u{0}\u{1f}", String(repeating: "x", count: 300)]

    /// Strings a plugin might send: valid, invalid UTF-8, a null pointer with a length.
    static func awkward(_ i: Int, _ arena: CArena) -> firefly_str {
        switch i % 9 {
        case 7:
            let bad = arena.bytes([0x41, 0xFF, 0xC3, 0x28, 0xE2, 0x82])  // stray and truncated sequences
            return firefly_str(ptr: UnsafeRawPointer(bad.ptr)?.assumingMemoryBound(to: CChar.self), len: bad.len)
        case 8: return firefly_str(ptr: nil, len: 5)
        default: return arena.str(texts[i % texts.count])
        }
    }

    static func batch(
        _ points: [firefly_metric_point], _ spans: [firefly_span], _ arena: CArena,
        logs: [firefly_log_record] = [], invocations: [firefly_invocation] = []
    ) -> UnsafePointer<firefly_batch> {
        let header = firefly_batch(
            abi_version: firefly_abi_version, struct_size: UInt32(MemoryLayout<firefly_batch>.size),
            points: arena.array(points), point_count: points.count, point_size: MemoryLayout<firefly_metric_point>.stride,
            spans: arena.array(spans), span_count: spans.count, span_size: MemoryLayout<firefly_span>.stride,
            logs: arena.array(logs), log_count: logs.count, log_size: MemoryLayout<firefly_log_record>.stride,
            invocations: arena.array(invocations), invocation_count: invocations.count,
            invocation_size: MemoryLayout<firefly_invocation>.stride)
        return arena.array(CollectionOfOne(header))!
    }

    static func randomBatch(_ arena: CArena, seed: Int) -> UnsafePointer<firefly_batch> {
        var rng = SystemRandomNumberGenerator()
        var points: [firefly_metric_point] = []
        for i in 0..<60 {
            let kind: MetricKind = [.gauge, .cumulativeSum, .deltaSum, .summary, .histogram][(i + seed) % 5]
            var p = BatchBridge.cPoint(
                MetricPoint(name: "m\(i)", kind: kind, timeUnixNano: UInt64.random(in: 0...UInt64.max, using: &rng),
                            value: Double.random(in: -1e9...1e9, using: &rng), count: 3, sum: -0.0, min: .nan, max: .infinity,
                            quantiles: i % 3 == 0 ? [Quantile(0.5, 1), Quantile(0.99, 2)] : [],
                            bounds: kind == .histogram ? [1, 2.5] : [], bucketCounts: kind == .histogram ? [1, 2, UInt64.max] : []),
                arena)
            p.name = awkward(i + seed, arena)
            p.namespace_ = awkward(i + 1, arena)
            p.unit = awkward(i + 2, arena)
            p.function = awkward(i + seed + 3, arena)
            p.flags = UInt32(i % 8)
            // Label sets: canonical, unsorted, with a repeated key, with non-ASCII keys, with awkward values.
            let pairs: [(String, String)]
            switch i % 5 {
            case 0: pairs = [("FunctionName", "f\(i)"), ("account_id", "123456789012"), ("region", "us-east-1")]
            case 1: pairs = [("region", "eu-west-1"), ("FunctionName", "f"), ("a", "1")]
            case 2: pairs = [("k", "first"), ("a", "x"), ("k", "last")]
            case 3: pairs = [("é", "1"), ("e", "2"), ("ß", Self.texts[i % Self.texts.count])]
            default: pairs = []
            }
            var kvs = pairs.map { firefly_kv(key: arena.str($0.0), value: arena.str($0.1)) }
            if i % 5 == 0 { kvs[1].value = awkward(7, arena) }
            p.labels = arena.array(kvs)
            p.label_count = kvs.count
            points.append(p)
        }
        var spans: [firefly_span] = []
        for i in 0..<30 {
            let values: [AttributeValue] = [.string("s"), .bool(true), .int(Int64.min), .double(-2.5), .bytes([0, 0xFF]), .json("[1]")]
            let attrs = (0..<(i % 7)).map { Attribute("a\($0)", values[($0 + i) % values.count]) }
            var s = BatchBridge.cSpan(
                Span(traceID: TraceID(high: UInt64.random(in: 0...UInt64.max, using: &rng), low: UInt64(i)), spanID: SpanID(UInt64(i) << 56 | 1),
                     parentSpanID: SpanID(UInt64(i)), name: "n", startTimeUnixNano: 1, endTimeUnixNano: UInt64.max,
                     attributes: attrs, resourceAttributes: attrs.reversed(),
                     events: i % 3 == 0 ? [SpanEvent(timeUnixNano: 5, name: "e", attributes: attrs)] : [],
                     links: i % 4 == 0 ? [SpanLink(traceID: TraceID(high: 1, low: UInt64.max), spanID: SpanID(2), traceState: "t", attributes: attrs)] : []),
                arena)
            s.name = awkward(i + seed, arena)
            s.trace_state = awkward(i + 4, arena)
            s.status_message = awkward(i + 5, arena)
            s.service = awkward(i + 6, arena)
            s.kind = UInt32(i % 8)  // 6 and 7 are unknown kinds
            s.status_code = UInt32(i % 4)  // 3 is unknown
            if i % 6 == 5, s.attribute_count > 0 {
                // A type this host does not know, and a bytes value with no pointer.
                var raw = Array(BatchBridge.buffer(s.attributes, s.attribute_count))
                raw[0].type = 99
                raw[0].string_value = awkward(i, arena)
                if raw.count > 1 {
                    raw[1].type = FIREFLY_ATTR_BYTES.rawValue
                    raw[1].string_value = firefly_str(ptr: nil, len: 3)
                }
                s.attributes = arena.array(raw)
            }
            spans.append(s)
        }
        var logs: [firefly_log_record] = []
        let bodies: [AttributeValue] = [.string("REPORT RequestId: r"), .json(#"{"a":[1,2]}"#), .int(7), .bytes([1, 0xFF]), .bool(false)]
        for i in 0..<20 {
            var l = BatchBridge.cLog(
                LogRecord(timeUnixNano: UInt64(i) * 1_000_000, observedTimeUnixNano: UInt64.random(in: 0...UInt64.max, using: &rng),
                          severityNumber: UInt8(i % 25), severityText: "INFO", body: bodies[i % bodies.count],
                          attributes: [Attribute("faas.invocation_id", .string("r\(i)"))],
                          resourceAttributes: i % 2 == 0 ? [Attribute("cloud.account.id", .string("123456789012"))] : [],
                          traceID: TraceID(high: UInt64(i), low: 1), spanID: SpanID(UInt64(i)), traceFlags: UInt32(i % 2),
                          function: "f", service: "s", scopeName: "sc", scopeVersion: "1", recordID: "\(i)"),
                arena)
            l.severity_text = awkward(i + seed, arena)
            l.function = awkward(i + 2, arena)
            l.record_id = awkward(i + 3, arena)
            if i % 7 == 6 { l.severity_number = 300 }  // beyond OpenTelemetry's 24: clamped, as the bridge does
            if i % 5 == 4 { l.body.type = 99 }  // an unknown body type reads as a string
            logs.append(l)
        }
        var invocations: [firefly_invocation] = []
        for i in 0..<10 {
            var v = BatchBridge.cInvocation(
                Invocation(function: "f\(i)", version: i % 2 == 0 ? "$LATEST" : "7", requestID: "req-\(i)",
                           startTimeUnixNano: UInt64(i), durationMs: Double(i) + 0.25, billedDurationMs: Double(i + 1),
                           memorySizeMB: 128, maxMemoryUsedMB: UInt32(i), initDurationMs: i % 3 == 0 ? 200.5 : nil,
                           status: InvocationStatus(rawValue: UInt32(i % 4))!, errorType: i % 4 == 3 ? "Runtime.OutOfMemory" : "",
                           traceID: TraceID(high: 0, low: UInt64(i)), attributes: [Attribute("cloud.region", .string("eu-west-1"))]),
                arena)
            v.request_id = awkward(i + seed, arena)
            if i == 9 { v.status = 42 }  // unknown: an error, as the bridge reads it
            invocations.append(v)
        }
        return batch(points, spans, arena, logs: logs, invocations: invocations)
    }

    @Test(arguments: 0..<8) func recordsDecodeToWhatTheBridgeReads(seed: Int) throws {
        let arena = CArena()
        let c = Self.randomBatch(arena, seed: seed)
        let swift = try BatchBridge.telemetry(from: c)
        #expect(swift.logs.count == 20 && swift.invocations.count == 10)
        for bits in 0...Signals.all.rawValue {
            let keeping = Signals(rawValue: bits)
            var w = ByteWriter()
            let counts = try RecordCodec.encode(c, receiver: "firehose", keeping: keeping, into: &w)
            let expected = swift.keeping(keeping)
            #expect(counts == RecordCodec.Counts(
                points: expected.points.count, spans: expected.spans.count, logs: expected.logs.count, invocations: expected.invocations.count))
            // Swift values are encoded through their C view: the same bytes.
            #expect(RecordCodec.encode(expected, receiver: "firehose") == w.bytes)
            // And the record decodes to values that encode to it again (compared as bytes: the
            // batch holds NaNs, which are never equal to themselves).
            let decoded = try RecordCodec.decode(w.bytes)
            #expect(decoded.receiver == "firehose")
            #expect(decoded.batch.itemCount == expected.itemCount)
            #expect(RecordCodec.encode(decoded.batch, receiver: "firehose") == w.bytes)
        }
    }

    @Test func aBatchFromAPluginBuiltBeforeLogsIsReadAtItsOwnSize() throws {
        let arena = CArena()
        let point = BatchBridge.cPoint(MetricPoint(name: "m", kind: .gauge, timeUnixNano: 1), arena)
        // A 1.0/1.1 batch ends after span_size; what follows it in memory must not be read as logs.
        var full = Self.batch([point], [], arena).pointee
        full.struct_size = UInt32(firefly_batch_size_1_0)
        full.log_count = 99
        full.logs = nil
        let old = arena.array(CollectionOfOne(full))!
        let swift = try BatchBridge.telemetry(from: old)
        #expect(swift.points.count == 1 && swift.logs.isEmpty && swift.invocations.isEmpty)
        var w = ByteWriter()
        #expect(try RecordCodec.encode(old, receiver: "r", keeping: .all, into: &w) == RecordCodec.Counts(points: 1))
    }

    @Test func elementArraysWithoutElementsOrWithTooSmallAStrideAreRefused() {
        let arena = CArena()
        var header = Self.batch([], [], arena).pointee
        header.log_count = 1  // and no logs
        let noLogs = arena.array(CollectionOfOne(header))!
        #expect(throws: BatchBridge.InvalidBatch(description: "batch log_size \(MemoryLayout<firefly_log_record>.stride) is invalid")) {
            try BatchBridge.telemetry(from: noLogs)
        }
        header = Self.batch([], [], arena, invocations: [BatchBridge.cInvocation(Invocation(function: "f", requestID: "r", startTimeUnixNano: 1, durationMs: 1), arena)]).pointee
        header.invocation_size = 8
        let narrow = arena.array(CollectionOfOne(header))!
        var w = ByteWriter()
        #expect(throws: BatchBridge.InvalidBatch(description: "batch invocation_size 8 is invalid")) {
            try RecordCodec.encode(narrow, receiver: "r", keeping: .all, into: &w)
        }
    }

    @Test func recordsOfEarlierVersionsStillRead() throws {
        let batch = TelemetryBatch(points: [MetricPoint(name: "m", kind: .gauge, timeUnixNano: 1)],
                                   spans: [Span(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), name: "s", startTimeUnixNano: 1, endTimeUnixNano: 2)])
        var v3 = RecordCodec.encode(batch, receiver: "otlp")
        #expect(v3.first == 3 && Array(v3.suffix(2)) == [0, 0])  // no logs, no invocations
        // Without resource attributes version 2 is the same bytes; version 1 is version 2 without the last two counts.
        var v2 = v3
        v2[0] = 2
        #expect(try RecordCodec.decode(v2).batch == batch)
        var v1 = Array(v2.dropLast(2))
        v1[0] = 1
        #expect(try RecordCodec.decode(v1).batch == batch)
        v3[0] = 4
        #expect(throws: RecordCodec.DecodeError(description: "unknown record version 4")) { try RecordCodec.decode(v3) }
    }

    /// A receiver hands every item of one resource the same attribute array: the record holds it
    /// once per run of items, and the exporter's C batch shares it again.
    @Test func itemsSharingAResourceArrayStoreItOnce() throws {
        let arena = CArena()
        let resource = BatchBridge.cAttributes([Attribute("service.name", .string("checkout")), Attribute("cloud.region", .string("eu-west-1"))], arena)
        let other = BatchBridge.cAttributes([Attribute("service.name", .string("billing"))], arena)
        func span(_ i: Int, _ attributes: UnsafePointer<firefly_attr>?, _ count: Int) -> firefly_span {
            var s = BatchBridge.cSpan(
                Span(traceID: TraceID(high: 1, low: UInt64(i)), spanID: SpanID(UInt64(i)), name: "s\(i)", startTimeUnixNano: 1, endTimeUnixNano: 2), arena)
            s.resource_attributes = attributes
            s.resource_attribute_count = count
            return s
        }
        func log(_ i: Int, _ attributes: UnsafePointer<firefly_attr>?, _ count: Int) -> firefly_log_record {
            var l = BatchBridge.cLog(LogRecord(timeUnixNano: UInt64(i), body: .string("line \(i)")), arena)
            l.resource_attributes = attributes
            l.resource_attribute_count = count
            return l
        }
        let spans = [span(1, resource, 2), span(2, resource, 2), span(3, nil, 0), span(4, resource, 2), span(5, other, 1), span(6, other, 1), span(7, resource, 2)]
        let logs = [log(1, resource, 2), log(2, resource, 2), log(3, other, 1)]
        let c = Self.batch([], spans, arena, logs: logs)
        var w = ByteWriter()
        try RecordCodec.encode(c, receiver: "otlp", keeping: .all, into: &w)
        let swift = try BatchBridge.telemetry(from: c)
        // Swift values' C view has an array per item: each is written in full.
        let unshared = RecordCodec.encode(swift, receiver: "otlp")
        #expect(w.bytes.count < unshared.count)
        #expect(try RecordCodec.decode(w.bytes).batch == swift)
        #expect(try RecordCodec.decode(unshared).batch == swift)

        let export = ExportBatch()
        try export.append(record: w.bytes) { _ in .all }
        let out = export.slices(maxItems: 100)[0].cBatch().pointee
        let outSpans = UnsafeBufferPointer(start: out.spans, count: out.span_count)
        #expect(outSpans[1].resource_attributes == outSpans[0].resource_attributes)
        #expect(outSpans[2].resource_attribute_count == 0)
        #expect(outSpans[3].resource_attributes == outSpans[0].resource_attributes)  // after an empty set
        #expect(outSpans[5].resource_attributes == outSpans[4].resource_attributes)
        #expect(outSpans[4].resource_attributes != outSpans[0].resource_attributes)
        let outLogs = UnsafeBufferPointer(start: out.logs, count: out.log_count)
        #expect(outLogs[1].resource_attributes == outLogs[0].resource_attributes)
        #expect(outLogs[2].resource_attribute_count == 1)
    }

    @Test func aReferenceToAResourceBeforeTheFirstIsRefused() throws {
        var w = ByteWriter()
        w.byte(RecordCodec.version)
        w.string("otlp")
        w.varint(0)  // points
        w.varint(1)  // one span
        w.u64(1); w.u64(2); w.u64(3); w.u64(0)  // trace id, span id, parent
        w.varint(0); w.varint(0)  // trace state, name
        w.byte(0); w.byte(0); w.varint(0)  // kind, status, message
        w.u64(1); w.u64(2)
        for _ in 0..<4 { w.varint(0) }  // function, service, scope name and version
        w.varint(0)  // attributes
        w.varint(1)  // resource attributes: "the previous item's"
        w.varint(0); w.varint(0); w.varint(0); w.varint(0)  // events, links, logs, invocations
        #expect(throws: RecordCodec.DecodeError(description: "resource attributes refer to a previous item that is not there")) {
            try RecordCodec.decode(w.bytes)
        }
    }

    @Test func anUnknownMetricKindIsRefusedAsTheBridgeRefusesIt() {
        let arena = CArena()
        var p = BatchBridge.cPoint(MetricPoint(name: "odd", kind: .gauge, timeUnixNano: 1), arena)
        p.kind = 42
        let c = Self.batch([p], [], arena)
        var w = ByteWriter()
        #expect(throws: BatchBridge.InvalidBatch(description: "metric point 'odd' has unknown kind 42")) {
            try RecordCodec.encode(c, receiver: "r", keeping: .all, into: &w)
        }
        #expect(throws: BatchBridge.InvalidBatch(description: "metric point 'odd' has unknown kind 42")) { try BatchBridge.telemetry(from: c) }
    }
}
