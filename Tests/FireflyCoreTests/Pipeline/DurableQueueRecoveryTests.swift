import FireflyDemo
import FireflyModel
import FireflyTestSupport
import Foundation
import Logging
import Testing

@testable import FireflyCore

/// Damage to the durable queue while the collector is stopped: every record whose frame still
/// checks out is delivered exactly once; what is lost is counted, logged and copied to quarantine/.
@Suite(.serialized) struct DurableQueueRecoveryTests {
    func directory() -> String { NSTemporaryDirectory() + "queue-\(UUID().uuidString)" }

    func entry(_ n: Int) -> QueueEntry {
        QueueEntry(receiver: "r", batch: TelemetryBatch(points: [
            MetricPoint(name: "m", namespace: "AWS/Lambda", kind: .gauge, labels: [Label("n", "\(n)")], timeUnixNano: UInt64(n), value: Double(n))
        ]))
    }

    /// One record's frame as the format documents it (`u32 length | u32 crc | u64 sequence | payload`),
    /// read here independently of the queue's own scanner.
    struct Frame: Hashable {
        var file: String
        var offset: Int
        var length: Int
        var sequence: UInt64
    }

    /// The non-empty segment files, oldest first, with their frames.
    func layout(_ dir: String) throws -> [(file: String, frames: [Frame])] {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").sorted().compactMap { file in
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/segments/" + file)))
            var frames: [Frame] = []
            var offset = 0
            while offset + 16 <= bytes.count {
                let length = bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
                let sequence = bytes[(offset + 8)..<(offset + 16)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                frames.append(Frame(file: file, offset: offset, length: 16 + length, sequence: sequence))
                offset += 16 + length
            }
            return frames.isEmpty ? nil : (file, frames)
        }
    }

