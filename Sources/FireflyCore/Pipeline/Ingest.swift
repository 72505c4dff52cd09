import CFireflyPlugin
import FireflyModel
import FireflyPluginKit
import Logging
import Synchronization

/// The one way telemetry enters the collector: every receiver's sink. A receiver's C batch is cut
/// to the signals some pipeline takes from that receiver and written straight from the C batch as a
/// queue record (`RecordCodec`), stored in the queue — the durable one has it on disk and fsync'd
/// before `emit` returns — and counted.
final class Ingest: Sendable {
    let router: Router
    let metrics: SelfMetrics
    let logger: Logger
    /// Opened after every instance was created and checked; nil before and `emit` answers CLOSED.
    private let opened = Mutex<(any TelemetryQueue)?>(nil)

    init(router: Router, metrics: SelfMetrics, logger: Logger) {
        self.router = router
        self.metrics = metrics
        self.logger = logger
    }

    var queue: (any TelemetryQueue)? { opened.withLock { $0 } }

    func attach(_ queue: any TelemetryQueue) { opened.withLock { $0 = queue } }

    /// Stores what the pipelines route of `receiver`'s batch; the status and retry delay for the sink.
    func emit(receiver: String, batch cBatch: UnsafePointer<firefly_batch>) -> (firefly_emit_status, UInt32) {
        guard let queue else { return (FIREFLY_EMIT_CLOSED, 1000) }
        let labels = [("receiver", receiver)]
        let keeping = router.routed(from: receiver)
        let result: AppendResult
        let stored: RecordCodec.Counts
        do throws(BatchBridge.InvalidBatch) {
            let header = try BatchBridge.checkedHeader(cBatch)
            let offered = RecordCodec.Counts(
                points: header.point_count, spans: header.span_count, logs: header.log_count, invocations: header.invocation_count)
            let estimate = 256 * min(offered.points, 1 << 16) + 512 * min(offered.spans + offered.logs, 1 << 16)
            var w = queue.recordWriter(capacity: estimate)
            stored = try RecordCodec.encode(checked: header, receiver: receiver, keeping: keeping, into: &w)
            countUnrouted(offered: offered, stored: stored, labels)
            if stored.isEmpty { return (FIREFLY_EMIT_OK, 0) }
            result = queue.append(record: &w.bytes)
        } catch {
            logger.error("receiver '\(receiver)' emitted an invalid batch: \(error.description)")
            return (FIREFLY_EMIT_INVALID, 0)
        }
        switch result {
        case .stored:
            count(SelfMetricCatalog.pointsAccepted, stored.points, labels)
            count(SelfMetricCatalog.spansAccepted, stored.spans, labels)
            count(SelfMetricCatalog.logsAccepted, stored.logs, labels)
            count(SelfMetricCatalog.invocationsAccepted, stored.invocations, labels)
            return (FIREFLY_EMIT_OK, 0)
        case .full(let retry):
            metrics.increment(SelfMetricCatalog.queueRejected.name, labels + [("reason", "full")])
            return (FIREFLY_EMIT_BUSY, retry)
        case .closed:
            return (FIREFLY_EMIT_CLOSED, 1000)
        }
    }

    private func countUnrouted(offered: RecordCodec.Counts, stored: RecordCodec.Counts, _ labels: [(String, String)]) {
        count(SelfMetricCatalog.unroutedPoints, offered.points - stored.points, labels)
        count(SelfMetricCatalog.unroutedSpans, offered.spans - stored.spans, labels)
        count(SelfMetricCatalog.unroutedLogs, offered.logs + offered.invocations - stored.logs - stored.invocations, labels)
    }

    private func count(_ metric: SelfMetric, _ n: Int, _ labels: [(String, String)]) {
        if n > 0 { metrics.increment(metric.name, labels, by: Double(n)) }
    }
}
