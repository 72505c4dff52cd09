import FireflyModel
import Foundation

/// A bounded in-memory `TelemetryQueue`: fast, but loses what it holds if the process dies.
/// It keeps the records receivers write (`RecordCodec`, as compact as the durable queue's) and
/// decodes them when exporters read; the byte budget counts the records' bytes.
public final class MemoryQueue: TelemetryQueue, @unchecked Sendable {
    private let lock = NSLock()
    private var records: [(sequence: UInt64, bytes: [UInt8])] = []
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

    public func append(_ entry: QueueEntry) -> AppendResult {
        var record = RecordCodec.encode(entry.batch, receiver: entry.receiver)
        return append(record: &record)
    }

    public func append(record: inout [UInt8]) -> AppendResult {
        let size = record.count
        let (result, wake): (AppendResult, [CheckedContinuation<Void, Never>]) = lock.withLock {
            if closed { return (.closed, []) }
            if bytes + size > maxBytes, bytes > 0 { return (.full(retryAfterMilliseconds: 1000), []) }
            let seq = nextSequence
            nextSequence += 1
            records.append((seq, record))
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
        Self.decoded(lock.withLock { slice(after: sequence, maxRecords: maxRecords) })
    }

    /// Records back to entries, outside the lock (the bytes are shared, not copied).
    private static func decoded(_ records: ArraySlice<(sequence: UInt64, bytes: [UInt8])>) -> [QueueRecord] {
        records.map { record in
            guard let (receiver, batch) = try? RecordCodec.decode(record.bytes) else {
                preconditionFailure("memory queue record \(record.sequence) was not written by RecordCodec")
            }
            return QueueRecord(sequence: record.sequence, entry: QueueEntry(receiver: receiver, batch: batch))
        }
    }

    public func read(after sequence: UInt64, maxRecords: Int) async -> [QueueRecord] {
        while true {
            let (found, isClosed) = lock.withLock { (slice(after: sequence, maxRecords: maxRecords), closed) }
            if !found.isEmpty || isClosed { return Self.decoded(found) }
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
    private func slice(after sequence: UInt64, maxRecords: Int) -> ArraySlice<(sequence: UInt64, bytes: [UInt8])> {
        guard head < records.count else { return [] }
        let first = records[head].sequence
        let start = sequence < first ? head : head + Int(sequence - first) + 1
        guard start < records.count else { return [] }
        return records[start..<(maxRecords >= records.count - start ? records.count : start + maxRecords)]
    }

    private func trim() {
        let done = cursors.values.min() ?? (nextSequence - 1)
        while head < records.count, records[head].sequence <= done {
            bytes -= records[head].bytes.count
            records[head].bytes = []
            head += 1
        }
        if head > 1024, head * 2 > records.count {
            records.removeFirst(head)
            appendedAt.removeFirst(head)
            head = 0
        }
    }
}
