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
        #expect(scan.damage.isEmpty)
        #expect(scan.records[1].offset == scan.records[0].length)
    }

    @Test func detectsATornTailAtEveryByteOffsetOfTheLastRecord() {
        let data = frames(3)
        let lastStart = data.withUnsafeBytes { SegmentFormat.scan($0) }.records[2].offset
        for cut in lastStart..<data.count {
            let scan = Array(data[..<cut]).withUnsafeBytes { SegmentFormat.scan($0) }
            #expect(scan.records.map(\.sequence) == [1, 2], "cut at \(cut)")
            #expect(scan.validEnd == lastStart, "cut at \(cut)")
            #expect(scan.damage.isEmpty == (cut == lastStart), "cut at \(cut)")
            if let tail = scan.damage.last {
                #expect(tail == SegmentFormat.Damage(start: lastStart, end: cut, reason: tail.reason), "cut at \(cut)")
                let torn = Array(data[..<cut]).withUnsafeBytes { SegmentFormat.isTornTail($0, tail, sequences: 1...UInt64.max) }
                #expect(torn, "cut at \(cut)")
            }
        }
    }

    @Test func aFlippedByteAnywhereLosesOnlyTheRecordItHits() {
        let data = frames(5)
        let intact = data.withUnsafeBytes { SegmentFormat.scan($0) }.records
        for i in data.indices {
            var corrupt = data
            corrupt[i] ^= 0x10
            let hit = intact.first { $0.offset <= i && i < $0.offset + $0.length }!
            let scan = corrupt.withUnsafeBytes { SegmentFormat.scan($0) }
            #expect(scan.records == intact.filter { $0 != hit }, "flip at \(i)")
            #expect(scan.damage.map { [$0.start, $0.end] } == [[hit.offset, hit.offset + hit.length]], "flip at \(i)")
        }
        var huge = data
        huge[intact[1].offset + 3] = 0xFF  // a huge length: skipped, not a crash
        #expect(huge.withUnsafeBytes { SegmentFormat.scan($0) }.records.map(\.sequence) == [1, 3, 4, 5])
    }

    /// What the queue's reads check: a frame read as header and payload apart, intact or with any
    /// one byte flipped.
    @Test func aFrameReadApartChecksOutOnlyWhenIntact() {
        let frame = SegmentFormat.frame(sequence: 42, payload: Array("a payload of some length".utf8))
        func sequence(_ bytes: [UInt8], payloadCount: Int? = nil) -> UInt64? {
            bytes.withUnsafeBytes { raw in
                let header = UnsafeRawBufferPointer(rebasing: raw[..<SegmentFormat.headerSize])
                let payload = UnsafeRawBufferPointer(rebasing: raw[SegmentFormat.headerSize..<(SegmentFormat.headerSize + (payloadCount ?? raw.count - SegmentFormat.headerSize))])
                return SegmentFormat.sequence(ofHeader: header, payload: payload)
            }
        }
        #expect(sequence(frame) == 42)
        for i in frame.indices {
            var flipped = frame
            flipped[i] ^= 0x10
            #expect(sequence(flipped) == nil, "flip at \(i)")
        }
        #expect(sequence(frame, payloadCount: frame.count - SegmentFormat.headerSize - 1) == nil)
    }

    @Test func aDamagedLastRecordIsNotATornTail() {
        let data = frames(3)
        let last = data.withUnsafeBytes { SegmentFormat.scan($0) }.records[2]
        func classify(_ bytes: [UInt8]) -> Bool? {
            bytes.withUnsafeBytes { raw in
                SegmentFormat.scan(raw).damage.last.map { SegmentFormat.isTornTail(raw, $0, sequences: 1...UInt64.max) }
            }
        }
        var payload = data
        payload[last.offset + 20] ^= 0x01  // whole record, bad CRC
        #expect(classify(payload) == false)
        var length = data
        length[last.offset + 1] ^= 0x01  // only the length altered: claims more than follows
        #expect(classify(length) == false)
        #expect(classify(data + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == true)  // zeros from a crash
        #expect(classify(Array(data.dropLast(3))) == true)
    }

    @Test func sequencesUsedByFailedWritesAreNoDamage() {
        // A write that failed (disk full) used sequences 2 to 59 999 without writing them.
        let a = SegmentFormat.frame(sequence: 1, payload: Array("one".utf8))
        let b = SegmentFormat.frame(sequence: 60_000, payload: Array("two".utf8))
        let c = SegmentFormat.frame(sequence: 60_001, payload: Array("three".utf8))
        let clean = (a + b + c).withUnsafeBytes { SegmentFormat.scan($0) }
        #expect(clean.records.map(\.sequence) == [1, 60_000, 60_001])
        #expect(clean.damage.isEmpty)
        var damaged = a + b + c
        damaged[a.count + 2] ^= 0x40  // the gap's first frame: resynchronising still finds the one after it
        #expect(damaged.withUnsafeBytes { SegmentFormat.scan($0) }.records.map(\.sequence) == [1, 60_001])
        damaged = a + b + c
        damaged[a.count - 1] ^= 0x40
        #expect(damaged.withUnsafeBytes { SegmentFormat.scan($0) }.records.map(\.sequence) == [60_000, 60_001])
    }

    @Test func resynchronisingHonoursTheSegmentsSequenceRange() {
        let data = (5...7).flatMap { SegmentFormat.frame(sequence: UInt64($0), payload: Array("payload \($0)".utf8)) }
        #expect(data.withUnsafeBytes { SegmentFormat.scan($0, sequences: 5...7) }.records.map(\.sequence) == [5, 6, 7])
        let bounded = data.withUnsafeBytes { SegmentFormat.scan($0, sequences: 5...6) }
        #expect(bounded.records.map(\.sequence) == [5, 6])
        #expect(bounded.damage.count == 1)
        #expect(data.withUnsafeBytes { SegmentFormat.scan($0, sequences: 6...9) }.records.map(\.sequence) == [6, 7])
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
        #expect(try forA.map { try $0.entry } == [entry(4), entry(5)])
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

    @Test func aCorruptMiddleSegmentLosesOnlyTheDamagedRecord() throws {
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
        #expect(all.count == 199)  // the one record the flipped byte hit
        #expect(Set(all).count == 199 && Set(all).isSubset(of: Set(1...200)))
        #expect(all == all.sorted())
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/quarantine").count == 1)
        q.close()
    }

    /// Damage after the queue was opened (and its index built) is found when the record is read:
    /// that record is skipped, its neighbours are read whole.
    @Test func aRecordDamagedWhileOpenIsSkippedWhenRead() throws {
        let dir = directory()
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a"], logger: logger)
        for i in 1...3 { _ = q.append(entry(i)) }
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").sorted()
        let file = dir + "/segments/" + segments.first { (try? FileManager.default.attributesOfItem(atPath: dir + "/segments/" + $0)[.size] as? Int ?? 0) ?? 0 > 0 }!
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let second = bytes.withUnsafeBytes { SegmentFormat.scan($0) }.records[1]
        let handle = FileHandle(forWritingAtPath: file)!
        handle.seek(toFileOffset: UInt64(second.offset + second.length - 1))  // the second record's last payload byte
        handle.write(Data([bytes[second.offset + second.length - 1] ^ 0x01]))
        try handle.close()
        let read = q.readAvailable(after: 0, maxRecords: 10)
        #expect(read.map(\.sequence) == [1, 3])
        #expect(try read.map { try $0.entry } == [entry(1), entry(3)])
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
        let size = SegmentFormat.headerSize + RecordCodec.encode(entry(1).batch, receiver: "r").count
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
        #expect(Set(try all.map { try $0.entry.batch.points[0].labels[0].value }).count == 400)
        q.close()
    }
}

