import FireflyModel
import Testing

@testable import FireflyCore

@Suite struct RejectionSplitterTests {
    static let points = (0..<10).map { MetricPoint(name: "m\($0)", kind: .gauge, timeUnixNano: 1) }
    static let spans = (0..<6).map {
        Span(traceID: TraceID(high: 1, low: 1), spanID: SpanID(UInt64($0 + 1)), name: "s\($0)", startTimeUnixNano: 0, endTimeUnixNano: 1)
    }

    /// Records what an exporter that refuses some names was sent and what it accepted.
    final class Exporter {
        let refused: Set<String>
        var delivered: [String] = []
        var exports = 0
        init(refusing refused: Set<String>) { self.refused = refused }

        func export(_ batch: TelemetryBatch) -> RejectionSplitter.Outcome {
            exports += 1
            let names = batch.points.map(\.name) + batch.spans.map(\.name)
            let bad = names.filter(refused.contains)
            if bad.isEmpty {
                delivered += names
                return .delivered
            }
            return .rejected(message: "refused \(bad.joined(separator: ","))")
        }
    }

    @Test func onlyTheRejectedItemsAreGivenUpEachWithItsOwnMessage() async {
        let exporter = Exporter(refusing: ["m3", "m7", "s4"])
        var rejected: [(TelemetryBatch, String)] = []
        var splits = 0
        let finished = await RejectionSplitter.deliver(
            TelemetryBatch(points: Self.points, spans: Self.spans), export: { exporter.export($0) },
            split: { _, _ in splits += 1 }, rejected: { rejected.append(($0, $1)) })
        #expect(finished)
        #expect(rejected.map(\.0) == [
            TelemetryBatch(points: [Self.points[3]]), TelemetryBatch(points: [Self.points[7]]), TelemetryBatch(spans: [Self.spans[4]]),
        ])
        #expect(rejected.map(\.1) == ["refused m3", "refused m7", "refused s4"])
        let good = (Self.points.map(\.name) + Self.spans.map(\.name)).filter { !["m3", "m7", "s4"].contains($0) }
        #expect(exporter.delivered == good)  // each good item once, in order
        #expect(splits > 0 && splits < 16)
    }

    @Test func aBatchThatGoesThroughIsExportedOnceAndASingleRejectedItemIsNotSplit() async {
        let exporter = Exporter(refusing: ["m0"])
        var splits = 0
        var rejected: [String] = []
        #expect(await RejectionSplitter.deliver(
            TelemetryBatch(spans: Self.spans), export: { exporter.export($0) }, split: { _, _ in splits += 1 },
            rejected: { _, m in rejected.append(m) }))
        #expect(exporter.exports == 1 && splits == 0 && rejected.isEmpty)
        #expect(await RejectionSplitter.deliver(
            TelemetryBatch(points: [Self.points[0]]), export: { exporter.export($0) }, split: { _, _ in splits += 1 },
            rejected: { _, m in rejected.append(m) }))
        #expect(exporter.exports == 2 && splits == 0 && rejected == ["refused m0"])
    }

    @Test func stoppingMidwayReportsNotFinishedAndGivesNothingUp() async {
        var calls = 0
        var rejected = 0
        let finished = await RejectionSplitter.deliver(
            TelemetryBatch(points: Self.points),
            export: { _ in
                calls += 1
                return calls == 1 ? .rejected(message: "no") : .stopped
            },
            split: { _, _ in }, rejected: { _, _ in rejected += 1 })
        #expect(!finished)
        #expect(calls == 2 && rejected == 0)
    }

    @Test func halvesSplitItemsPointsFirstAndKeepEveryItem() {
        let batch = TelemetryBatch(points: Array(Self.points.prefix(3)), spans: Array(Self.spans.prefix(5)))
        let (a, b) = RejectionSplitter.halves(of: batch)
        #expect(a == TelemetryBatch(points: Array(Self.points.prefix(3)), spans: [Self.spans[0]]))
        #expect(b == TelemetryBatch(spans: Array(Self.spans[1..<5])))
        let (c, d) = RejectionSplitter.halves(of: TelemetryBatch(points: Array(Self.points.prefix(2))))
        #expect(c == TelemetryBatch(points: [Self.points[0]]) && d == TelemetryBatch(points: [Self.points[1]]))
        let (e, f) = RejectionSplitter.halves(of: TelemetryBatch(points: [Self.points[0]], spans: [Self.spans[0]]))
        #expect(e == TelemetryBatch(points: [Self.points[0]]) && f == TelemetryBatch(spans: [Self.spans[0]]))
    }
}