    func quarantined(_ dir: String) -> (files: Int, bytes: Int) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/quarantine")) ?? []
        let bytes = files.reduce(0) { $0 + ((try? Data(contentsOf: URL(fileURLWithPath: dir + "/quarantine/" + $1)))?.count ?? 0) }
        return (files.count, bytes)
    }

    /// Flips 1–3 bytes at seeded random places of every segment (optionally leaving a torn tail
    /// too); reopens; checks delivery, counters, log lines and quarantine against the frames hit.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64], [false, true])
    func bytesFlippedAnywhereLoseOnlyTheRecordsTheyHit(seed: UInt64, tornTail: Bool) async throws {
        let dir = directory()
        let total = 300
        do {
            let q = try DurableQueue(directory: dir, maxBytes: 1 << 24, consumers: ["a", "b"], fsync: .never, segmentBytes: 4096,
                                     logger: Logger(label: "test"))
            for i in 1...total { #expect(q.append(entry(i)) == .stored(sequence: UInt64(i))) }
            q.acknowledge(consumer: "a", through: UInt64(total))  // 'a' exported everything, 'b' nothing
            q.close()
        }
        let segments = try layout(dir)
        #expect(segments.count >= 5)
        var rng = SeededGenerator(seed: seed)
        var hit: Set<Frame> = []
        for (file, frames) in segments {
            let url = URL(fileURLWithPath: dir + "/segments/" + file)
            var bytes = [UInt8](try Data(contentsOf: url))
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[at] ^= UInt8.random(in: 1...255, using: &rng)
                hit.insert(frames.first { $0.offset <= at && at < $0.offset + $0.length }!)
            }
            try Data(bytes).write(to: url)
        }
        let newest = segments.last!
        var tornBytes = 0
        if tornTail {  // the start of one more record, cut short as a crash mid-write leaves it
            let url = URL(fileURLWithPath: dir + "/segments/" + newest.file)
            let bytes = [UInt8](try Data(contentsOf: url))
            let last = newest.frames.last!
            tornBytes = Int.random(in: 1..<last.length, using: &rng)
            try Data(bytes + bytes[last.offset..<(last.offset + tornBytes)]).write(to: url)
        }
        let survivors = segments.flatMap(\.frames).filter { !hit.contains($0) }.map(\.sequence)
        let lost = hit.reduce(0) { $0 + $1.length }

        let logs = LogLines()
        let metrics = SelfMetrics()
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 24, consumers: ["a", "b"], segmentBytes: 4096, logger: logs.logger,
                                 metrics: metrics)
        // Delivered exactly once, in order, with their own sequences and contents.
        let delivered = q.readAvailable(after: 0, maxRecords: 10_000)
        #expect(delivered.map(\.sequence) == survivors)
        #expect(try delivered.map { try $0.entry } == survivors.map { entry(Int($0)) })
        var read: [UInt64] = []
        while read.count < survivors.count {
            let batch = await q.read(after: read.last ?? 0, maxRecords: 7)
            #expect(!batch.isEmpty)
            if batch.isEmpty { break }
            read += batch.map(\.sequence)
        }
        #expect(read == survivors)
        // Counted: every byte of every frame hit, plus the torn tail.
        let corrupt = Int(metrics.value("firefly_queue_corrupt_bytes_total"))
        let torn = Int(metrics.value("firefly_queue_torn_tail_bytes_total"))
        #expect(corrupt + torn == lost + tornBytes)
        #expect(corrupt > 0)
        let newestLastHit = hit.contains(newest.frames.last!)
        if !newestLastHit {  // a damaged last record next to a torn one may be taken for part of the tear
            #expect(torn == tornBytes)
            #expect(Int(metrics.value("firefly_queue_corrupt_records_total")) == hit.count)
        }
        // Copied aside: exactly the damaged bytes.
        #expect(quarantined(dir).bytes == corrupt)
        // Logged: each damaged segment by name and byte range; no claim about acknowledgements.
        let lines = logs.lines
        for file in Set(hit.map(\.file)) {
            #expect(lines.contains { $0.contains("segment \(file) is damaged at bytes") && $0.contains("quarantine") }, "\(file): \(lines)")
        }
        #expect(!lines.contains { $0.contains("acknowledged") })
        // 'a' had passed everything: its cursor is set back to the last record that survived.
        let end = max(survivors.last ?? 0, UInt64(newest.file.dropLast(4))! - 1)
        #expect(q.cursor(consumer: "a") == end)
        #expect(lines.contains { $0.contains("cursor of 'a'") && $0.contains("past the end") } == (end < UInt64(total)))
        #expect(q.append(entry(Int(end) + 1)) == .stored(sequence: end + 1))
        q.close()

        // The damage was cut out: the next start finds nothing to count, and the same records.
        let again = SelfMetrics()
        let reopened = try DurableQueue(directory: dir, maxBytes: 1 << 24, consumers: ["a", "b"], segmentBytes: 4096,
                                        logger: Logger(label: "test"), metrics: again)
        #expect(again.value("firefly_queue_corrupt_bytes_total") == 0)
        #expect(again.value("firefly_queue_torn_tail_bytes_total") == 0)
        #expect(reopened.readAvailable(after: 0, maxRecords: 10_000).map(\.sequence) == survivors + [end + 1])
        #expect(reopened.readAvailable(after: reopened.cursor(consumer: "a"), maxRecords: 10).map(\.sequence) == [end + 1])
        #expect(quarantined(dir).bytes == corrupt)
        reopened.close()
    }

    @Test func aCursorPastTheEndIsSetBackAndReadsTheNextRecord() async throws {
        let dir = directory()
        do {
            let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a", "b"], logger: Logger(label: "test"))
            for i in 1...10 { _ = q.append(entry(i)) }
            q.acknowledge(consumer: "a", through: 10)
            q.close()
        }
        // The newest segment loses records 8–10: a torn write in the middle of record 8.
        let newest = try layout(dir).last!
        let cut = newest.frames[7].offset + 5
        #expect(truncate(dir + "/segments/" + newest.file, off_t(cut)) == 0)
        let logs = LogLines()
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a", "b"], logger: logs.logger)
        #expect(q.cursor(consumer: "a") == 7)
        #expect(try String(contentsOfFile: dir + "/cursors/a", encoding: .utf8) == "7\n")
        #expect(logs.lines.contains { $0.contains("cursor of 'a' (sequence 10) is past the end of the queue (sequence 7)") })
        #expect(logs.lines.contains { $0.contains("truncated a partial last record of 5 bytes") })
        #expect(q.readAvailable(after: 0, maxRecords: 100).map(\.sequence) == Array(1...7))
        // 'a' waits after 7; the next record appended is 8 and reaches it.
        let reader = Task { await q.read(after: 7, maxRecords: 10) }
        #expect(q.append(entry(8)) == .stored(sequence: 8))
        #expect(await reader.value.map(\.sequence) == [8])
        q.close()
    }

    @Test func aReaderWaitingBeyondTheLastRecordEndsWhenTheQueueCloses() async throws {
        let q = try DurableQueue(directory: directory(), maxBytes: 1 << 20, consumers: ["a"], logger: Logger(label: "test"))
        _ = q.append(entry(1))
        let reader = Task { await q.read(after: 1, maxRecords: 10) }
        q.close()
        #expect(await reader.value.isEmpty)
    }

    /// Ack means durable: `append` (what a receiver's emit waits on before answering 2xx) does not
    /// return while the segment's sync is held, and returns `.stored` once it completes.
    @Test func anAppendIsAcknowledgedOnlyAfterItsSyncCompletes() async throws {
        let dir = directory()
        let q = try DurableQueue(directory: dir, maxBytes: 1 << 20, consumers: ["a"], logger: Logger(label: "test"))
        let gate = SyncGate()
        q.syncFile = { fd in gate.hold(fd) }
        let result = Outcome()
        let appender = Thread { result.set(q.append(entry(1))) }
        appender.start()
        #expect(await eventually(10) { gate.entered })
        // The record is written but not synced: no acknowledgement, and readers do not see it.
        #expect(await eventually(0.5) { result.value != nil } == false)
        #expect(q.readAvailable(after: 0, maxRecords: 10).isEmpty)
        gate.release(returning: 0)
        #expect(await eventually(10) { result.value != nil })
        #expect(result.value == .stored(sequence: 1))
        #expect(q.readAvailable(after: 0, maxRecords: 10).map(\.sequence) == [1])
        #expect(gate.syncedDescriptors.count == 1)
        q.close()
    }

    @Test func aFailedSyncIsNotAcknowledged() async throws {
        let q = try DurableQueue(directory: directory(), maxBytes: 1 << 20, consumers: ["a"], logger: Logger(label: "test"))
        q.syncFile = { _ in
            errno = EIO
            return -1
        }
        #expect(q.append(entry(1)) == .full(retryAfterMilliseconds: 5000))
        #expect(q.readAvailable(after: 0, maxRecords: 10).isEmpty)
        q.syncFile = { fdatasync($0) }
        #expect(q.append(entry(2)) == .stored(sequence: 2))
        #expect(q.readAvailable(after: 0, maxRecords: 10).map(\.sequence) == [2])
        q.close()
    }
}

/// A sync step a test holds until it releases it.
final class SyncGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Int32?
    private var descriptors: [Int32] = []

    func hold(_ fd: Int32) -> Int32 {
        condition.lock()
        defer { condition.unlock() }
        descriptors.append(fd)
        condition.broadcast()
        while result == nil { condition.wait() }
        return result!
    }

    var entered: Bool { condition.withLock { !descriptors.isEmpty } }
    var syncedDescriptors: [Int32] { condition.withLock { descriptors } }

    func release(returning rc: Int32) {
        condition.withLock {
            result = rc
            condition.broadcast()
        }
    }
}

final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: AppendResult?
    var value: AppendResult? { lock.withLock { stored } }
    func set(_ r: AppendResult) { lock.withLock { stored = r } }
}

/// Log messages kept for assertions.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []

    var lines: [String] { lock.withLock { kept } }
    var logger: Logger { Logger(label: "test") { _ in Handler(sink: self) } }

    struct Handler: LogHandler {
        let sink: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            sink.lock.withLock { sink.kept.append(event.message.description) }
        }
    }
}

