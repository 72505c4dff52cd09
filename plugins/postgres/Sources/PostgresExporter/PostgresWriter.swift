// Owns the connection pool, the schema migrations and the series-id cache; writes one batch at a time.
import FireflyModel
import FireflyPluginKit
import PostgresNIO

/// What one successful write did.
struct WriteOutcome: Sendable {
    var newIDs: [String: Int64] = [:]
    var pointsInserted = 0
    var spansInserted = 0
    var logsInserted = 0
    var invocationsInserted = 0
    var timescale: Bool?
}

/// The exporter's state. An actor: the host sends one batch at a time per instance, and the cache and
/// client must not be raced by `shutdown`.
actor PostgresWriter {
    let settings: PostgresSettings
    let schema: Schema
    let context: PluginContext
    private let logger = Logger(label: "firefly.postgres")

    private var client: PostgresClient?
    private var runTask: Task<Void, Never>?
    private var migrated = false
    private var timescale = false
    private var seriesCache: [String: Int64] = [:]
    private var lastRetentionUnixNano: UInt64 = 0
    private var loggedFailureKinds: Set<String> = []

    /// The series cache is dropped when it grows past this many series (high-cardinality guard).
    static let maximumCachedSeries = 200_000
    /// How long a write may take once it has its connection. A server that vanished mid-query
    /// without closing the connection (or a pool that never reports it) would otherwise hold the
    /// export, and the whole exporter, forever; a batch of a few thousand rows takes well under a second.
    static let writeTimeout: Duration = .seconds(15)
    /// How often plain PostgreSQL deletes rows older than `retention`.
    static let retentionInterval: UInt64 = 3600 * 1_000_000_000

    init(settings: PostgresSettings, context: PluginContext) {
        self.settings = settings
        self.schema = Schema(name: settings.schema)
        self.context = context
    }

    var server: String { settings.url.redacted }

    func write(_ batch: TelemetryBatch) async -> ExportResult {
        if batch.isEmpty { return .ok }
        let first = await writeOnce(batch)
        // A COPY was seen to stall in postgres-nio 1.33.2 before sending its first row (intermittent,
        // under load); the write timeout cancels it, and one more try on a new pool goes through.
        guard first.writeTimedOut else { return first.result }
        return await writeOnce(batch).result
    }

    private func writeOnce(_ batch: TelemetryBatch) async -> (result: ExportResult, writeTimedOut: Bool) {
        let prepared = PreparedBatch(batch, cache: seriesCache)
        let client = ensureClient()
        let schema = schema
        let needsMigration = !migrated
        let retentionSeconds = settings.retention.map { $0.components.seconds }
        let context = context
        let logger = logger
        do {
            let outcome = try await Self.withLease(client: client, timeout: settings.connectTimeout) { connection in
                var outcome = WriteOutcome()
                if needsMigration {
                    outcome.timescale = try await Self.migrate(
                        connection, schema: schema, retentionSeconds: retentionSeconds, context: context, logger: logger)
                }
                try await Self.write(prepared, schema: schema, on: connection, logger: logger, outcome: &outcome)
                return outcome
            }
            if let ts = outcome.timescale {
                migrated = true
                timescale = ts
            }
            if seriesCache.count + outcome.newIDs.count > Self.maximumCachedSeries { seriesCache = [:] }
            seriesCache.merge(outcome.newIDs) { _, new in new }
            count(prepared, outcome)
            // Retryable kinds are logged again at the next outage. Permanent kinds stay logged once: the
            // host splits a rejected batch, and its halves' successes must not log the rejection anew.
            loggedFailureKinds = loggedFailureKinds.filter { $0.hasPrefix("permanent") }
            await applyRetentionIfDue(client: client)
            return (.ok, false)
        } catch {
            var failure = PostgresFailure.classify(error, server: server)
            if error is LeaseTimeout, let cause = await Self.probe(settings, logger: logger) {
                failure.message = PostgresFailure.limit("no connection to \(server) within connect_timeout: \(cause)")
            }
            if error is WriteTimeout {
                abandonClient()
            } else if failure.resetsConnection {
                resetClient()
            }
            if failure.resetsSchema {
                migrated = false
                seriesCache = [:]
            }
            return (report(failure), error is WriteTimeout)
        }
    }

    /// Logs the first failure of each kind until a write succeeds again, and counts every one.
    private func report(_ failure: PostgresFailure) -> ExportResult {
        let kind = failure.kind == .permanent ? "permanent" : "retryable"
        context.count("export_failures", labels: [("kind", kind), ("sqlstate", failure.sqlState ?? "")])
        if loggedFailureKinds.insert(kind + (failure.sqlState ?? "")).inserted {
            context.log(failure.kind == .permanent ? .error : .warning, "postgres exporter: \(failure.message)")
        }
        return failure.result
    }

    private func count(_ prepared: PreparedBatch, _ outcome: WriteOutcome) {
        context.count("points_written", by: UInt64(outcome.pointsInserted))
        context.count("points_duplicate", by: UInt64(prepared.points.count - outcome.pointsInserted))
        context.count("spans_written", by: UInt64(outcome.spansInserted))
        context.count("spans_duplicate", by: UInt64(prepared.spanCount - outcome.spansInserted))
        context.count("series_created", by: UInt64(prepared.newSeries.count))
        context.count("logs_written", by: UInt64(outcome.logsInserted))
        context.count("logs_duplicate", by: UInt64(prepared.logCount - outcome.logsInserted))
        context.count("invocations_written", by: UInt64(outcome.invocationsInserted))
        context.count("invocations_duplicate", by: UInt64(prepared.invocationCount - outcome.invocationsInserted))
    }

    // MARK: Client lifecycle

    private func ensureClient() -> PostgresClient {
        if let client { return client }
        let client = PostgresClient(configuration: Self.clientConfiguration(settings))
        self.client = client
        runTask = Task { await client.run() }
        return client
    }

    /// Drops the pool: its connections are gone, and a fresh pool retries at once instead of after
    /// the backoff (up to a minute) an old pool reaches during a long outage.
    private func resetClient() {
        runTask?.cancel()
        runTask = nil
        client = nil
    }

    /// Starts a new pool without shutting the old one down: shutting down a pool while one of its
    /// connections was stuck in a COPY was seen to trip a fatal error in postgres-nio 1.33.2
    /// ("Invalid query state machine action in state: .closing, action: wait"), which ends the
    /// whole collector. The old pool and its stuck connection are left for the server to close.
    private func abandonClient() {
        runTask = nil
        client = nil
    }

    func shutdown() async {
        let task = runTask
        resetClient()
        task?.cancel()
        await task?.value
    }

    static func clientConfiguration(_ settings: PostgresSettings) -> PostgresClient.Configuration {
        let url = settings.url
        var configuration: PostgresClient.Configuration
        if let socket = url.unixSocketPath {
            configuration = .init(
                unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
        } else {
            configuration = .init(
                host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
                tls: clientTLS(settings.tls))
        }
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.connectTimeout = settings.connectTimeout
        configuration.options.additionalStartupParameters = [
            ("application_name", "firefly"), ("client_min_messages", "warning"),
        ]
        return configuration
    }

    private static func tlsConfiguration(_ mode: PostgresTLSMode) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        // libpq's prefer and require encrypt without checking who answers; verify-full checks.
        if mode != .verifyFull { tls.certificateVerification = .none }
        return tls
    }

    static func clientTLS(_ mode: PostgresTLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration(mode))
        case .require, .verifyFull: .require(tlsConfiguration(mode))
        }
    }

    /// After a lease timed out: one direct connection attempt, to say why (refused, password, no database).
    static func probe(_ settings: PostgresSettings, logger: Logger) async -> String? {
        let url = settings.url
        do {
            var configuration: PostgresConnection.Configuration
            if let socket = url.unixSocketPath {
                configuration = .init(
                    unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
            } else {
                let tls: PostgresConnection.Configuration.TLS
                switch settings.tls {
                case .disable: tls = .disable
                case .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration(settings.tls)))
                case .require, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration(settings.tls)))
                }
                configuration = .init(
                    host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
                    tls: tls)
            }
            configuration.options.connectTimeout = .nanoseconds(
                settings.connectTimeout.components.seconds * 1_000_000_000
                    + settings.connectTimeout.components.attoseconds / 1_000_000_000)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            let failure = PostgresFailure.classify(error, server: url.redacted)
            let prefix = "\(url.redacted): "
            return failure.message.hasPrefix(prefix) ? String(failure.message.dropFirst(prefix.count)) : failure.message
        }
    }

    // MARK: Schema

    /// Creates or upgrades the schema; safe to run from several collectors at once (advisory lock).
    /// Returns whether TimescaleDB is in use.
    static func migrate(
        _ connection: PostgresConnection, schema: Schema, retentionSeconds: Int64?, context: PluginContext,
        logger: Logger
    ) async throws -> Bool {
        var available = false
        for try await _ in try await connection.query(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'", logger: logger)
        {
            available = true
        }
        if available {
            // Outside the migration's transaction: failing here (no privilege, library not preloaded)
            // must leave plain PostgreSQL working.
            do {
                try await connection.query("CREATE EXTENSION IF NOT EXISTS timescaledb", logger: logger)
            } catch {
                let why = PostgresFailure.classify(error, server: "").message
                context.log(.warning, "postgres exporter: TimescaleDB is available but cannot be enabled (\(why)); using plain PostgreSQL")
            }
        }
        var timescale = false
        for try await _ in try await connection.query(
            "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'", logger: logger)
        {
            timescale = true
        }
        let applied: [Int] = try await connection.withTransaction(logger: logger) { tx in
            try await tx.query(PostgresQuery(unsafeSQL: schema.lock), logger: logger)
            try await tx.query(PostgresQuery(unsafeSQL: schema.createSchema), logger: logger)
            try await tx.query(PostgresQuery(unsafeSQL: schema.createMigrationsTable), logger: logger)
            var done: Set<Int> = []
            for try await version in try await tx.query(PostgresQuery(unsafeSQL: schema.appliedVersions), logger: logger)
                .decode(Int.self)
            {
                done.insert(version)
            }
            var applied: [Int] = []
            for migration in schema.migrations where !done.contains(migration.version) {
                for statement in migration.sql {
                    try await tx.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await tx.query(
                    PostgresQuery(unsafeSQL: schema.recordMigration(migration.version, migration.name)), logger: logger)
                applied.append(migration.version)
            }
            if timescale {
                for statement in schema.timescaleSetup(retentionSeconds: retentionSeconds) {
                    try await tx.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            return applied
        }
        if !applied.isEmpty {
            context.log(
                .info,
                "postgres exporter: schema \(schema.name) migrated to version \(applied.last!)"
                    + (timescale ? " (TimescaleDB hypertables)" : " (plain PostgreSQL)"))
        }
        return timescale
    }

    // MARK: Rows

    static func write(
        _ batch: PreparedBatch, schema: Schema, on connection: PostgresConnection, logger: Logger,
        outcome: inout WriteOutcome
    ) async throws {
        var ids = batch.knownIDs
        if !batch.newSeries.isEmpty {
            let resolved = try await resolveSeries(batch.newSeries, schema: schema, on: connection, logger: logger)
            outcome.newIDs = resolved
            ids.merge(resolved) { _, new in new }
        }
        var pointRows = RowEncoder(capacity: batch.points.count * 96)
        for (point, key) in zip(batch.points, batch.pointKeys) {
            guard let id = ids[key] else { throw SeriesMissing() }
            PreparedBatch.encode(point, seriesID: id, into: &pointRows)
        }
        let pointBytes = pointRows.bytes
        // Every signal of the batch in one transaction: the batch is written whole or not at all.
        let counts: WriteOutcome = try await connection.withTransaction(logger: logger) { tx in
            var counts = WriteOutcome()
            if !batch.points.isEmpty {
                counts.pointsInserted = try await copySkippingDuplicates(
                    pointBytes, into: schema.pointsTarget, on: tx, logger: logger)
            }
            if batch.spanCount > 0 {
                counts.spansInserted = try await copySkippingDuplicates(
                    batch.spanRows, into: schema.spansTarget, on: tx, logger: logger)
            }
            if batch.logCount > 0 {
                counts.logsInserted = try await copySkippingDuplicates(
                    batch.logRows, into: schema.logsTarget, on: tx, logger: logger)
            }
            if batch.invocationCount > 0 {
                counts.invocationsInserted = try await copySkippingDuplicates(
                    batch.invocationRows, into: schema.invocationsTarget, on: tx, logger: logger)
            }
            return counts
        }
        outcome.pointsInserted = counts.pointsInserted
        outcome.spansInserted = counts.spansInserted
        outcome.logsInserted = counts.logsInserted
        outcome.invocationsInserted = counts.invocationsInserted
    }

    static func resolveSeries(
        _ rows: [SeriesRow], schema: Schema, on connection: PostgresConnection, logger: Logger
    ) async throws -> [String: Int64] {
        var insert = PostgresBindings(capacity: 9)
        insert.append(rows.map(\.key))
        insert.append(rows.map(\.name))
        insert.append(rows.map(\.namespace))
        insert.append(rows.map(\.unit))
        insert.append(rows.map(\.function))
        insert.append(rows.map(\.kind))
        insert.append(rows.map(\.isMonotonic))
        insert.append(rows.map(\.isDelta))
        insert.append(rows.map(\.labels))
        try await connection.query(PostgresQuery(unsafeSQL: schema.insertSeries, binds: insert), logger: logger)
        var select = PostgresBindings(capacity: 1)
        select.append(rows.map(\.key))
        var ids: [String: Int64] = [:]
        ids.reserveCapacity(rows.count)
        for try await (key, id) in try await connection.query(
            PostgresQuery(unsafeSQL: schema.selectSeriesIDs, binds: select), logger: logger
        ).decode((String, Int64).self) {
            ids[key] = id
        }
        return ids
    }

    /// Copies rows into `target` through its staging table inside the caller's transaction and
    /// returns how many were new. COPY cannot skip duplicates, and a COPY the server aborts midway
    /// (a duplicate key in the target) leaves postgres-nio 1.33.2's connection unusable, so rows are
    /// copied where no key can clash and moved with `INSERT … ON CONFLICT DO NOTHING`.
    static func copySkippingDuplicates(
        _ bytes: [UInt8], into target: Schema.CopyTarget, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        try await connection.query(PostgresQuery(unsafeSQL: target.createStage), logger: logger)
        try await copy(bytes, into: target.stage, columns: target.columns, on: connection, logger: logger)
        return try await single(PostgresQuery(unsafeSQL: target.insertFromStage), on: connection, logger: logger)
    }

    /// Streams COPY text in chunks of about 1 MiB.
    static func copy(
        _ bytes: [UInt8], into table: String, columns: [String], on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
            let chunk = 1 << 20
            var start = 0
            while start < bytes.count {
                var end = min(start + chunk, bytes.count)
                // Cut after a newline so each chunk holds whole rows (easier to read in server errors).
                while end < bytes.count && bytes[end - 1] != 0x0A { end += 1 }
                var buffer = ByteBufferAllocator().buffer(capacity: end - start)
                buffer.writeBytes(bytes[start..<end])
                try await writer.write(buffer)
                start = end
            }
        }
    }

    static func single(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        for try await value in try await connection.query(query, logger: logger).decode(Int.self) {
            return value
        }
        return 0
    }

    // MARK: Retention

    /// Plain PostgreSQL only (TimescaleDB runs its own retention policy): at most once an hour,
    /// delete points, spans, logs and invocations older than `retention`. Failures are logged and retried next hour.
    private func applyRetentionIfDue(client: PostgresClient) async {
        guard let retention = settings.retention, !timescale else { return }
        let now = context.nowUnixNano()
        guard now &- lastRetentionUnixNano >= Self.retentionInterval || lastRetentionUnixNano == 0 else { return }
        lastRetentionUnixNano = now
        let seconds = Double(retention.components.seconds)
        let schema = schema
        let logger = logger
        do {
            let deleted = try await Self.withLease(client: client, timeout: settings.connectTimeout) { connection in
                var binds = PostgresBindings(capacity: 1)
                binds.append(seconds)
                for statement in schema.deleteExpired {
                    try await connection.query(PostgresQuery(unsafeSQL: statement, binds: binds), logger: logger)
                }
                return true
            }
            _ = deleted
        } catch {
            context.log(.warning, "postgres exporter: retention delete failed: \(PostgresFailure.classify(error, server: server).message)")
        }
    }
}
