import FireflyModel
import Foundation
import Logging
import Testing

@testable import FireflyCore

@Suite struct SegmentFormatTests {
    func frames(_ n: Int) -> [UInt8] {
        (1...n).flatMap { SegmentFormat.frame(sequence: UInt64($0), payload: Array("payload \($0)".utf8)) }
    }

    @Test func scansEveryValidRecord() {
        let data = frames(3)
        let scan = data.withUnsafeBytes { SegmentFormat.scan($0) }
        #expect(scan.records.map(\.sequence) == [1, 2, 3])
        #expect(scan.validEnd == data.count)
        #expect(scan.problem == nil)
        #expect(scan.records[1].offset == scan.records[0].length)
    }

    @Test func detectsATornTailAtEveryByteOffsetOfTheLastRecord() {
        let data = frames(3)
        let lastStart = data.withUnsafeBytes { SegmentFormat.scan($0) }.records[2].offset
        for cut in lastStart..<data.count {
            let scan = Array(data[..<cut]).withUnsafeBytes { SegmentFormat.scan($0) }
            #expect(scan.records.map(\.sequence) == [1, 2], "cut at \(cut)")
            #expect(scan.validEnd == lastStart, "cut at \(cut)")
            #expect((scan.problem != nil) == (cut != lastStart), "cut at \(cut)")
        }
    }

    @Test func detectsAFlippedBitByChecksum() {
        var data = frames(3)
        let second = data.withUnsafeBytes { SegmentFormat.scan($0) }.records[1]
        for i in [second.offset + 4, second.offset + 9, second.offset + 20] {
            var corrupt = data
            corrupt[i] ^= 0x10
            let scan = corrupt.withUnsafeBytes { SegmentFormat.scan($0) }
            #expect(scan.records.map(\.sequence) == [1], "flip at \(i)")
        }
        data[second.offset] ^= 0xFF  // a huge length: incomplete, not a crash
        #expect(data.withUnsafeBytes { SegmentFormat.scan($0) }.records.count == 1)
    }
}

@Suite(.serialized) struct DurableQueueTests {
    let logger = Logger(label: "test")

    func directory() -> String { NSTemporaryDirectory() + "queue-\(UUID().uuidString)" }

    func entry(_ n: Int, receiver: String = "r") -> QueueEntry {
        QueueEntry(receiver: receiver, batch: TelemetryBatch(points: [
            MetricPoint(name: "m", namespace: "AWS/Lambda", kind: .summary, labels: [Label("n", "\(n)")], timeUnixNano: UInt64(n),
                        count: 2, sum: Double(n), quantiles: [Quantile(0, 1), Quantile(1, 2)])
        ]))
    }

