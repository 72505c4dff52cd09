import FireflyPluginKitTesting
import FireflyModel
import FireflyWire
import FireflyPluginKit
import Foundation
import GRPCCore
import Testing

@testable import OTLPAdapter

/// Attribute limits (400 naming the limit), linear decoding time, and bounded decompression of
/// compressed gRPC messages.
@Suite(.serialized) struct HostileInputTests {
    static let limit = ProtoCommon.maxAttributesPerItem

    /// ExportTraceServiceRequest: one resource with `resourceAttributes`, `spans` spans with
    /// `attributes` attributes each.
    static func tracesProto(spans: Int, attributes: Int, resourceAttributes: Int = 1) -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { rs in
            rs.message(1) { resource in
                for a in 0..<resourceAttributes {
                    resource.message(1) { kv in
                        kv.stringField(1, "resource.key.\(a)")
                        kv.message(2) { $0.stringField(1, "value-\(a)") }
                    }
                }
            }
            rs.message(2) { scope in
                for s in 0..<spans {
                    scope.message(2) { span in
                        span.bytesField(1, [UInt8](repeating: 1, count: 16))
                        span.bytesField(2, withUnsafeBytes(of: UInt64(s + 1).bigEndian, Array.init))
                        span.stringField(5, "span-\(s)")
                        span.fixed64Field(7, 1_700_000_000_000_000_000)
                        span.fixed64Field(8, 1_700_000_000_100_000_000)
                        for a in 0..<attributes {
                            span.message(9) { kv in
                                kv.stringField(1, "key.\(a)")
                                kv.message(2) { $0.stringField(1, "value-\(a)") }
                            }
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    /// ExportMetricsServiceRequest as OTLP/JSON: one gauge with `points` points of `attributes` attributes.
    static func metricsJSON(points: Int, attributes: Int) -> [UInt8] {
        let attrs = (0..<attributes).map { #"{"key":"key.\#($0)","value":{"stringValue":"value-\#($0)"}}"# }.joined(separator: ",")
        let point = #"{"asDouble":1.5,"timeUnixNano":"1700000000000000000","attributes":[\#(attrs)]}"#
        let all = Array(repeating: point, count: points).joined(separator: ",")
        return Array(#"{"resourceMetrics":[{"resource":{"attributes":[]},"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[\#(all)]}}]}]}]}"#.utf8)
    }

    static func expectLinear(_ what: String, signal: Signal, encoding: OTLPEncoding, small: [UInt8], large: [UInt8]) async {
        let (t1, t10) = await Timing.onItsOwnThread {
            Timing.fastest(
                { _ = try? OTLPAdapter.decode(small, signal: signal, encoding: encoding) },
                { _ = try? OTLPAdapter.decode(large, signal: signal, encoding: encoding) })
        }
        // Linear work grows 10×; quadratic would grow 100×. The margin above 10× absorbs what a
        // loaded machine does to caches and clocks (15× was exceeded by a linear decoder in CI).
        #expect(t10 <= 25 * t1, "\(what): 10× the input took \(t10 / t1)× the time (\(t1) s → \(t10) s)")
    }

    @Test func spansAndPointsAtTheAttributeLimitDecodeInLinearTime() async throws {
        let spans = Self.tracesProto(spans: 30, attributes: Self.limit, resourceAttributes: Self.limit)
        let decoded = try OTLPAdapter.decode(spans, signal: .traces, encoding: .protobuf)
        #expect(decoded.batch.spans.count == 30)
        #expect(decoded.batch.spans.first?.attributes.count == Self.limit)
        await Self.expectLinear(
            "spans", signal: .traces, encoding: .protobuf, small: spans,
            large: Self.tracesProto(spans: 300, attributes: Self.limit, resourceAttributes: Self.limit))
        let points = Self.metricsJSON(points: 30, attributes: Self.limit)
        #expect(try OTLPAdapter.decode(points, signal: .metrics, encoding: .json).batch.points.count == 30)
        await Self.expectLinear(
            "points", signal: .metrics, encoding: .json, small: points, large: Self.metricsJSON(points: 300, attributes: Self.limit))
    }

    @Test func itemsOverTheAttributeLimitAreRefusedInLinearTime() async {
        await Self.expectLinear(
            "span attributes over the limit", signal: .traces, encoding: .protobuf,
            small: Self.tracesProto(spans: 1, attributes: 2_000), large: Self.tracesProto(spans: 1, attributes: 20_000))
        await Self.expectLinear(
            "point attributes over the limit", signal: .metrics, encoding: .json,
            small: Self.metricsJSON(points: 1, attributes: 5_000), large: Self.metricsJSON(points: 1, attributes: 50_000))
    }

    @Test func anItemOverTheAttributeLimitAnswers400NamingTheLimit() throws {
        let message = "an item has more than 128 attributes (the limit per resource, span, event, link, data point or log record)"
        let cases: [(String, [UInt8], String?)] = [
            ("/v1/traces", Self.tracesProto(spans: 1, attributes: Self.limit + 1), "application/x-protobuf"),
            ("/v1/traces", Self.tracesProto(spans: 1, attributes: 1, resourceAttributes: Self.limit + 1), "application/x-protobuf"),
            ("/v1/metrics", Self.metricsJSON(points: 1, attributes: Self.limit + 1), "application/json"),
        ]
        for (path, body, contentType) in cases {
            let sink = RecordingSink()
            let response = try makeAdapter().handle(post(path, body, contentType: contentType), sink: sink)
            #expect(response.status == 400)
            if contentType == "application/json" {
                #expect(response.text.contains(message), "\(response.text)")
            } else {
                #expect(response.body.count > message.utf8.count && response.text.contains(message), "\(response.text)")
            }
            #expect(sink.batches.isEmpty)
        }
        // At the limit: accepted.
        let ok = try makeAdapter().handle(post("/v1/traces", Self.tracesProto(spans: 1, attributes: Self.limit)), sink: RecordingSink())
        #expect(ok.status == 200)
    }

    // MARK: Compressed gRPC messages

    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = NSTemporaryDirectory() + "otlp-gzip-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: dir))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c", "-n", dir]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Array(data)
    }

    func deserialize(_ compressed: [UInt8], _ algorithm: GRPCCompression, max: Int = 1 << 20) throws -> OTLPDecodedExport {
        try OTLPRequestDeserializer(signal: .traces, maxMessageBytes: max)
            .deserialize(CompressedMessage.header(algorithm) + compressed)
    }

    @Test func aCompressedMessageIsInflatedAfterTheGate() throws {
        let body = Self.tracesProto(spans: 3, attributes: 2)
        let decoded = try deserialize(try gzip(body), .gzip)
        #expect(decoded.batch.spans.map(\.name) == ["span-0", "span-1", "span-2"])
    }

    @Test func everyTruncationOfACompressedMessageIsInvalidArgument() throws {
        let compressed = try gzip(Self.tracesProto(spans: 50, attributes: 5))
        for cut in stride(from: 0, to: compressed.count, by: 7) {
            do {
                _ = try deserialize(Array(compressed.prefix(cut)), .gzip)
                Issue.record("a message cut at \(cut) of \(compressed.count) bytes decoded")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument, "cut at \(cut): \(error)")
                #expect(error.message.hasPrefix("cannot decompress the request message"), "cut at \(cut): \(error.message)")
            }
        }
    }

    @Test func aCompressedMessageInflatingPastTheLimitIsResourceExhausted() throws {
        let bomb = try gzip([UInt8](repeating: 0, count: 4 << 20))
        #expect(bomb.count < 10_000)
        do {
            _ = try deserialize(bomb, .gzip, max: 1 << 20)
            Issue.record("a bomb decoded")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message == "gzip message inflates to more than 2097152 bytes, over grpc.max_message_bytes")
        }
    }

    @Test func deflateIsTheZlibFormat() throws {
        // zlib header 78 9C, a stored block would do; real zlib output via Python's zlib module.
        let r = Process()
        r.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        r.arguments = ["python3", "-c", "import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))"]
        let input = Pipe(), output = Pipe()
        r.standardInput = input
        r.standardOutput = output
        try r.run()
        let body = Self.tracesProto(spans: 2, attributes: 1)
        input.fileHandleForWriting.write(Data(body))
        try input.fileHandleForWriting.close()
        let compressed = Array(output.fileHandleForReading.readDataToEndOfFile())
        r.waitUntilExit()
        #expect(try Inflater.inflate(compressed, format: .zlib, limit: 1 << 20) == body)
        #expect(throws: Inflater.Failure.invalid("truncated deflate data")) {
            try Inflater.inflate(Array(compressed.dropLast(5)), format: .zlib, limit: 1 << 20)
        }
    }
}
