// Narrows a permanently rejected batch down to the items the exporter refuses, so their neighbours get through.
import FireflyModel

/// Bisects a batch an exporter rejected permanently: each half is exported again (exporters are
/// idempotent, so items of a half that was partly written before are harmless replays), down to
/// single items. Only a single item that is still rejected is given up, with the exporter's message.
/// Pure logic: the export, and what to do with a rejected item, are passed in.
enum RejectionSplitter {
    /// The final outcome of one export of one batch (after whatever retries the caller makes).
    enum Outcome: Sendable, Equatable {
        case delivered
        /// The exporter refuses the batch, and will refuse it again.
        case rejected(message: String)
        /// Delivery was cut short (shutdown, or the exporter is unavailable): the batch is not delivered.
        case stopped
    }

    /// Exports `batch`; on a rejection of more than one item, exports its halves. Calls `rejected`
    /// once per single item that is rejected on its own, and `split` once per batch that is halved.
    /// Returns false when delivery stopped (items not yet tried stay with the caller).
    static func deliver<Batch: ItemSlicing>(
        _ batch: Batch,
        export: (Batch) async -> Outcome,
        split: (Batch, String) -> Void,
        rejected: (Batch, String) async -> Void
    ) async -> Bool {
        switch await export(batch) {
        case .delivered:
            return true
        case .stopped:
            return false
        case .rejected(let message):
            guard batch.itemCount > 1 else {
                await rejected(batch, message)
                return true
            }
            split(batch, message)
            let (first, second) = halves(of: batch)
            guard await deliver(first, export: export, split: split, rejected: rejected) else { return false }
            return await deliver(second, export: export, split: split, rejected: rejected)
        }
    }

    /// The first and second half of a batch's items (points, spans, logs, invocations in that
    /// order); each half holds at least one item when the batch holds two or more.
    static func halves<Batch: ItemSlicing>(of batch: Batch) -> (Batch, Batch) {
        let middle = batch.itemCount / 2
        return (batch.items(0..<middle), batch.items(middle..<batch.itemCount))
    }
}
