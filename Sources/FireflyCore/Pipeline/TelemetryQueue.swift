public import FireflyModel

/// One queued request's worth of telemetry and the receiver it came from.
public struct QueueEntry: Sendable, Hashable {
    public var receiver: String
    public var batch: TelemetryBatch

    public init(receiver: String, batch: TelemetryBatch) {
        self.receiver = receiver
        self.batch = batch
    }
}

/// A stored entry with its position in the queue; sequences start at 1 and only grow. Readers get
/// the record's bytes (`RecordCodec`) as stored: exporters decode them straight into the C batch
/// their plugin takes (`ExportBatch`), and `entry` decodes them into Swift values.
public struct QueueRecord: Sendable, Hashable {
    public var sequence: UInt64
    public var bytes: [UInt8]

    public var entry: QueueEntry {
        get throws(RecordCodec.DecodeError) {
            let (receiver, batch) = try RecordCodec.decode(bytes)
            return QueueEntry(receiver: receiver, batch: batch)
        }
    }
}

public enum AppendResult: Sendable, Equatable {
    /// Stored (durably, for a durable queue): safe to acknowledge the sender.
    case stored(sequence: UInt64)
    /// Over the byte budget: tell the sender to retry after a while.
    case full(retryAfterMilliseconds: UInt32)
    /// Closed for shutdown.
    case closed
}

/// The queue between receivers and exporters. `append` returns only once the entry is stored
/// (the durable implementation: on disk, fsync'd), which is what lets adapters answer 2xx.
/// Each exporter ("consumer") reads with its own cursor; an entry is released once every consumer
/// has acknowledged it.
public protocol TelemetryQueue: AnyObject, Sendable {
    /// Blocking; called from worker threads.
    func append(_ entry: QueueEntry) -> AppendResult
    /// A writer with room for the queue's framing in front; write one `RecordCodec` record into it.
    /// Receivers' batches reach the queue this way, written straight from the plugin's C batch.
    func recordWriter(capacity: Int) -> ByteWriter
    /// Stores the record in `record` (the bytes of a `recordWriter`), as `append` does.
    func append(record: inout [UInt8]) -> AppendResult
    /// Records after `sequence`, at most `maxRecords`; waits until at least one exists.
    /// Returns an empty array once the queue is closed and holds nothing after `sequence`.
    func read(after sequence: UInt64, maxRecords: Int) async -> [QueueRecord]
    /// Records after `sequence` available right now, without waiting.
    func readAvailable(after sequence: UInt64, maxRecords: Int) -> [QueueRecord]
    /// The consumer has exported everything up to and including `sequence`.
    func acknowledge(consumer: String, through sequence: UInt64)
    /// The last sequence a consumer acknowledged (its persisted cursor); 0 when none.
    func cursor(consumer: String) -> UInt64
    /// Unexported entries of one consumer and the age of the oldest in seconds.
    func lag(consumer: String) -> (records: Int, seconds: Double)
    /// Stops accepting appends and wakes waiting readers.
    func close()
    var stats: QueueStats { get }
}

public struct QueueStats: Sendable {
    public var records: Int
    public var bytes: Int
    public var lastSequence: UInt64
}
