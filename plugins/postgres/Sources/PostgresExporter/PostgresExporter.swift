public import FireflyModel
public import FireflyPluginKit

/// Writes metric points and spans to PostgreSQL (TimescaleDB when the extension is there), in a
/// schema it creates and migrates itself. Series are deduplicated; points and spans go in with COPY
/// through per-connection staging tables and `ON CONFLICT DO NOTHING`, so a replayed batch is harmless.
///
/// Connects lazily on the first export: creating an instance (`firefly check`) does no I/O.
public final class PostgresExporter: ExporterPlugin {
    public static let pluginName = "postgres"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = [.metrics, .traces]
    public static let pluginDescription = "Writes metrics and traces to PostgreSQL / TimescaleDB (the system of record)"

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
