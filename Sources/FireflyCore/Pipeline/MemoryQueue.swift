import FireflyModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// A bounded in-memory `TelemetryQueue`: fast, but loses what it holds if the process dies.
/// It keeps the records receivers write (`RecordCodec`, as compact as the durable queue's) and
/// hands them to exporters as they are, as the durable queue does; the byte budget counts the
/// records' bytes.
public final class MemoryQueue: TelemetryQueue, Sendable {
    private let state: Mutex<State>

    /// `consumers` are the exporter names; an entry is dropped once all of them acknowledged it.
    public init(maxBytes: Int, consumers: [String]) {
        state = Mutex(State(maxBytes: maxBytes, cursors: Dictionary(uniqueKeysWithValues: consumers.map { ($0, 0) })))
    }

    public func recordWriter(capacity: Int) -> ByteWriter { ByteWriter(capacity: capacity) }

    public func append(_ entry: QueueEntry) -> AppendResult {
        var record = RecordCodec.encode(entry.batch, receiver: entry.receiver)
        return append(record: &record)
    }

    public func append(record: inout [UInt8]) -> AppendResult {
        let size = record.count
        let now = HostServices.wallClock()
        let (result, wake): (AppendResult, [CheckedContinuation<Void, Never>]) = state.withLock { s in
            if s.closed { return (.closed, []) }
            if s.bytes + size > s.maxBytes, s.bytes > 0 { return (.full(retryAfterMilliseconds: 1000), []) }
            let seq = s.nextSequence
            s.nextSequence += 1
            s.records.append((seq, record))
            s.appendedAt.append(now)
            s.bytes += size
            if s.cursors.isEmpty { s.trim() }
            let woken = s.waiters.map(\.continuation)
            s.waiters.removeAll()
            return (.stored(sequence: seq), woken)
        }
        for w in wake { w.resume() }
        return result
    }

    public func readAvailable(after sequence: UInt64, maxRecords: Int) -> [QueueRecord] {
        Self.records(state.withLock { $0.slice(after: sequence, maxRecords: maxRecords) })
    }

    /// The bytes are shared, not copied.
    private static func records(_ slice: ArraySlice<(sequence: UInt64, bytes: [UInt8])>) -> [QueueRecord] {
        slice.map { QueueRecord(sequence: $0.sequence, bytes: $0.bytes) }
    }

    public func read(after sequence: UInt64, maxRecords: Int) async -> [QueueRecord] {
        while true {
            let (found, isClosed) = state.withLock { ($0.slice(after: sequence, maxRecords: maxRecords), $0.closed) }
            if !found.isEmpty || isClosed { return Self.records(found) }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLock { s in
                    // Wake for a record that is there to read, not for a sequence merely beyond the
                    // reader's: a reader after a trimmed range would otherwise wake again and again.
                    if s.closed || (s.head < s.records.count && s.records[s.records.count - 1].sequence > sequence) { return true }
                    s.waiters.append((sequence, c))
                    return false
                }
                if resumeNow { c.resume() }
            }
        }
    }

    public func acknowledge(consumer: String, through sequence: UInt64) {
        state.withLock { s in
            s.cursors[consumer] = max(s.cursors[consumer] ?? 0, sequence)
            s.trim()
        }
    }

    public func cursor(consumer: String) -> UInt64 {
        state.withLock { $0.cursors[consumer] ?? 0 }
    }

    public func lag(consumer: String) -> (records: Int, seconds: Double) {
        let now = HostServices.wallClock()
        return state.withLock { s in
            let c = s.cursors[consumer] ?? 0
            guard let i = s.records[s.head...].firstIndex(where: { $0.sequence > c }) else { return (0, 0) }
            return (s.records.count - i, Double(now &- s.appendedAt[i]) / 1e9)
        }
    }

    public func close() {
        let wake: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.closed = true
            let w = s.waiters.map(\.continuation)
            s.waiters.removeAll()
            return w
        }
        for w in wake { w.resume() }
    }

    public var stats: QueueStats {
        state.withLock { QueueStats(records: $0.records.count - $0.head, bytes: $0.bytes, lastSequence: $0.nextSequence - 1) }
    }

    /// What the lock guards.
    private struct State {
        let maxBytes: Int
        var cursors: [String: UInt64]
        var records: [(sequence: UInt64, bytes: [UInt8])] = []
        var appendedAt: [UInt64] = []
        var head = 0  // index of the first live record
        var bytes = 0
        var nextSequence: UInt64 = 1
        var waiters: [(after: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var closed = false

        init(maxBytes: Int, cursors: [String: UInt64]) {
            self.maxBytes = maxBytes
            self.cursors = cursors
        }

        func slice(after sequence: UInt64, maxRecords: Int) -> ArraySlice<(sequence: UInt64, bytes: [UInt8])> {
            guard head < records.count else { return [] }
            let first = records[head].sequence
            let start = sequence < first ? head : head + Int(sequence - first) + 1
            guard start < records.count else { return [] }
            return records[start..<(maxRecords >= records.count - start ? records.count : start + maxRecords)]
        }

        mutating func trim() {
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
}
