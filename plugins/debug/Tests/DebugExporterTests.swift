import DebugExporter
import FireflyModel
import FireflyPluginKit
import Foundation
import Testing

@Suite struct DebugExporterTests {
    @Test func writesOneJSONLinePerPointAndSpan() async throws {
        let path = NSTemporaryDirectory() + "debug-\(UUID().uuidString)/out.jsonl"
        let exporter = try DebugExporter(context: .standalone(instanceName: "debug"), config: PluginConfig(["path": .string(path)]))
        let point = MetricPoint(name: "m", kind: .gauge, timeUnixNano: 5, value: 1.5)
        let span = Span(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), name: "s", startTimeUnixNano: 1, endTimeUnixNano: 2)
        #expect(await exporter.export(TelemetryBatch(points: [point], spans: [span])) == .ok)
        #expect(await exporter.export(TelemetryBatch(points: [point])) == .ok)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONDecoder().decode(DebugRecord.self, from: Data($0.utf8)) }
        #expect(records == [DebugRecord(point: point), DebugRecord(span: span), DebugRecord(point: point)])
    }

    @Test func discardAcknowledgesWithoutWritingAndExcludesAPath() async throws {
        let exporter = try DebugExporter(context: .standalone(instanceName: "debug"), config: PluginConfig(["discard": .bool(true)]))
        let point = MetricPoint(name: "m", kind: .gauge, timeUnixNano: 5, value: 1.5)
        #expect(await exporter.export(TelemetryBatch(points: [point])) == .ok)
        #expect(throws: PluginConfigError(problems: ["discard: discards every batch: leave out path"])) {
            try DebugExporter(
                context: .standalone(instanceName: "debug"), config: PluginConfig(["discard": .bool(true), "path": .string("/tmp/x")]))
        }
    }

    @Test func refusesUnknownKeys() {
        #expect(throws: PluginConfigError(problems: ["file: unknown key 'file'"])) {
            try DebugExporter(context: .standalone(instanceName: "debug"), config: PluginConfig(["file": .string("x")]))
        }
    }
}

@Suite struct DebugLinesTests {
    /// JSONEncoder with sorted keys is the reference for the hand-written line format.
    static func reference(_ batch: TelemetryBatch) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out: [UInt8] = []
        for p in batch.points { out += try encoder.encode(DebugRecord(point: p)) + [0x0A] }
        for s in batch.spans { out += try encoder.encode(DebugRecord(span: s)) + [0x0A] }
        return out
    }

    static let awkward = ["", "plain", "quote \" backslash \\ slash /", "tab\tnew\nline\r", "\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}",
                          "ünïcødé ✓ 𝄞", String(repeating: "long ", count: 200)]
    static let numbers: [Double] = [0, -0.0, 1, -1, 1.5, 0.1, 1e-7, 123456789012345680, 1e21, 1e300, -2.5e-300,
                                    Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 812.5, 3.2, 1530]

    @Test func pointsMatchJSONEncoderByteForByte() throws {
        var rng = SystemRandomNumberGenerator()
        var points: [MetricPoint] = []
        for i in 0..<400 {
            let s = Self.awkward[i % Self.awkward.count]
            var p = MetricPoint(
                name: s, namespace: Self.awkward[(i + 1) % Self.awkward.count], unit: "Milliseconds", function: "fn-\(i)",
                kind: [.gauge, .cumulativeSum, .deltaSum, .summary, .histogram][i % 5], isMonotonic: i % 2 == 0,
                hasMinMax: i % 3 == 0, isDelta: i % 4 == 0,
                labels: (0..<(i % 4)).map { Label("k\($0)\(s)", Self.awkward[($0 + i) % Self.awkward.count]) },
                startTimeUnixNano: UInt64.random(in: 0...UInt64.max, using: &rng), timeUnixNano: i == 0 ? 0 : UInt64.max,
                value: Self.numbers[i % Self.numbers.count], count: Double(i), sum: Double.random(in: -1e9...1e9, using: &rng),
                min: Self.numbers[(i + 3) % Self.numbers.count], max: Double(bitPattern: UInt64.random(in: 0...0x7FEF_FFFF_FFFF_FFFF, using: &rng)))
            if i % 5 == 3 { p.quantiles = [Quantile(0.5, 101.25), Quantile(0.99, Double.random(in: 0...1000, using: &rng))] }
            if i % 5 == 4 {
                p.bounds = [0, 5, 10.5, 1e6]
                p.bucketCounts = [1, 0, UInt64.max, 7, 42]
            }
            points.append(p)
        }
        let batch = TelemetryBatch(points: points)
        #expect(DebugLines.encode(batch) == (try Self.reference(batch)))
    }

    @Test func spansMatchJSONEncoderByteForByte() throws {
        var rng = SystemRandomNumberGenerator()
        var spans: [Span] = []
        for i in 0..<200 {
            let s = Self.awkward[i % Self.awkward.count]
            let values: [AttributeValue] = [.string(s), .bool(i % 2 == 0), .int(Int64.random(in: .min ... .max, using: &rng)), .int(Int64.min),
                                            .double(Self.numbers[i % Self.numbers.count]), .bytes([0, 0xAB, 0xFF, UInt8(i % 256)]), .json("[1,\"a\"]")]
            let attrs = (0..<(i % 8)).map { Attribute("a\($0)", values[($0 + i) % values.count]) }
            spans.append(
                Span(
                    traceID: TraceID(high: UInt64.random(in: 0...UInt64.max, using: &rng), low: UInt64(i)), spanID: SpanID(UInt64(i + 1)),
                    parentSpanID: i % 3 == 0 ? .zero : SpanID(UInt64.max), traceState: i % 2 == 0 ? "" : "vendor=\(s)", name: s,
                    kind: SpanKind(rawValue: UInt32(i % 6))!, statusCode: StatusCode(rawValue: UInt32(i % 3))!, statusMessage: s,
                    startTimeUnixNano: UInt64(i) * 1_000_000_007, endTimeUnixNano: UInt64.max - UInt64(i), function: "fn", service: s,
                    scopeName: "scope", scopeVersion: "1.0", attributes: attrs, resourceAttributes: Array(attrs.reversed()),
                    events: i % 4 == 0 ? [SpanEvent(timeUnixNano: 5, name: s, attributes: attrs)] : [],
                    links: i % 5 == 0 ? [SpanLink(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), traceState: s, attributes: attrs)] : []))
        }
        let batch = TelemetryBatch(spans: spans)
        #expect(DebugLines.encode(batch) == (try Self.reference(batch)))
    }

    @Test func nonFiniteNumbersBecomeStringsInsteadOfFailingTheBatch() throws {
        let batch = TelemetryBatch(points: [
            MetricPoint(name: "m", kind: .gauge, timeUnixNano: 1, value: .nan, min: -.infinity, max: .infinity),
        ])
        let line = String(decoding: DebugLines.encode(batch), as: UTF8.self)
        #expect(line.contains(#""value":"NaN""#))
        #expect(line.contains(#""min":"-Infinity""#))
        #expect(line.contains(#""max":"Infinity""#))
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let record = try decoder.decode(DebugRecord.self, from: Data(line.utf8.dropLast()))
        #expect(record.point?.value.isNaN == true)
        #expect(record.point?.min == -.infinity)
        #expect(record.point?.max == .infinity)
    }
}
