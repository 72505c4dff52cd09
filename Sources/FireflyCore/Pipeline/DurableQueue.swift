import FireflyModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyPluginKit
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How appends reach the disk before `append` returns.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// `fsync` before acknowledging (group-committed): survives power loss. The default.
    case always
    /// `write` before acknowledging, no `fsync`: survives a crash of the collector, not of the machine.
    case never
}

/// The durable `TelemetryQueue`: a segmented append-only log under `queue.directory`.
///
/// - Appends are group-committed by one writer thread: every record waiting when a write starts is
///   written, then one `fsync` covers them all, and `append` returns only after it.
/// - Each exporter's cursor is persisted in `cursors/`; a segment is deleted once every exporter has
///   passed it. Cursors of exporters no longer configured are released at start.
/// - On start, every segment is scanned frame by frame. A torn tail (a partial last frame of the
///   newest segment, left by a crash during a write) is truncated. Damage anywhere else is skipped:
///   scanning resynchronises on the next frame that checks out, so every record after it is kept;
///   the damaged bytes are copied to `quarantine/`, counted, logged with what was lost, and the
///   segment is rewritten without them. Cursors past the end of what survived are set back to it.
/// - `max_bytes` bounds the unexported backlog: over it `append` answers `.full`.
public final class DurableQueue: TelemetryQueue, @unchecked Sendable {
    struct IndexEntry {
        var sequence: UInt64
        var segment: UInt64
        var offset: Int
        var length: Int
        var appendedAtNano: UInt64
    }

    final class Segment {
        let id: UInt64
        let path: String
        let fd: Int32
        var size: Int
        var lastSequence: UInt64

        init(id: UInt64, path: String, fd: Int32, size: Int, lastSequence: UInt64) {
            self.id = id
            self.path = path
            self.fd = fd
            self.size = size
            self.lastSequence = lastSequence
        }

        deinit { Glibc.close(fd) }
    }

    public let directory: String
    private let maxBytes: Int
    private let segmentBytes: Int
    private let fsync: FsyncPolicy
    private let logger: Logger
    private let metrics: SelfMetrics?

    private let condition = ConditionLock()
    // Guarded by `condition`:
    private var index: [IndexEntry] = []
    private var head = 0
    private var segments: [Segment] = []
    private var cursors: [String: UInt64] = [:]
    private var backlogBytes = 0
    private var nextSequence: UInt64 = 1
    private var committed: UInt64 = 0
    private var failedThrough: UInt64 = 0
    private var pending: [(sequence: UInt64, frame: [UInt8])] = []
    private var pendingBytes = 0
    private var closed = false
    private var writerDone = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var sync: @Sendable (Int32) -> Int32 = { fdatasync($0) }

