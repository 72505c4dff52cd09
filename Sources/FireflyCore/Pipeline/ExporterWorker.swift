import FireflyModel
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Synchronization

/// Moves one exporter's share of the queue into its plugin: reads after its cursor, batches by
/// size and time, retries retryable failures with backoff, splits a batch rejected permanently until
/// only the rejected items remain and dead-letters those, and only then acknowledges. A slow or
/// failing exporter never blocks the others, and one bad item never costs its neighbours.
final class ExporterWorker: Sendable {
    let exporter: ExporterInstance
    let queue: any TelemetryQueue
    let router: Router
    let settings: QueueConfig
    let metrics: SelfMetrics
    let logger: Logger
    let deadLetters: DeadLetterFile
    private let onceLog = OnceLog()

    init(exporter: ExporterInstance, queue: any TelemetryQueue, router: Router, settings: QueueConfig,
         metrics: SelfMetrics, logger: Logger, deadLetters: DeadLetterFile) {
        self.exporter = exporter
        self.queue = queue
        self.router = router
        self.settings = settings
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "firefly.exporter"] = "\(exporter.name)"
        self.logger = logger
        self.deadLetters = deadLetters
    }

    /// Runs until the queue is closed and drained, or the stop deadline passes.
    func run(stopDeadline: @escaping @Sendable () -> ContinuousClock.Instant?) async {
        var cursor = queue.cursor(consumer: exporter.name)
        let maxItems = settings.batchMaxItems
        while true {
            if let deadline = stopDeadline(), ContinuousClock.now >= deadline { return }
            // One record per read: records are read (and decoded) only as the batch takes them. A read
            // of many at once held every one of them in memory, however large (a 5 MiB Firehose
            // request is ~15 000 points), and dropped those the full batch did not take.
            let first = await queue.read(after: cursor, maxRecords: 1)
            if first.isEmpty { return }  // closed and drained
            let batch = ExportBatch()
            var through = cursor
            // Take whole records until the batch holds maxItems, waiting up to batchMaxWait for more.
            var available = first[...]
            let fillUntil = ContinuousClock.now + settings.batchMaxWait
            while batch.itemCount < maxItems {
                if let record = available.popFirst() {
                    take(record, into: batch)
                    through = record.sequence
                    continue
                }
                guard ContinuousClock.now < fillUntil, stopDeadline() == nil else { break }
                let more = queue.readAvailable(after: through, maxRecords: 1)
                if more.isEmpty {
                    try? await Task.sleep(for: .milliseconds(10))
                } else {
                    available = more[...]
                }
            }
            // One record can exceed maxItems (a huge request): export it in slices, acknowledge once all are in.
            for slice in batch.slices(maxItems: maxItems) {
                let delivered = await deliver(slice, stopDeadline: stopDeadline)
                if !delivered { return }  // shutting down with this batch still queued: replayed after restart
            }
            queue.acknowledge(consumer: exporter.name, through: through)
            cursor = through
        }
    }

    /// Decodes this exporter's share of a record into the batch. A record that passed the queue's
    /// checksum but cannot be decoded (written by an incompatible release) is skipped with an error.
    private func take(_ record: QueueRecord, into batch: ExportBatch) {
        do {
            try batch.append(record: record.bytes) { receiver in router.signals(from: receiver, for: exporter.name) }
        } catch {
            if onceLog.first(kind: "decode:" + OnceLog.kind(of: error.description)) {
                logger.error(
                    "queue record \(record.sequence) cannot be decoded; skipped (further records failing this way are not logged)",
                    metadata: ["firefly.reason": "\(error.description)"])
            }
        }
    }

    /// Exports with retries; a batch rejected permanently is split until only the rejected items
    /// remain, and those are dead-lettered one by one with the exporter's message. False when
    /// shutdown cut the retries short.
    private func deliver(_ batch: ExportSlice, stopDeadline: @Sendable () -> ContinuousClock.Instant?) async -> Bool {
        let labels = [("exporter", exporter.name)]
        return await RejectionSplitter.deliver(
            batch,
            export: { part in await exportRetrying(part, stopDeadline: stopDeadline) },
            split: { part, message in
                metrics.increment(SelfMetricCatalog.exportSplits.name, labels)
                if onceLog.first(kind: "split:" + OnceLog.kind(of: message)) {
                    logger.warning(
                        "export rejected permanently; splitting the batch so that only the rejected items are dead-lettered",
                        metadata: ["firefly.reason": "\(message)", "firefly.items": "\(part.itemCount)"])
                }
            },
            rejected: { item, message in
                metrics.increment(SelfMetricCatalog.deadLettered.name, labels, by: Double(item.itemCount))
                if onceLog.first(kind: OnceLog.kind(of: message)) {
                    logger.error(
                        "export rejected an item permanently; it was written to the dead-letter file (further errors of this kind are counted, not logged)",
                        metadata: ["firefly.reason": "\(message)"])
                }
                do {
                    deadLetters.write(exporter: exporter.name, reason: message, batch: try item.telemetry())
                } catch {
                    logger.error("a rejected item could not be read back for the dead-letter file", metadata: ["firefly.reason": "\(error)"])
                }
            })
    }

    /// One batch to the exporter, retrying retryable failures with backoff until it is delivered,
    /// rejected permanently, or shutdown cuts the retries short.
    private func exportRetrying(_ batch: ExportSlice, stopDeadline: @Sendable () -> ContinuousClock.Instant?) async -> RejectionSplitter.Outcome {
        var backoff = Backoff(initial: settings.retryInitial, maximum: settings.retryMax)
        let labels = [("exporter", exporter.name)]
        while true {
            let started = ContinuousClock.now
            let result = await exporter.export(batch)
            let elapsed = ContinuousClock.now - started
            metrics.observe(SelfMetricCatalog.exportDuration.name, labels, seconds: Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
            switch result {
            case .ok:
                metrics.increment(SelfMetricCatalog.exports.name, labels + [("result", "ok")])
                let counts = batch.counts
                metrics.increment(SelfMetricCatalog.exportedPoints.name, labels, by: Double(counts.points))
                metrics.increment(SelfMetricCatalog.exportedSpans.name, labels, by: Double(counts.spans))
                metrics.increment(SelfMetricCatalog.exportedLogs.name, labels, by: Double(counts.logs))
                return .delivered
            case .permanent(let message):
                metrics.increment(SelfMetricCatalog.exports.name, labels + [("result", "permanent")])
                return .rejected(message: message)
            case .retryable(let after, let message):
                metrics.increment(SelfMetricCatalog.exports.name, labels + [("result", "retryable")])
                let delay = backoff.next(retryAfter: after) { Double.random(in: 0..<1) }
                if onceLog.first(kind: "retry:" + OnceLog.kind(of: message)) {
                    logger.warning("export failed, retrying with backoff", metadata: ["firefly.reason": "\(message)", "firefly.delay": "\(delay)"])
                }
                if let deadline = stopDeadline(), ContinuousClock.now + delay > deadline { return .stopped }
                try? await Task.sleep(for: delay)
            }
        }
    }
}

/// Remembers which kinds of error were already logged, so each kind is logged once.
final class OnceLog: Sendable {
    private let seen = Mutex<Set<String>>([])

    func first(kind: String) -> Bool { seen.withLock { $0.insert(kind).inserted } }

    /// The kind of a message: its text up to the first digit or quote, so ids and counts do not
    /// make every message a new kind.
    static func kind(of message: String) -> String {
        String(message.prefix { !$0.isNumber && $0 != "'" && $0 != "\"" }.prefix(80))
    }
}
