import FireflyModel
import Foundation
import Testing

@testable import FireflyCore

@Suite struct DeadLetterFileTests {
    static func file() -> DeadLetterFile {
        DeadLetterFile(path: NSTemporaryDirectory() + "firefly-dl-\(UUID().uuidString)/dead-letters.jsonl")
    }

    static func batch(_ name: String) -> TelemetryBatch {
        TelemetryBatch(points: [MetricPoint(name: name, kind: .gauge, timeUnixNano: 1)])
    }

    @Test func entriesRoundTripWithTheirReasonOneItemALine() throws {
        let file = Self.file()
        file.write(exporter: "postgres", reason: "line one\nline two", batch: Self.batch("a"))
        file.write(exporter: "debug", reason: "no", batch: Self.batch("b"))
        let lines = DeadLetterFile.lines(of: file.read())
        #expect(lines.map { $0.entry?.exporter } == ["postgres", "debug"])
        #expect(lines.map { $0.entry?.reason } == ["line one\nline two", "no"])
        #expect(lines.map { $0.entry?.batch } == [Self.batch("a"), Self.batch("b")])
        let summaries = DeadLetterFile.entries(in: file.read())
        #expect(summaries.map(\.points) == [1, 1] && summaries.map(\.spans) == [0, 0])
    }

    @Test func aRewriteKeepsWhatWasAppendedAfterItsReadAndRemovesAnEmptyFile() throws {
        let file = Self.file()
        file.write(exporter: "postgres", reason: "first", batch: Self.batch("a"))
        let read = file.read()
        file.write(exporter: "postgres", reason: "appended meanwhile", batch: Self.batch("b"))
        try file.replace(consumed: read.count, with: Data())
        #expect(DeadLetterFile.lines(of: file.read()).map { $0.entry?.reason } == ["appended meanwhile"])
        try file.replace(consumed: file.read().count, with: Data())
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }
}
