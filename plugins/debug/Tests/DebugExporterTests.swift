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

    @Test func refusesUnknownKeys() {
        #expect(throws: PluginConfigError(problems: ["file: unknown key 'file'"])) {
            try DebugExporter(context: .standalone(instanceName: "debug"), config: PluginConfig(["file": .string("x")]))
        }
    }
}
