/// One of the collector's own metrics: its name, Prometheus type and HELP text.
public struct SelfMetric: Sendable {
    public let name: String
    public let type: String
    public let help: String

    init(_ name: String, _ type: String, _ help: String) {
        self.name = name
        self.type = type
        self.help = help
    }
}

/// Every metric the collector exposes about itself on `GET /metrics`, declared once. `SelfMetrics`
/// describes them all when it is made, so each has its HELP and TYPE lines wherever it is counted.
/// (Plugins' own counters, `firefly_plugin_<name>_total`, get a HELP text of their kind.)
public enum SelfMetricCatalog {
    // Receiving
    static let httpRequests = SelfMetric("firefly_http_requests_total", "counter", "HTTP requests answered by receivers, by status")
    static let httpInFlight = SelfMetric("firefly_http_requests_in_flight", "gauge", "Receiver requests being read or handled (at most server.worker_threads)")
    static let httpWaiting = SelfMetric("firefly_http_requests_waiting", "gauge", "Receiver requests waiting for a free worker, their bodies unread")
    static let pointsAccepted = SelfMetric("firefly_points_accepted_total", "counter", "Metric points stored in the queue, by receiver")
    static let spansAccepted = SelfMetric("firefly_spans_accepted_total", "counter", "Spans stored in the queue, by receiver")
    static let logsAccepted = SelfMetric("firefly_logs_accepted_total", "counter", "Log records stored in the queue, by receiver")
    static let invocationsAccepted = SelfMetric("firefly_invocations_accepted_total", "counter", "Invocation reports stored in the queue, by receiver")
    static let unroutedPoints = SelfMetric("firefly_unrouted_points_total", "counter", "Metric points a receiver emitted that no metrics pipeline takes from it (dropped), by receiver")
    static let unroutedSpans = SelfMetric("firefly_unrouted_spans_total", "counter", "Spans a receiver emitted that no traces pipeline takes from it (dropped), by receiver")
    static let unroutedLogs = SelfMetric("firefly_unrouted_logs_total", "counter", "Log records and invocation reports a receiver emitted that no logs pipeline takes from it (dropped), by receiver")
    static let queueRejected = SelfMetric("firefly_queue_rejected_batches_total", "counter", "Batches refused because the queue was over queue.max_bytes (the sender was asked to retry), by receiver and reason")

    // Queue
    static let queueRecords = SelfMetric("firefly_queue_records", "gauge", "Entries held in the queue")
    static let queueBytes = SelfMetric("firefly_queue_bytes", "gauge", "Bytes held in the queue (estimate for the memory queue)")
    static let queueFsync = SelfMetric("firefly_queue_fsync_duration_seconds", "histogram", "Time one group-commit fsync took")
    static let queueCorruptBytes = SelfMetric("firefly_queue_corrupt_bytes_total", "counter", "Bytes of damaged queue segments skipped at start; copied to quarantine/")
    static let queueCorruptRecords = SelfMetric("firefly_queue_corrupt_records_total", "counter", "Queue records lost to damage found at start")
    static let queueTornTail = SelfMetric("firefly_queue_torn_tail_bytes_total", "counter", "Bytes of a partial last queue record truncated at start, left by a crash during a write")

    // Exporting
    static let exports = SelfMetric("firefly_exports_total", "counter", "Export attempts by exporter and result")
    static let exportDuration = SelfMetric("firefly_export_duration_seconds", "histogram", "Time one export attempt took")
    static let exportedPoints = SelfMetric("firefly_exported_points_total", "counter", "Metric points an exporter delivered, by exporter")
    static let exportedSpans = SelfMetric("firefly_exported_spans_total", "counter", "Spans an exporter delivered, by exporter")
    static let exportedLogs = SelfMetric("firefly_exported_logs_total", "counter", "Log records and invocation reports an exporter delivered, by exporter")
    static let exportSplits = SelfMetric("firefly_export_splits_total", "counter", "Batches rejected permanently and split in two to find the rejected items")
    static let deadLettered = SelfMetric("firefly_dead_lettered_items_total", "counter", "Items rejected permanently on their own and written to the dead-letter file")
    static let exporterLagRecords = SelfMetric("firefly_exporter_lag_records", "gauge", "Queue entries an exporter has not acknowledged yet")
    static let exporterLagSeconds = SelfMetric("firefly_exporter_lag_seconds", "gauge", "Age of the oldest queue entry an exporter has not acknowledged")

    public static let all: [SelfMetric] = [
        httpRequests, httpInFlight, httpWaiting, pointsAccepted, spansAccepted, logsAccepted, invocationsAccepted,
        unroutedPoints, unroutedSpans, unroutedLogs, queueRejected, queueRecords, queueBytes, queueFsync,
        queueCorruptBytes, queueCorruptRecords, queueTornTail, exports, exportDuration, exportedPoints, exportedSpans,
        exportedLogs, exportSplits, deadLettered, exporterLagRecords, exporterLagSeconds,
    ]

    /// The HELP text of a metric not in `all`: a plugin's own counter (`firefly_plugin_<name>_total`),
    /// else the name itself.
    static func help(ofUndeclared name: String) -> String {
        name.hasPrefix("firefly_plugin_")
            ? "Counted by a plugin instance (label instance) through the host's counter_add: \(name)" : name
    }
}