    /// Makes a segment's writes durable (`fdatasync`) before appends are acknowledged; tests
    /// replace it to hold or fail the sync step.
    var syncFile: @Sendable (Int32) -> Int32 {
        get { condition.withLock { sync } }
        set { condition.withLock { sync = newValue } }
    }

    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(
        directory: String, maxBytes: Int, consumers: [String], fsync: FsyncPolicy = .always,
        segmentBytes: Int = 16 << 20, logger: Logger, metrics: SelfMetrics? = nil
    ) throws(OpenError) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        self.fsync = fsync
        self.logger = logger
        self.metrics = metrics
        if let metrics {
            for m in Self.recoveryMetrics { metrics.increment(m.name, by: 0) }
        }
        try recover(consumers: consumers)
        startThread(name: "firefly-queue-writer") { [unowned self] in self.writerLoop() }
    }

    static let recoveryMetrics = [SelfMetricCatalog.queueCorruptBytes, SelfMetricCatalog.queueCorruptRecords, SelfMetricCatalog.queueTornTail]

    // MARK: Appending

    public func append(_ entry: QueueEntry) -> AppendResult {
        var w = recordWriter(capacity: 256 * (entry.batch.points.count + entry.batch.spans.count + entry.batch.logs.count + entry.batch.invocations.count))
        RecordCodec.encode(entry.batch, receiver: entry.receiver, into: &w)
        return append(record: &w.bytes)
    }

    public func recordWriter(capacity: Int) -> ByteWriter { SegmentFormat.writer(capacity: capacity) }

    public func append(record frame: inout [UInt8]) -> AppendResult {
        let checksum = SegmentFormat.payloadChecksum(frame)  // outside the lock: the costly part of the CRC
        condition.lock()
        defer { condition.unlock() }
        if closed { return .closed }
        if backlogBytes + pendingBytes + frame.count > maxBytes, backlogBytes + pendingBytes > 0 {
            return .full(retryAfterMilliseconds: 2000)
        }
        let sequence = nextSequence
        nextSequence += 1
        SegmentFormat.seal(&frame, sequence: sequence, payloadChecksum: checksum)
        pending.append((sequence, frame))
        pendingBytes += frame.count
        condition.broadcast()
        while committed < sequence && failedThrough < sequence && !writerDone { condition.wait() }
        if committed >= sequence { return .stored(sequence: sequence) }
        return .full(retryAfterMilliseconds: 5000)  // the write failed (disk full, I/O error): not stored
    }

    /// One thread writes every waiting frame, then syncs once for all of them: group commit.
    private func writerLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty && closed {
                writerDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
            var segment = segments.last!
            let sync = self.sync
            let rollNeeded = segment.size > 0 && segment.size >= segmentBytes
            condition.unlock()

            if rollNeeded, let fresh = try? createSegment(id: batch[0].sequence) {
                condition.lock()
                segments.append(fresh)
                condition.unlock()
                segment = fresh
            }
            // Each frame is written where it belongs (no concatenated copy), then one fsync covers them all.
            var located: [IndexEntry] = []
            located.reserveCapacity(batch.count)
            var offset = segment.size
            var ok = true
            let now = HostServices.wallClock()
            for item in batch where ok {
                located.append(IndexEntry(sequence: item.sequence, segment: segment.id, offset: offset,
                                          length: item.frame.count, appendedAtNano: now))
                ok = writeFully(segment.fd, item.frame, at: offset)
                offset += item.frame.count
            }
            ok = ok && syncIfNeeded(segment.fd, sync)
            let written = offset - segment.size
            condition.lock()
            if ok {
                segment.size += written
                segment.lastSequence = batch.last!.sequence
                index.append(contentsOf: located)
                backlogBytes += written
                committed = batch.last!.sequence
            } else {
                logger.error("queue write failed in \(segment.path): \(String(cString: strerror(errno))); senders are told to retry")
                _ = ftruncate(segment.fd, off_t(segment.size))
                failedThrough = batch.last!.sequence
            }
            let wake = waiters
            waiters.removeAll()
            condition.broadcast()
            condition.unlock()
            for w in wake { w.resume() }
        }
    }

    private func writeFully(_ fd: Int32, _ bytes: [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = pwrite(fd, buf.baseAddress! + done, buf.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return true
        }
    }

    private func syncIfNeeded(_ fd: Int32, _ sync: (Int32) -> Int32) -> Bool {
        guard fsync == .always else { return true }
        let start = ContinuousClock.now
        let rc = sync(fd)
        let elapsed = ContinuousClock.now - start
        metrics?.observe(SelfMetricCatalog.queueFsync.name, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return rc == 0
    }

    // MARK: Reading

    public func readAvailable(after sequence: UInt64, maxRecords: Int) -> [QueueRecord] {
        readSlice(after: sequence, maxRecords: maxRecords).records
    }

    /// The readable records of the next `maxRecords` index entries after `sequence`, and the last
    /// sequence those entries cover (nil when there are none), so a reader can pass records that
    /// could not be read instead of asking for them again.
    private func readSlice(after sequence: UInt64, maxRecords: Int) -> (records: [QueueRecord], through: UInt64?) {
        condition.lock()
        let slice = entries(after: sequence, maxRecords: maxRecords)
        let fds = Dictionary(segments.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        condition.unlock()
        var out: [QueueRecord] = []
        out.reserveCapacity(slice.count)
        for e in slice {
            guard let segment = fds[e.segment], let record = read(e, from: segment) else { continue }
            out.append(record)
        }
        return (out, slice.last?.sequence)
    }

    /// Waits until the index holds a record after `sequence`, not merely until the last committed
    /// sequence is beyond it: sequences can be missing (damage dropped them, a failed write used
    /// them), and a reader waiting on "committed > sequence" would wake at once, again and again.
    public func read(after sequence: UInt64, maxRecords: Int) async -> [QueueRecord] {
        var after = sequence
        while true {
            let (found, through) = readSlice(after: after, maxRecords: maxRecords)
            if !found.isEmpty { return found }
            if let through {  // entries there, none readable (each logged): pass them
                after = through
                continue
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                condition.lock()
                let ready = hasEntries(after: after) || (closed && pending.isEmpty)
                if !ready { waiters.append(c) }
                condition.unlock()
                if ready { c.resume() }
            }
            if condition.withLock({ !hasEntries(after: after) && closed && pending.isEmpty }) { return [] }
        }
    }

    /// Caller holds the lock.
    private func hasEntries(after sequence: UInt64) -> Bool {
        index.count > head && index[index.count - 1].sequence > sequence
    }

    /// Caller holds the lock.
    private func entries(after sequence: UInt64, maxRecords: Int) -> ArraySlice<IndexEntry> {
        var lo = head, hi = index.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if index[mid].sequence <= sequence { lo = mid + 1 } else { hi = mid }
        }
        return index[lo..<(maxRecords >= index.count - lo ? index.count : lo + maxRecords)]
    }

    /// Reads the frame's header and its payload apart (one `preadv`), so the record's bytes are
    /// read once into an array of their own: no zero-filling first, no moving them past the header.
    private func read(_ e: IndexEntry, from segment: Segment) -> QueueRecord? {
        let length = e.length - SegmentFormat.headerSize
        var header = (UInt64(0), UInt64(0))
        var sequence: UInt64?
        let payload = [UInt8](unsafeUninitializedCapacity: max(length, 0)) { out, initialized in
            withUnsafeMutableBytes(of: &header) { head in
                guard length > 0 else { return }
                var parts = [
                    iovec(iov_base: head.baseAddress, iov_len: head.count),
                    iovec(iov_base: UnsafeMutableRawPointer(out.baseAddress!), iov_len: length),
                ]
                guard preadv(segment.fd, &parts, 2, off_t(e.offset)) == e.length else { return }
                initialized = length
                sequence = SegmentFormat.sequence(
                    ofHeader: UnsafeRawBufferPointer(head), payload: UnsafeRawBufferPointer(start: out.baseAddress, count: length))
            }
        }
        guard payload.count == length, length > 0 else {
            logger.error("queue record \(e.sequence) unreadable in \(segment.path)")
            return nil
        }
        guard sequence == e.sequence else {
            logger.error("queue record \(e.sequence) in \(segment.path) fails its checksum; skipped")
            return nil
        }
        return QueueRecord(sequence: e.sequence, bytes: payload)
    }

    // MARK: Cursors and cleanup

    public func acknowledge(consumer: String, through sequence: UInt64) {
        condition.lock()
        let previous = cursors[consumer] ?? 0
        guard sequence > previous else {
            condition.unlock()
            return
        }
        cursors[consumer] = sequence
        let deletable = trim()
        condition.unlock()
        persistCursor(consumer, sequence)
        for s in deletable { unlink(s.path) }
    }

    public func cursor(consumer: String) -> UInt64 {
        condition.withLock { cursors[consumer] ?? 0 }
    }

    /// Unexported records and the age of the oldest, for one exporter.
    public func lag(consumer: String) -> (records: Int, seconds: Double) {
        condition.withLock {
            let c = cursors[consumer] ?? 0
            let rest = entries(after: c, maxRecords: Int.max)
            guard let first = rest.first else { return (0, 0) }
            return (rest.count, Double(HostServices.wallClock() &- first.appendedAtNano) / 1e9)
        }
    }

    /// Drops index entries every consumer passed; returns segments that can be deleted. Holds the lock.
    private func trim() -> [Segment] {
        let done = cursors.values.min() ?? committed
        while head < index.count, index[head].sequence <= done {
            backlogBytes -= index[head].length
            head += 1
        }
        if head > 4096, head * 2 > index.count {
            index.removeFirst(head)
            head = 0
        }
        var deletable: [Segment] = []
        while segments.count > 1, segments[0].lastSequence <= done {
            deletable.append(segments.removeFirst())
        }
        return deletable
    }

    public func close() {
        let wake: [CheckedContinuation<Void, Never>] = condition.withLock {
            closed = true
            condition.broadcast()
            let w = waiters
            waiters.removeAll()
            return w
        }
        for w in wake { w.resume() }
        condition.lock()
        while !writerDone { condition.wait() }
        condition.unlock()
    }

    public var stats: QueueStats {
        condition.withLock {
            QueueStats(records: index.count - head, bytes: segments.reduce(0) { $0 + $1.size }, lastSequence: committed)
        }
    }

    // MARK: Files

    private var segmentsDir: String { directory + "/segments" }
    private var cursorsDir: String { directory + "/cursors" }
    private var quarantineDir: String { directory + "/quarantine" }

    private func cursorFile(_ consumer: String) -> String {
        cursorsDir + "/" + consumer.percentEncoded(keeping: "-_.")
    }

    private func persistCursor(_ consumer: String, _ sequence: UInt64) {
        let path = cursorFile(consumer)
        let tmp = path + ".tmp"
        do {
            try Data("\(sequence)\n".utf8).write(to: URL(fileURLWithPath: tmp))
            _ = rename(tmp, path)
        } catch {
            logger.warning("cannot persist the cursor of '\(consumer)': \(error); it will replay from an older position after a restart")
        }
    }

    private func createSegment(id: UInt64) throws(OpenError) -> Segment {
        let path = segmentsDir + "/" + cFormat("%020llu.seg", id)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OpenError(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        let dir = open(segmentsDir, O_RDONLY | O_DIRECTORY)
        if dir >= 0 {
            _ = Glibc.fsync(dir)
            Glibc.close(dir)
        }
        return Segment(id: id, path: path, fd: fd, size: 0, lastSequence: id > 0 ? id - 1 : 0)
    }

    /// Rebuilds the index from the segment files and cursors.
    private func recover(consumers: [String]) throws(OpenError) {
        let fm = FileManager.default
        for dir in [directory, segmentsDir, cursorsDir] {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw OpenError(description: "cannot create queue directory \(dir): \(String(describing: error))")
            }
        }
        // Cursors: keep the configured consumers', release the others'.
        let wanted = Set(consumers)
        var stored: [String: UInt64] = [:]
        for file in (try? fm.contentsOfDirectory(atPath: cursorsDir)) ?? [] {
            let name = file.percentDecoded ?? file
            if file.hasSuffix(".tmp") || !wanted.contains(name) {
                try? fm.removeItem(atPath: cursorsDir + "/" + file)
                if !file.hasSuffix(".tmp") { logger.info("released the queue cursor of '\(name)', which is no longer configured") }
                continue
            }
            if let text = try? String(contentsOfFile: cursorsDir + "/" + file, encoding: .utf8),
               let seq = UInt64(text.trimmed()) {
                stored[name] = seq
            }
        }
        // Segments, oldest first. A segment is named after its first sequence, so each one can hold
        // only the sequences from its name to below the next one's.
        let listing = (try? fm.contentsOfDirectory(atPath: segmentsDir)) ?? []
        for stale in listing where stale.hasSuffix(".seg.tmp") { unlink(segmentsDir + "/" + stale) }  // a rewrite cut short
        let files = listing.filter { $0.hasSuffix(".seg") }
            .compactMap { file in UInt64(file.dropLast(4)).map { (file: file, id: $0) } }.sorted { $0.id < $1.id }
        var found: [(Segment, [SegmentFormat.Located])] = []
        var lastSequence: UInt64 = 0
        var lost: [ClosedRange<UInt64>] = []
        for (i, (file, id)) in files.enumerated() {
            let path = segmentsDir + "/" + file
            guard let data = fm.contents(atPath: path) else {
                logger.error("queue: cannot read segment \(file); its records are not delivered")
                continue
            }
            let first = max(id, 1)
            let isNewest = i == files.count - 1
            let sequences = first...(isNewest ? UInt64.max : max(first, files[i + 1].id - 1))
            let recovered = SegmentRecovery.recover(
                path: path, file: file, data: [UInt8](data), sequences: sequences, isNewest: isNewest,
                quarantine: quarantineDir, logger: logger)
            for loss in recovered.losses {
                metrics?.increment(SelfMetricCatalog.queueCorruptBytes.name, by: Double(loss.bytes))
                metrics?.increment(SelfMetricCatalog.queueCorruptRecords.name, by: Double(loss.records))
                if let s = loss.sequences { lost.append(s) }
            }
            if recovered.tornBytes > 0 { metrics?.increment(SelfMetricCatalog.queueTornTail.name, by: Double(recovered.tornBytes)) }
            lastSequence = max(lastSequence, first - 1)
            guard let last = recovered.records.last?.sequence else {
                unlink(path)  // nothing in it (a segment started just before a stop, or all damage)
                continue
            }
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else {
                logger.error("queue: cannot open segment \(file): \(String(cString: strerror(errno))); its records are not delivered")
                continue
            }
            let segment = Segment(id: id, path: path, fd: fd, size: recovered.size, lastSequence: last)
            found.append((segment, recovered.records.filter { $0.sequence > lastSequence }))
            lastSequence = max(lastSequence, last)
        }
        // Cursors: a cursor past the last sequence that survived is set back to it (new records
        // continue from there, and it must read them); one inside a damaged range needs nothing.
        let oldest = found.lazy.compactMap(\.1.first?.sequence).first ?? (lastSequence + 1)
        for c in consumers {
            guard let position = stored[c] else {
                cursors[c] = oldest - 1
                continue
            }
            if position > lastSequence {
                logger.warning("queue: the cursor of '\(c)' (sequence \(position)) is past the end of the queue (sequence \(lastSequence)); set back to \(lastSequence)")
                persistCursor(c, lastSequence)
                cursors[c] = lastSequence
            } else {
                if let range = lost.first(where: { $0.contains(position) }) {
                    logger.info("queue: the cursor of '\(c)' (sequence \(position)) is inside the damaged range \(range.lowerBound)-\(range.upperBound); '\(c)' resumes at the first record after it")
                }
                cursors[c] = position
            }
        }
        let done = cursors.values.min() ?? lastSequence
        let now = HostServices.wallClock()
        for (segment, records) in found {
            if segment.lastSequence <= done {
                unlink(segment.path)
                continue
            }
            segments.append(segment)
            for r in records where r.sequence > done {
                index.append(IndexEntry(sequence: r.sequence, segment: segment.id, offset: r.offset, length: r.length, appendedAtNano: now))
                backlogBytes += r.length
            }
        }
        nextSequence = lastSequence + 1
        committed = lastSequence
        segments.append(try createSegment(id: nextSequence))
        if !index.isEmpty {
            logger.info("queue: recovered \(index.count) unexported records (\(backlogBytes) bytes) from \(directory)")
        }
    }
}