    @Test func recordsSurviveReopeningAndEachConsumerResumesAtItsCursor() async throws {
        let dir = directory()
        do {
            let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a", "b"], logger: logger)
            for i in 1...5 { #expect(q.append(entry(i)) == .stored(sequence: UInt64(i))) }
            q.acknowledge(consumer: "a", through: 3)
            q.acknowledge(consumer: "b", through: 1)
            q.close()
        }
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a", "b"], logger: logger)
        #expect(q.cursor(consumer: "a") == 3)
        #expect(q.cursor(consumer: "b") == 1)
        let forA = await q.read(after: 3, maxRecords: 10)
        #expect(forA.map(\.sequence) == [4, 5])
        #expect(forA.map(\.entry) == [entry(4), entry(5)])
        #expect(await q.read(after: 1, maxRecords: 10).map(\.sequence) == [2, 3, 4, 5])
        #expect(q.append(entry(6)) == .stored(sequence: 6))
        q.close()
    }

    @Test func aTornTailIsTruncatedAndEverythingBeforeItKept() throws {
        let dir = directory()
        do {
            let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a"], logger: logger)
            for i in 1...3 { _ = q.append(entry(i)) }
            q.close()
        }
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").sorted()
        let file = dir + "/segments/" + segments.first { (try? FileManager.default.attributesOfItem(atPath: dir + "/segments/" + $0)[.size] as? Int ?? 0) ?? 0 > 0 }!
        let handle = FileHandle(forWritingAtPath: file)!
        handle.seekToEndOfFile()
        handle.write(Data([1, 2, 3, 4, 5, 6, 7]))  // half a header: a write torn by a crash
        try handle.close()
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a"], logger: logger)
        #expect(q.readAvailable(after: 0, maxRecords: 10).map(\.sequence) == [1, 2, 3])
        #expect(q.append(entry(4)) == .stored(sequence: 4))
        q.close()
    }

    @Test func aCorruptMiddleSegmentIsQuarantinedNotFatal() throws {
        let dir = directory()
        do {
            let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a"], segmentBytes: 4096, logger: logger)
            for i in 1...200 { _ = q.append(entry(i)) }
            q.close()
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").sorted()
        #expect(files.count >= 3)
        let middle = dir + "/segments/" + files[1]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: middle))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: middle))
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a"], segmentBytes: 4096, logger: logger)
        let all = q.readAvailable(after: 0, maxRecords: 1000).map(\.sequence)
        #expect(all.first == 1)
        #expect(all.last == 200)
        #expect(all.count < 200)  // the records after the damage in that one segment are gone
        #expect(all == all.sorted())
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/quarantine").count == 1)
        q.close()
    }

    @Test func segmentsAreDeletedOnceEveryConsumerPassedThem() throws {
        let dir = directory()
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a", "b"], segmentBytes: 4096, logger: logger)
        for i in 1...200 { _ = q.append(entry(i)) }
        let before = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").count
        #expect(before >= 3)
        q.acknowledge(consumer: "a", through: 200)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").count == before)
        q.acknowledge(consumer: "b", through: 200)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").count == 1)
        #expect(q.stats.records == 0)
        q.close()
    }

    @Test func aRemovedExporterReleasesItsCursor() throws {
        let dir = directory()
        do {
            let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a", "gone"], logger: logger)
            _ = q.append(entry(1))
            q.acknowledge(consumer: "a", through: 1)
            q.close()
        }
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a"], logger: logger)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/cursors") == ["a"])
        #expect(q.stats.records == 0)  // only 'a' remains, and it has everything
        q.close()
    }

    @Test func overTheBudgetAppendsAreRefusedUntilExportsFreeSpace() throws {
        let size = SegmentFormat.headerSize + BatchCodec.encode(entry(1).batch, receiver: "r").count
        let q = try DurableQueue(directory: directory(), maxBytes: size * 3, consumers: ["a"], logger: logger)
        for i in 1...3 { #expect(q.append(entry(i)) == .stored(sequence: UInt64(i))) }
        #expect(q.append(entry(4)) == .full(retryAfterMilliseconds: 2000))
        q.acknowledge(consumer: "a", through: 2)
        #expect(q.append(entry(4)) == .stored(sequence: 4))
        q.close()
    }

    @Test func concurrentAppendsAreGroupCommittedAndAllStored() async throws {
        let q = try DurableQueue(directory: directory(), maxBytes: 1 << 26, consumers: ["a"], logger: logger)
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<50 { _ = q.append(entry(t * 1000 + i)) }
                }
            }
        }
        let all = q.readAvailable(after: 0, maxRecords: 1000)
        #expect(all.count == 400)
        #expect(Set(all.map { $0.entry.batch.points[0].labels[0].value }).count == 400)
        q.close()
    }
}

@Suite struct BatchCodecTests {
    @Test func roundTripsEveryField() throws {
        let span = Span(
            traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), parentSpanID: SpanID(4), traceState: "a=b", name: "n",
            kind: .producer, statusCode: .error, statusMessage: "m", startTimeUnixNano: 5, endTimeUnixNano: 6,
            function: "f", service: "s", scopeName: "sc", scopeVersion: "1",
            attributes: [Attribute("s", .string("x")), Attribute("b", .bool(true)), Attribute("i", .int(-1)),
                         Attribute("d", .double(0.5)), Attribute("y", .bytes([9])), Attribute("j", .json("[]"))],
            resourceAttributes: [Attribute("service.name", .string("s"))],
            events: [SpanEvent(timeUnixNano: 7, name: "e", attributes: [Attribute("k", .int(1))])],
            links: [SpanLink(traceID: TraceID(high: 8, low: 9), spanID: SpanID(10), traceState: "t", attributes: [])])
        let point = MetricPoint(name: "h", namespace: "ns", unit: "ms", function: "f", kind: .histogram, isMonotonic: true,
                                hasMinMax: true, isDelta: true, labels: [Label("a", "ü")], startTimeUnixNano: 1, timeUnixNano: 2,
                                value: 3, count: 4, sum: 5, min: 6, max: 7, quantiles: [Quantile(0.5, 1)], bounds: [1, 2],
                                bucketCounts: [1, 2, 3])
        let batch = TelemetryBatch(points: [point], spans: [span])
        let bytes = BatchCodec.encode(batch, receiver: "otlp")
        let decoded = try BatchCodec.decode(bytes)
        #expect(decoded.receiver == "otlp")
        #expect(decoded.batch == batch)
        #expect(throws: BatchCodec.DecodeError.self) { try BatchCodec.decode(Array(bytes.dropLast())) }
    }
}
