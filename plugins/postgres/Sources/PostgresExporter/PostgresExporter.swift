public import FireflyModel
public import FireflyPluginKit

/// Writes metric points, spans, log records and invocations to PostgreSQL (TimescaleDB when the
/// extension is there), in a schema it creates and migrates itself. Series are deduplicated; rows go in
/// with COPY through per-connection staging tables and `ON CONFLICT DO NOTHING`, so a replayed batch is
/// harmless.
///
/// Connects lazily on the first export: creating an instance (`firefly check`) does no I/O.
public final class PostgresExporter: ExporterPlugin {
    public static let pluginName = "postgres"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = .all
    public static let pluginDescription = "Writes metrics, traces and logs to PostgreSQL / TimescaleDB (the system of record)"

    public let settings: PostgresSettings
    private let writer: PostgresWriter

    public init(context: PluginContext, config: PluginConfig) throws {
        settings = try PostgresSettings(config)
        writer = PostgresWriter(settings: settings, context: context)
    }

    public func export(_ batch: TelemetryBatch) async -> ExportResult {
        await writer.write(batch)
    }

    public func shutdown() async {
        await writer.shutdown()
    }
}