@Suite struct RecordCodecRoundTripTests {
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
        let log = LogRecord(
            timeUnixNano: 1, observedTimeUnixNano: 2, severityNumber: 17, severityText: "ERROR", body: .json(#"{"k":"v"}"#),
            attributes: [Attribute("faas.invocation_id", .string("r1"))], resourceAttributes: [Attribute("cloud.region", .string("eu-west-1"))],
            traceID: TraceID(high: 5, low: 6), spanID: SpanID(7), traceFlags: 1, function: "f", service: "s", scopeName: "sc",
            scopeVersion: "2", recordID: "3719")
        let invocation = Invocation(
            function: "f", version: "$LATEST", requestID: "r1", startTimeUnixNano: 9, durationMs: 12.5, billedDurationMs: 13,
            memorySizeMB: 128, maxMemoryUsedMB: 70, initDurationMs: 201.25, status: .timeout, errorType: "Sandbox.Timedout",
            traceID: TraceID(high: 5, low: 6), attributes: [Attribute("cloud.account.id", .string("123456789012"))])
        let warm = Invocation(function: "f", requestID: "r2", startTimeUnixNano: 10, durationMs: 1)
        let batch = TelemetryBatch(points: [point], spans: [span], logs: [log], invocations: [invocation, warm])
        let bytes = RecordCodec.encode(batch, receiver: "otlp")
        let decoded = try RecordCodec.decode(bytes)
        #expect(decoded.receiver == "otlp")
        #expect(decoded.batch == batch)
        #expect(decoded.batch.invocations.map(\.isColdStart) == [true, false])
        #expect(throws: RecordCodec.DecodeError.self) { try RecordCodec.decode(Array(bytes.dropLast())) }
    }
}
