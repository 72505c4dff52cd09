// What an exporter worker hands its plugin: queue records decoded straight into the C ABI's structs.
package import CFireflyPlugin
package import FireflyModel
import FireflyPluginKit

/// The queue records one export takes, as the C structs the plugin is handed: each record's
/// bytes are copied once into the arena and its items decoded in place (`CRecordReader`), so no
/// Swift value is made between the queue and the plugin. Slices (for `batch_max_items`, and for
/// bisecting a batch an exporter rejects) are views of the same memory.
///
/// Not thread-safe: one worker builds and exports it, one export at a time; an export in flight
/// keeps it alive until the plugin's `done`.
package final class ExportBatch: @unchecked Sendable {
    let arena = CArena(chunkSize: 256 * 1024)
    private(set) var items = RecordCodec.CItems()
    /// The C batches made so far, by range: a retried or bisected export reuses its batch.
    private var made: [Range<Int>: UnsafePointer<firefly_batch>] = [:]

    package var itemCount: Int { items.count }

    package init() {}

    /// Adds the items of a record (`RecordCodec` bytes) of the signals `keeping` gives for its
    /// receiver. A damaged record adds nothing and throws.
    package func append(record: [UInt8], keeping: (String) -> Signals) throws(RecordCodec.DecodeError) {
        guard !record.isEmpty else { throw RecordCodec.DecodeError(description: "empty record") }
        // A record this exporter takes nothing of leaves nothing behind in the arena.
        let mark = arena.mark()
        let before = items.count
        let copy = arena.allocate(byteCount: record.count, alignment: 8)
        record.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        do {
            _ = try RecordCodec.decode(
                UnsafeRawBufferPointer(start: copy, count: record.count), arena: arena, keeping: keeping, into: &items)
        } catch {
            arena.reset(to: mark)
            throw error
        }
        if items.count == before { arena.reset(to: mark) }
        made.removeAll()
    }

    /// The C batch of the items at `range`, in the arena (valid while the batch lives).
    func cBatch(_ range: Range<Int>) -> UnsafePointer<firefly_batch> {
        if let c = made[range] { return c }
        let c = items.cBatch(range, in: arena)
        made[range] = c
        return c
    }

    /// All items, in slices of at most `maxItems` (none when empty).
    package func slices(maxItems: Int) -> [ExportSlice] {
        ExportSlice(batch: self, range: 0..<itemCount).slices(maxItems: maxItems)
    }
}

/// A run of an `ExportBatch`'s items, in `TelemetryBatch.items(_:)` order.
package struct ExportSlice: Sendable, ItemSlicing {
    let batch: ExportBatch
    let range: Range<Int>

    package var itemCount: Int { range.count }

    package func items(_ sub: Range<Int>) -> ExportSlice {
        ExportSlice(batch: batch, range: range.lowerBound + sub.lowerBound..<range.lowerBound + sub.upperBound)
    }

    /// The C batch of these items, in the batch's arena (valid while the batch lives).
    package func cBatch() -> UnsafePointer<firefly_batch> { batch.cBatch(range) }

    /// How many points, spans, and log records plus invocations the slice holds.
    var counts: (points: Int, spans: Int, logs: Int) {
        let points = batch.items.points.count, spans = batch.items.spans.count
        func overlap(_ lower: Int, _ upper: Int) -> Int {
            max(0, min(range.upperBound, upper) - max(range.lowerBound, lower))
        }
        return (overlap(0, points), overlap(points, points + spans), overlap(points + spans, batch.itemCount))
    }

    /// The items as Swift values (for the dead-letter file).
    func telemetry() throws(BatchBridge.InvalidBatch) -> TelemetryBatch {
        try BatchBridge.telemetry(from: cBatch())
    }
}

/// A batch that can be cut into runs of its items: what `RejectionSplitter` bisects and the
/// exporter worker slices.
package protocol ItemSlicing {
    var itemCount: Int { get }
    func items(_ range: Range<Int>) -> Self
}

extension ItemSlicing {
    /// The items in runs of at most `maxItems` (none when empty).
    package func slices(maxItems: Int) -> [Self] {
        let step = max(maxItems, 1)
        return stride(from: 0, to: itemCount, by: step).map { items($0..<min($0 + step, itemCount)) }
    }
}

extension TelemetryBatch: ItemSlicing {}
