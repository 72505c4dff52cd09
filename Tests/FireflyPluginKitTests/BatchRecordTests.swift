import CFireflyPlugin
import FireflyModel
import Testing

@testable import FireflyPluginKit

/// `BatchRecord` writes the durable queue's record straight from a C batch; it must give exactly
/// the bytes of the long way round (C → Swift values → `BatchCodec`), whatever the plugin sent.
@Suite struct BatchRecordTests {
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

    static func batch(_ points: [firefly_metric_point], _ spans: [firefly_span], _ arena: CArena) -> UnsafePointer<firefly_batch> {
        let header = firefly_batch(
            abi_version: firefly_abi_version, struct_size: UInt32(MemoryLayout<firefly_batch>.size),
            points: arena.array(points), point_count: points.count, point_size: MemoryLayout<firefly_metric_point>.stride,
            spans: arena.array(spans), span_count: spans.count, span_size: MemoryLayout<firefly_span>.stride)
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
        return batch(points, spans, arena)
    }

    @Test(arguments: 0..<8) func recordsEqualTheEncodedSwiftBatch(seed: Int) throws {
        let arena = CArena()
        let c = Self.randomBatch(arena, seed: seed)
        let swift = try BatchBridge.telemetry(from: c)
        for (keepPoints, keepSpans) in [(true, true), (true, false), (false, true), (false, false)] {
            var w = ByteWriter()
            let counts = try BatchRecord.encode(c, receiver: "firehose", keepPoints: keepPoints, keepSpans: keepSpans, into: &w)
            let expected = TelemetryBatch(points: keepPoints ? swift.points : [], spans: keepSpans ? swift.spans : [])
            #expect(counts.points == expected.points.count && counts.spans == expected.spans.count)
            #expect(w.bytes == BatchCodec.encode(expected, receiver: "firehose"))
        }
    }

    @Test func anUnknownMetricKindIsRefusedAsTheBridgeRefusesIt() {
        let arena = CArena()
        var p = BatchBridge.cPoint(MetricPoint(name: "odd", kind: .gauge, timeUnixNano: 1), arena)
        p.kind = 42
        let c = Self.batch([p], [], arena)
        var w = ByteWriter()
        #expect(throws: BatchBridge.InvalidBatch(description: "metric point 'odd' has unknown kind 42")) {
            try BatchRecord.encode(c, receiver: "r", keepPoints: true, keepSpans: true, into: &w)
        }
        #expect(throws: BatchBridge.InvalidBatch(description: "metric point 'odd' has unknown kind 42")) { try BatchBridge.telemetry(from: c) }
    }
}
