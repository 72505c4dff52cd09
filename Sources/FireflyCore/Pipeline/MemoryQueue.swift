import FireflyModel
import Foundation

/// A bounded in-memory `TelemetryQueue`: fast, but loses what it holds if the process dies.
/// The byte budget is an estimate of the entries' size.
public final class MemoryQueue: TelemetryQueue, @unchecked Sendable {
    private let lock = NSLock()
    private var records: [QueueRecord] = []
    private var sizes: [Int] = []
    private var appendedAt: [UInt64] = []
    private var head = 0  // index of the first live record
    private var bytes = 0
    private var nextSequence: UInt64 = 1
    private var cursors: [String: UInt64]
    private var waiters: [(after: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private var closed = false
    private let maxBytes: Int

    /// `consumers` are the exporter names; an entry is dropped once all of them acknowledged it.
    public init(maxBytes: Int, consumers: [String]) {
        self.maxBytes = maxBytes
        cursors = Dictionary(uniqueKeysWithValues: consumers.map { ($0, 0) })
    }

    public func recordWriter(capacity: Int) -> ByteWriter { ByteWriter(capacity: capacity) }

    /// Keeps the record's batch as Swift values (what exporters read).
    public func append(record: inout [UInt8]) -> AppendResult {
        guard let (receiver, batch) = try? RecordCodec.decode(record) else {
            preconditionFailure("the memory queue was handed a record RecordCodec did not write")
        }
        return append(QueueEntry(receiver: receiver, batch: batch))
    }

    public func append(_ entry: QueueEntry) -> AppendResult {
        let size = Self.estimatedSize(entry.batch)
        let (result, wake): (AppendResult, [CheckedContinuation<Void, Never>]) = lock.withLock {
            if closed { return (.closed, []) }
            if bytes + size > maxBytes, bytes > 0 { return (.full(retryAfterMilliseconds: 1000), []) }
            let seq = nextSequence
            nextSequence += 1
            records.append(QueueRecord(sequence: seq, entry: entry))
            sizes.append(size)
            appendedAt.append(HostServices.wallClock())
            bytes += size
            if cursors.isEmpty { trim() }
            let woken = waiters.map(\.continuation)
            waiters.removeAll()
            return (.stored(sequence: seq), woken)
        }
        for w in wake { w.resume() }
        return result
    }

    public func readAvailable(after sequence: UInt64, maxRecords: Int) -> [QueueRecord] {
        lock.withLock { slice(after: sequence, maxRecords: maxRecords) }
    }

    public func read(after sequence: UInt64, maxRecords: Int) async -> [QueueRecord] {
        while true {
            let (found, isClosed) = lock.withLock { (slice(after: sequence, maxRecords: maxRecords), closed) }
            if !found.isEmpty || isClosed { return found }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    // Wake for a record that is there to read, not for a sequence merely beyond the
                    // reader's: a reader after a trimmed range would otherwise wake again and again.
                    if closed || (head < records.count && records[records.count - 1].sequence > sequence) { return true }
                    waiters.append((sequence, c))
                    return false
                }
                if resumeNow { c.resume() }
            }
        }
    }

    public func acknowledge(consumer: String, through sequence: UInt64) {
        lock.withLock {
            cursors[consumer] = max(cursors[consumer] ?? 0, sequence)
            trim()
        }
    }

    public func cursor(consumer: String) -> UInt64 {
        lock.withLock { cursors[consumer] ?? 0 }
    }

    public func lag(consumer: String) -> (records: Int, seconds: Double) {
        lock.withLock {
            let c = cursors[consumer] ?? 0
            guard let i = records[head...].firstIndex(where: { $0.sequence > c }) else { return (0, 0) }
            return (records.count - i, Double(HostServices.wallClock() &- appendedAt[i]) / 1e9)
        }
    }

    public func close() {
        let wake: [CheckedContinuation<Void, Never>] = lock.withLock {
            closed = true
            let w = waiters.map(\.continuation)
            waiters.removeAll()
            return w
        }
        for w in wake { w.resume() }
    }

    public var stats: QueueStats {
        lock.withLock { QueueStats(records: records.count - head, bytes: bytes, lastSequence: nextSequence - 1) }
    }

    // Callers hold the lock.
    private func slice(after sequence: UInt64, maxRecords: Int) -> [QueueRecord] {
        guard head < records.count else { return [] }
        let first = records[head].sequence
        let start = sequence < first ? head : head + Int(sequence - first) + 1
        guard start < records.count else { return [] }
        return Array(records[start..<(maxRecords >= records.count - start ? records.count : start + maxRecords)])
    }

    private func trim() {
        let done = cursors.values.min() ?? (nextSequence - 1)
        while head < records.count, records[head].sequence <= done {
            bytes -= sizes[head]
            head += 1
        }
        if head > 1024, head * 2 > records.count {
            records.removeFirst(head)
            sizes.removeFirst(head)
            appendedAt.removeFirst(head)
            head = 0
        }
    }

    /// A rough byte size of a batch (strings plus fixed overheads), for the budget.
    static func estimatedSize(_ batch: TelemetryBatch) -> Int {
        var n = 64
        for p in batch.points {
            n += 160 + p.name.utf8.count + p.namespace.utf8.count + p.function.utf8.count + p.unit.utf8.count
            for l in p.labels { n += 16 + l.key.utf8.count + l.value.utf8.count }
            n += 16 * p.quantiles.count + 8 * p.bounds.count + 8 * p.bucketCounts.count
        }
        for s in batch.spans {
            n += 200 + s.name.utf8.count + s.function.utf8.count + s.service.utf8.count + s.statusMessage.utf8.count
            for a in s.attributes + s.resourceAttributes { n += 32 + a.key.utf8.count + attributeSize(a.value) }
            n += s.events.count * 64 + s.links.count * 64
        }
        for l in batch.logs {
            n += 160 + l.severityText.utf8.count + l.function.utf8.count + l.service.utf8.count + l.recordID.utf8.count
                + attributeSize(l.body)
            for a in l.attributes + l.resourceAttributes { n += 32 + a.key.utf8.count + attributeSize(a.value) }
        }
        for v in batch.invocations {
            n += 160 + v.function.utf8.count + v.version.utf8.count + v.requestID.utf8.count + v.errorType.utf8.count
            for a in v.attributes { n += 32 + a.key.utf8.count + attributeSize(a.value) }
        }
        return n
    }

    private static func attributeSize(_ v: AttributeValue) -> Int {
        switch v {
        case .string(let s), .json(let s): return s.utf8.count
        case .bytes(let b): return b.count
        default: return 8
        }
    }
}
