public import CFireflyPlugin
public import FireflyModel

/// The outcome of one export.
public enum ExportResult: Sendable, Equatable {
    case ok
    /// Try again later; nil lets the host's backoff decide when.
    case retryable(after: Duration?, message: String)
    /// Never retry this batch; it goes to the dead-letter file with the message.
    case permanent(message: String)
}

/// An exporter plugin: receives batches from the collector's queue and writes them somewhere.
/// The host sends one batch at a time per instance and waits for the result.
public protocol ExporterPlugin: AnyObject, Sendable {
    static var pluginName: String { get }
    static var pluginVersion: String { get }
    static var pluginDescription: String { get }
    /// The signals this exporter accepts; `firefly check` refuses pipelines of other signals naming it.
    static var signals: Signals { get }

    /// Validates the configuration; no network I/O here (`firefly check` creates instances too):
    /// connect lazily on the first export and report connection failures as `.retryable`.
    init(context: PluginContext, config: PluginConfig) throws

    func export(_ batch: TelemetryBatch) async -> ExportResult

    /// Exports the host's C batch as it is, without Swift values, when the exporter can; nil (the
    /// default) has the kit convert the batch and call `export(_:)`. Runs on the host's thread and
    /// must not block; the batch is valid during the call only.
    func exportWithoutConversion(_ batch: UnsafePointer<firefly_batch>) -> ExportResult?

    /// Pushes out anything buffered.
    func flush() async

    /// Releases resources; called once, after the last export.
    func shutdown() async
}

extension ExporterPlugin {
    public func exportWithoutConversion(_ batch: UnsafePointer<firefly_batch>) -> ExportResult? { nil }
    public func flush() async {}
    public func shutdown() async {}
}
