import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
@testable import FirehoseAdapter
import Foundation
import Testing

/// Decoding work grows linearly with the input, and a data point over a limit answers 400.
@Suite(.serialized) struct DecodeLimitTests {
    /// A CloudWatch JSON line with `dimensions` dimensions (distinct keys unless `repeated`) and
    /// `percentiles` percentile statistics.
    static func line(dimensions: Int, percentiles: Int = 1, repeated: Bool = false) -> String {
        let dims = (0..<dimensions).map { #""Dim\#(repeated ? $0 % 7 : $0)":"value-\#($0)""# }.joined(separator: ",")
        let stats = (0..<percentiles).map { #""p\#(String(format: "%.4f", 1 + Double($0) * 98 / Double(max(percentiles, 1))))":\#($0)"# }
            .joined(separator: ",")
        return #"{"namespace":"AWS/Lambda","metric_name":"Duration","dimensions":{"FunctionName":"f",\#(dims)},"timestamp":1700000000000,"value":{"min":1,"max":9,"sum":20,"count":4,\#(stats)},"unit":"Milliseconds"}"#
    }

    /// A varint-delimited OpenTelemetry 1.0 record: `points` summary points with `attributes`
    /// attributes each (inside the CloudWatch `Dimensions` kvlist) and `quantiles` quantile values.
    static func otelRecord(points: Int, attributes: Int, quantiles: Int = 2) -> [UInt8] {
        var metric = Proto()
        metric.string(1, "amazonaws.com/AWS/Lambda/Duration")
        var summary = Proto()
        for _ in 0..<points {
            var kvlist = Proto()
            for a in 0..<attributes {
                var kv = Proto()
                kv.string(1, "Dim\(a)")
                var v = Proto()
                v.string(1, "value-\(a)")
                kv.message(2, v)
                kvlist.message(1, kv)
            }
            var any = Proto()
            any.message(6, kvlist)
            var dims = Proto()
            dims.string(1, "Dimensions")
            dims.message(2, any)
            var point = Proto()
            point.message(7, dims)
            point.fixed64(3, 1_700_000_000_000_000_000)
            point.fixed64(4, 4)
            point.fixed64(5, Double(20).bitPattern)
            for q in 0..<quantiles {
                var vq = Proto()
                vq.fixed64(1, (Double(q) / Double(max(quantiles - 1, 1))).bitPattern)
                vq.fixed64(2, Double(q).bitPattern)
                point.message(6, vq)
            }
            summary.message(1, point)
        }
        metric.message(11, summary)
        var scope = Proto()
        scope.message(2, metric)
        var resourceMetrics = Proto()
        resourceMetrics.message(2, scope)
        var request = Proto()
        request.message(1, resourceMetrics)
        var record = Proto()
        record.varint(UInt64(request.bytes.count))
        return record.bytes + request.bytes
    }

    static func expectLinear(_ what: String, small: [UInt8], large: [UInt8]) async {
        let (t1, t10) = await Timing.onItsOwnThread {
            let decoder = FirehoseRequestDecoder()
            return Timing.fastest({ _ = try? decoder.decode(body: small) }, { _ = try? decoder.decode(body: large) })
        }
        // Linear work grows 10×; quadratic would grow 100×. The margin above 10× absorbs what a
        // loaded machine does to caches and clocks (15× was exceeded by a linear decoder in CI).
        #expect(t10 <= 25 * t1, "\(what): 10× the input took \(t10 / t1)× the time (\(t1) s → \(t10) s)")
    }

    @Test func cloudWatchDimensionsAtTheLimitDecodeInLinearTime() async {
        let full = Self.line(dimensions: DecodeLimits.labelsPerPoint - 1, percentiles: DecodeLimits.quantilesPerPoint)
        // 4 and 40 lines of ~8 KB: both bodies stay within the processor's caches, so the ratio
        // measures the decoder and not the memory hierarchy.
        let small = envelope(records: [Array(Array(repeating: full, count: 4).joined(separator: "\n").utf8)])
        let large = envelope(records: [Array(Array(repeating: full, count: 40).joined(separator: "\n").utf8)])
        let d = decodeRecord(Array(full.utf8))
        #expect(d.rejections == [])
        #expect(d.points.first?.labels.count == DecodeLimits.labelsPerPoint)
        #expect(d.points.first?.quantiles.count == DecodeLimits.quantilesPerPoint + 2)
        await Self.expectLinear("CloudWatch lines at the limit", small: small, large: large)
    }

    @Test func cloudWatchDimensionsOverTheLimitAreRefusedInLinearTime() async {
        let small = envelope(records: [Array(Self.line(dimensions: 2_000).utf8)])
        let large = envelope(records: [Array(Self.line(dimensions: 20_000).utf8)])
        await Self.expectLinear("16 000-dimension records", small: small, large: large)
        let repeated = envelope(records: [Array(Self.line(dimensions: 20_000, repeated: true).utf8)])
        let d = try? FirehoseRequestDecoder().decode(body: repeated)
        #expect(d?.rejections.map(\.reason) == [.limitExceeded])
    }

    @Test func openTelemetryAttributesAtTheLimitDecodeInLinearTime() async {
        let small = envelope(records: [Self.otelRecord(points: 10, attributes: DecodeLimits.labelsPerPoint, quantiles: DecodeLimits.quantilesPerPoint)])
        let large = envelope(records: [Self.otelRecord(points: 100, attributes: DecodeLimits.labelsPerPoint, quantiles: DecodeLimits.quantilesPerPoint)])
        let d = try? FirehoseRequestDecoder().decode(body: small)
        #expect(d?.rejections == [])
        #expect(d?.points.count == 10)
        #expect(d?.points.first?.labels.count == DecodeLimits.labelsPerPoint)
        await Self.expectLinear("OpenTelemetry points at the limit", small: small, large: large)
    }

    @Test func openTelemetryAttributesOverTheLimitAreRefusedInLinearTime() async {
        let small = envelope(records: [Self.otelRecord(points: 1, attributes: 2_000)])
        let large = envelope(records: [Self.otelRecord(points: 1, attributes: 20_000)])
        await Self.expectLinear("OpenTelemetry points over the limit", small: small, large: large)
        let d = try? FirehoseRequestDecoder().decode(body: small)
        #expect(d?.rejections.map(\.reason) == [.limitExceeded])
        #expect(d?.points == [])
    }

    @Test func repeatedKeysAndQuantilesKeepTheirLastValue() {
        let line =
            #"{"namespace":"N","metric_name":"M","dimensions":{"A":"1","B":"2","A":"3"},"timestamp":1700000000000,"value":{"min":1,"max":9,"sum":20,"count":4,"p50":5,"p90":8,"p50":6}}"#
        let d = decodeRecord(Array(line.utf8))
        #expect(d.points.first?.labels.sorted { $0.key < $1.key } == [Label("A", "3"), Label("B", "2")])
        #expect(d.points.first?.quantiles == [Quantile(0, 1), Quantile(0.5, 6), Quantile(0.9, 8), Quantile(1, 9)])
    }

    @Test(arguments: [
        (DecodeLimitTests.line(dimensions: 128 + 1), "dimensions"),
        (DecodeLimitTests.line(dimensions: 1, percentiles: 128 + 1), "percentile statistics"),
    ])
    func aRecordOverALimitAnswers400NamingTheLimit(line: String, what: String) throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(firehoseRequest(envelope(lines: [durationLine, line])), sink: sink)
        #expect(response.status == 400)
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(body?["requestId"] as? String == "req-1")
        let message = body?["errorMessage"] as? String ?? ""
        #expect(message.contains("more than 128 \(what)"), "\(message)")
        #expect(sink.batches.isEmpty)
    }

    @Test func tooManyCommonAttributesAnswer400NamingTheLimit() throws {
        func header(_ n: Int) -> String {
            #"{"commonAttributes":{"# + (0..<n).map { #""k\#($0)":"v""# }.joined(separator: ",") + "}}"
        }
        let sink = RecordingSink()
        let over = try makeAdapter().handle(
            firehoseRequest(envelope(lines: [durationLine]), extraHeaders: [(name: "X-Amz-Firehose-Common-Attributes", value: header(129))]),
            sink: sink)
        #expect(over.status == 400)
        #expect(over.text.contains("X-Amz-Firehose-Common-Attributes has more than 128 attributes"), "\(over.text)")
        #expect(sink.batches.isEmpty)
        let at = try makeAdapter().handle(
            firehoseRequest(envelope(lines: [durationLine]), extraHeaders: [(name: "X-Amz-Firehose-Common-Attributes", value: header(128))]),
            sink: sink)
        #expect(at.status == 200)
        #expect(sink.batches.first?.points.first?.labels.count == 3 + 128)
    }
}

/// Protobuf bytes for test records.
struct Proto {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wire: UInt64) { varint(UInt64(field) << 3 | wire) }

    mutating func string(_ field: Int, _ text: String) {
        tag(field, 2)
        varint(UInt64(text.utf8.count))
        bytes += Array(text.utf8)
    }

    mutating func message(_ field: Int, _ m: Proto) {
        tag(field, 2)
        varint(UInt64(m.bytes.count))
        bytes += m.bytes
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        bytes += withUnsafeBytes(of: value.littleEndian, Array.init)
    }
}
