// Owns the connection, the schema migrations and the series-id cache; writes one batch at a time.
import FireflyModel
import FireflyPluginKit

/// What one successful write did.
struct WriteOutcome: Sendable {
    var newIDs: [String: Int64] = [:]
    var points = 0
    var spans = 0
    var logs = 0
    var invocations = 0
    var newSeries = 0
    var pointsInserted = 0
    var spansInserted = 0
    var logsInserted = 0
    var invocationsInserted = 0
    /// The partitions as the write left them, when the tables are partitioned.
    var partitions: PartitionMap?
}

/// The exporter's state. An actor: the host sends one batch at a time per instance, and the cache and
/// connection must not be raced by `shutdown`. The batch is written over one libpq connection, on
/// that connection's own thread (`PQConnection`): encoding the rows and every blocking call happen
/// there, not on Swift concurrency's shared threads.
actor PostgresWriter {
    let settings: PostgresSettings
    let schema: Schema
    let context: PluginContext

    private var connection: PQConnection?
    private var lastUse = ContinuousClock.now
    private var idleCheck: Task<Void, Never>?
    private var migrated = false
    private var timescale = false
    private var seriesCache: [String: Int64] = [:]
    private var partitions: PartitionMap?
    private var lastMaintenanceUnixNano: UInt64 = 0
    private var loggedFailureKinds: Set<String> = []

    /// The series cache is dropped when it grows past this many series (high-cardinality guard).
    static let maximumCachedSeries = 200_000
    /// How long a write may take once it has its connection. A server that vanished mid-query
    /// without closing the connection would otherwise hold the export, and the whole exporter,
    /// forever; a batch of a few thousand rows takes well under a second.
    static let writeTimeout: Duration = .seconds(15)
    /// How long the migrations may take. Migration 3 reads each table it partitions once or twice
    /// (about a second per 350 MB on this project's machine): far longer than a batch's write.
    static let migrationTimeout: Duration = .seconds(900)
    /// A connection unused this long is closed.
    static let idleTimeout: Duration = .seconds(60)
    /// How often partitions are created ahead and rows older than `retention` dropped or deleted.
    static let maintenanceInterval: UInt64 = 3600 * 1_000_000_000

    init(settings: PostgresSettings, context: PluginContext) {
        self.settings = settings
        self.schema = Schema(name: settings.schema)
        self.context = context
    }

    var server: String { settings.url.redacted }

    func write(_ batch: TelemetryBatch) async -> ExportResult {
        if batch.isEmpty { return .ok }
        let first = await writeOnce(batch)
        // A write that timed out (a server that stopped answering) was cancelled and its connection
        // given up; one more try at once on a new connection, then the collector's backoff.
        guard first.writeTimedOut else { return first.result }
        return await writeOnce(batch).result
    }

    private func writeOnce(_ batch: TelemetryBatch) async -> (result: ExportResult, writeTimedOut: Bool) {
        let cache = seriesCache
        let schema = schema
        let needsMigration = !migrated
        let known = migrated ? partitions : nil
        let retentionSeconds = settings.retention.map { $0.components.seconds }
        let context = context
        do {
            let connection = try await lease()
            if needsMigration {
                timescale = try await connection.run(timeout: Self.migrationTimeout) { session in
                    try Self.migrate(session, schema: schema, retentionSeconds: retentionSeconds, context: context)
                }
                migrated = true
            }
            let outcome = try await connection.run(timeout: Self.writeTimeout) { session in
                var outcome = WriteOutcome()
                var map = try known ?? Self.loadPartitions(session, schema: schema)
                try Self.createPartitions(Self.missingPartitions(batch, map), map: &map, schema: schema, on: session)
                do {
                    try Self.write(batch, cache: cache, schema: schema, on: session, outcome: &outcome)
                } catch let error as PQServerError where error.sqlState == "23514" && !map.isEmpty {
                    // No partition for a row (23514 is also a CHECK constraint's code): a partition this
                    // exporter counted on was dropped by another collector's retention. Read the catalog
                    // again and try once more; the transaction was rolled back whole.
                    map = try Self.loadPartitions(session, schema: schema)
                    try Self.createPartitions(Self.missingPartitions(batch, map), map: &map, schema: schema, on: session)
                    outcome = WriteOutcome()
                    try Self.write(batch, cache: cache, schema: schema, on: session, outcome: &outcome)
                }
                outcome.partitions = map
                return outcome
            }
            release(connection)
            partitions = outcome.partitions
            if seriesCache.count + outcome.newIDs.count > Self.maximumCachedSeries { seriesCache = [:] }
            seriesCache.merge(outcome.newIDs) { _, new in new }
            count(outcome)
            // Retryable kinds are logged again at the next outage. Permanent kinds stay logged once: the
            // host splits a rejected batch, and its halves' successes must not log the rejection anew.
            loggedFailureKinds = loggedFailureKinds.filter { $0.hasPrefix("permanent") }
            await maintainIfDue()
            return (.ok, false)
        } catch {
            let failure = PostgresFailure.classify(error, server: server)
            if error is WriteTimeout || error is CancellationError || failure.resetsConnection {
                // A timed-out or cancelled write already gave its connection up (`PQConnection.abandon`).
                connection?.close()
                connection = nil
            } else if let connection {
                release(connection)
            }
            if failure.resetsSchema {
                migrated = false
                seriesCache = [:]
            }
            // Read the partitions from the catalog again on the next attempt.
            partitions = nil
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

    private func count(_ outcome: WriteOutcome) {
        context.count("points_written", by: UInt64(outcome.pointsInserted))
        context.count("points_duplicate", by: UInt64(outcome.points - outcome.pointsInserted))
        context.count("spans_written", by: UInt64(outcome.spansInserted))
        context.count("spans_duplicate", by: UInt64(outcome.spans - outcome.spansInserted))
        context.count("series_created", by: UInt64(outcome.newSeries))
        context.count("logs_written", by: UInt64(outcome.logsInserted))
        context.count("logs_duplicate", by: UInt64(outcome.logs - outcome.logsInserted))
        context.count("invocations_written", by: UInt64(outcome.invocationsInserted))
        context.count("invocations_duplicate", by: UInt64(outcome.invocations - outcome.invocationsInserted))
    }

    // MARK: Connection

    /// The open connection, or a new one (`LeaseTimeout` after `connect_timeout`). A connection that
    /// failed below SQL, timed out or was idle for a minute is closed and replaced.
    private func lease() async throws -> PQConnection {
        if let connection, !connection.isBroken { return connection }
        connection?.close()
        connection = nil
        let fresh = try await PQConnection.connect(settings)
        connection = fresh
        return fresh
    }

    private func release(_ connection: PQConnection) {
        guard connection === self.connection else { return }
        if connection.isBroken {
            connection.close()
            self.connection = nil
            return
        }
        lastUse = .now
        if idleCheck == nil {
            idleCheck = Task { [weak self] in
                while let self, await self.closeIfIdle() {
                    try? await Task.sleep(for: Self.idleTimeout / 4)
                    if Task.isCancelled { return }
                }
            }
        }
    }

    /// Closes the connection once it has been idle for `idleTimeout`; false when there is nothing left to watch.
    private func closeIfIdle() -> Bool {
        guard let connection else {
            idleCheck = nil
            return false
        }
        if ContinuousClock.now - lastUse >= Self.idleTimeout {
            connection.close()
            self.connection = nil
            idleCheck = nil
            return false
        }
        return true
    }

    func shutdown() async {
        idleCheck?.cancel()
        idleCheck = nil
        let connection = connection
        self.connection = nil
        if let connection, !connection.isBroken {
            await connection.closeAndWait()
        } else {
            connection?.close()
        }
    }

    // MARK: Schema

    /// Creates or upgrades the schema; safe to run from several collectors at once (advisory lock).
    /// Returns whether TimescaleDB is in use.
    static func migrate(
        _ session: PQSession, schema: Schema, retentionSeconds: Int64?, context: PluginContext
    ) throws -> Bool {
        let available = !(try session.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")).isEmpty
        if available {
            // Outside the migration's transaction: failing here (no privilege, library not preloaded)
            // must leave plain PostgreSQL working.
            do {
                try session.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            } catch {
                let why = PostgresFailure.classify(error, server: "").message
                context.log(.warning, "postgres exporter: TimescaleDB is available but cannot be enabled (\(why)); using plain PostgreSQL")
            }
        }
        let timescale = !(try session.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).isEmpty
        let migrations = schema.migrations(timescale: timescale)
        let applied: [Int] = try session.transaction {
            try session.execute(schema.lock)
            try session.execute(schema.createSchema)
            try session.execute(schema.createMigrationsTable)
            let done = Set(try session.query(schema.appliedVersions).compactMap { $0.first.flatMap { $0 }.flatMap { Int($0) } })
            var applied: [Int] = []
            for migration in migrations where !done.contains(migration.version) {
                for statement in migration.sql {
                    try session.execute(statement)
                }
                try session.execute(schema.recordMigration(migration.version, migration.name))
                applied.append(migration.version)
            }
            if timescale {
                for statement in schema.timescaleSetup(retentionSeconds: retentionSeconds) {
                    try session.execute(statement)
                }
            }
            return applied
        }
        if let last = applied.last {
            context.log(
                .info,
                "postgres exporter: schema \(schema.name) migrated to version \(last)"
                    + (timescale ? " (TimescaleDB hypertables)" : " (plain PostgreSQL)"))
        }
        return timescale
    }

    // MARK: Rows

    /// Writes every signal of the batch in one transaction: the batch is written whole or not at all.
    /// Rows are encoded while they are copied, so the server stores rows while the next are encoded.
    static func write(
        _ batch: TelemetryBatch, cache: [String: Int64], schema: Schema, on session: PQSession, outcome: inout WriteOutcome
    ) throws {
        outcome.points = batch.points.count
        outcome.spans = batch.spans.count
        outcome.logs = batch.logs.count
        outcome.invocations = batch.invocations.count
        try session.transaction {
            if !batch.points.isEmpty {
                outcome.pointsInserted = try writePoints(
                    batch.points, cache: cache, schema: schema, on: session, outcome: &outcome)
            }
            if !batch.spans.isEmpty {
                outcome.spansInserted = try copySkippingDuplicates(
                    into: schema.spansTarget, on: session, capacity: batch.spans.count * 512
                ) { rows in
                    for span in batch.spans { TableRows.encode(span, into: &rows) }
                }
            }
            if !batch.logs.isEmpty {
                outcome.logsInserted = try copySkippingDuplicates(
                    into: schema.logsTarget, on: session, capacity: batch.logs.count * 384
                ) { rows in
                    for log in batch.logs { TableRows.encode(log, into: &rows) }
                }
            }
            if !batch.invocations.isEmpty {
                outcome.invocationsInserted = try copySkippingDuplicates(
                    into: schema.invocationsTarget, on: session, capacity: batch.invocations.count * 256
                ) { rows in
                    for invocation in batch.invocations { TableRows.encode(invocation, into: &rows) }
                }
            }
        }
    }

    /// Points of cached series are copied while their keys are computed; points of series not seen
    /// before wait until those series are inserted (in the same transaction) and are copied after.
    /// Returns how many points were new.
    static func writePoints(
        _ points: [MetricPoint], cache: [String: Int64], schema: Schema, on session: PQSession, outcome: inout WriteOutcome
    ) throws -> Int {
        var waiting: [(index: Int, key: String)] = []
        var newSeries: [String: SeriesRow] = [:]
        var rows = RowEncoder(capacity: points.count * 160)
        let target = schema.pointsTarget
        let first = try copyStraight(into: target, on: session, rows: &rows) { rows in
            for (i, point) in points.enumerated() {
                let key = TableRows.seriesKey(point)
                if let id = cache[key] {
                    TableRows.encode(point, seriesID: id, into: &rows)
                } else {
                    waiting.append((i, key))
                    if newSeries[key] == nil { newSeries[key] = TableRows.seriesRow(point, key: key) }
                }
            }
        }
        var later = RowEncoder(capacity: waiting.count * 160)
        if !waiting.isEmpty {
            outcome.newSeries = newSeries.count
            let ids = try resolveSeries(newSeries.values.sorted { $0.key < $1.key }, schema: schema, on: session)
            outcome.newIDs = ids
            for (i, key) in waiting {
                guard let id = ids[key] else { throw SeriesMissing() }
                TableRows.encode(points[i], seriesID: id, into: &later)
            }
        }
        guard let copied = first else {
            // Some points were there already: all of them through the staging table.
            rows.bytes += later.bytes
            return try copyStaged(rows, into: target, on: session)
        }
        if waiting.isEmpty { return copied }
        return try copied + copySkippingDuplicates(into: target, on: session, capacity: 0, rows: later)
    }

    /// Inserts new series (existing ones are left alone) and returns the id of every one, by key.
    static func resolveSeries(_ rows: [SeriesRow], schema: Schema, on session: PQSession) throws -> [String: Int64] {
        var encoder = RowEncoder(capacity: rows.count * 256)
        for row in rows {
            encoder.text(row.key)
            encoder.text(row.name)
            encoder.text(row.namespace)
            encoder.text(row.unit)
            encoder.text(row.function)
            encoder.text(row.kind)
            encoder.bool(row.isMonotonic)
            encoder.bool(row.isDelta)
            encoder.beginJSONColumn()
            encoder.jsonRaw(row.labels)
            encoder.endRow()
        }
        try session.execute(schema.createSeriesStage)
        _ = try session.copyBinary(schema.copySeriesStage, encoder: &encoder)
        try session.execute(schema.insertSeries)
        var ids: [String: Int64] = [:]
        ids.reserveCapacity(rows.count)
        for row in try session.query(schema.selectSeriesIDs) {
            if let key = row[0], let id = row[1].flatMap({ Int64($0) }) { ids[key] = id }
        }
        try session.execute(schema.emptySeriesStage)
        return ids
    }

    /// Copies `rows` and the rows `encode` writes into `target` inside the caller's transaction and returns how
    /// many were new: straight into the table (`copyStraight`), or through the staging table when
    /// some were there already.
    static func copySkippingDuplicates(
        into target: Schema.CopyTarget, on session: PQSession, capacity: Int, rows: RowEncoder? = nil,
        _ encode: (inout RowEncoder) throws -> Void = { _ in }
    ) throws -> Int {
        var rows = rows ?? RowEncoder(capacity: capacity)
        if let copied = try copyStraight(into: target, on: session, rows: &rows, encode) { return copied }
        return try copyStaged(rows, into: target, on: session)
    }

    /// Copies rows straight into the table, in a savepoint, and returns how many; nil when a row was
    /// there already (a replay: `23505`), after rolling the savepoint back (`rows` holds every row then).
    static func copyStraight(
        into target: Schema.CopyTarget, on session: PQSession, rows: inout RowEncoder,
        _ encode: (inout RowEncoder) throws -> Void
    ) throws -> Int? {
        try session.execute("SAVEPOINT firefly_copy")
        do {
            let copied = try session.copyBinary(target.copyIntoTable, encoder: &rows, rows: encode)
            try session.execute("RELEASE SAVEPOINT firefly_copy")
            return copied
        } catch let error as PQServerError where error.sqlState == "23505" {
            try session.execute("ROLLBACK TO SAVEPOINT firefly_copy; RELEASE SAVEPOINT firefly_copy")
            return nil
        }
    }

    /// Copies rows into the staging table and moves them with `INSERT … ON CONFLICT DO NOTHING`,
    /// which skips the rows already there; returns how many were new.
    static func copyStaged(_ rows: RowEncoder, into target: Schema.CopyTarget, on session: PQSession) throws -> Int {
        var rows = rows
        try session.execute(target.createStage)
        _ = try session.copyBinary(target.copyIntoStage, encoder: &rows)
        let inserted = try session.integer(target.insertFromStage)
        try session.execute(target.emptyStage)
        return inserted
    }

    // MARK: Partitions

    /// The partitions of the schema's partitioned tables, from the catalog (empty under TimescaleDB).
    static func loadPartitions(_ session: PQSession, schema: Schema) throws -> PartitionMap {
        try session.transaction {
            // The bounds are read back from their text: ISO dates whatever the server's default.
            try session.execute("SET LOCAL DateStyle = ISO")
            var map = PartitionMap()
            for row in try session.query(schema.partitionCatalog) {
                guard let table = row[0] else { continue }
                var partitions = map.tables[table] ?? []
                if let name = row[1] {
                    partitions.append(.init(name: name, from: row[2].flatMap { Int64($0) }, to: row[3].flatMap { Int64($0) }))
                }
                map.tables[table] = partitions
            }
            return map
        }
    }

    /// The day partitions the rows of `batch` need and `map` does not have.
    static func missingPartitions(_ batch: TelemetryBatch, _ map: PartitionMap) -> [(table: String, day: Int64)] {
        map.tables.keys.sorted().flatMap { table in
            map.missingDays(table, unixNanos: batch.partitionTimes(table)).map { (table, $0) }
        }
    }

    /// Creates day partitions in a transaction of their own, before the batch's: a collector creating
    /// the same ones waits for the advisory lock and then finds them there.
    static func createPartitions(
        _ wanted: [(table: String, day: Int64)], map: inout PartitionMap, schema: Schema, on session: PQSession
    ) throws {
        guard !wanted.isEmpty else { return }
        try session.transaction {
            try session.execute(schema.partitionLock)
            for (table, day) in wanted { try session.execute(schema.createPartition(table, day: day)) }
        }
        for (table, day) in wanted {
            map.tables[table, default: []].append(
                .init(
                    name: PartitionMap.name(table, day: day), from: day * PartitionMap.secondsPerDay,
                    to: (day + 1) * PartitionMap.secondsPerDay))
        }
    }

    // MARK: Maintenance

    /// Right after the first successful export and then at most once an hour: creates the day
    /// partitions from today to `partitions_ahead` days on, drops partitions wholly older than
    /// `retention` and deletes the older rows of the legacy partition (and, on plain PostgreSQL, of
    /// `invocations`, which is not partitioned). TimescaleDB runs its own retention policy on its
    /// hypertables. Failures are logged and retried next hour; writes create what they need themselves.
    private func maintainIfDue() async {
        let retention = settings.retention.map { $0.components.seconds }
        let timescale = timescale
        guard let known = partitions, !known.isEmpty || (retention != nil && !timescale) else { return }
        let now = context.nowUnixNano()
        guard now &- lastMaintenanceUnixNano >= Self.maintenanceInterval || lastMaintenanceUnixNano == 0 else { return }
        lastMaintenanceUnixNano = now
        let seconds = Int64(now / 1_000_000_000)
        let cutoff = retention.map { seconds - $0 }
        let today = seconds / PartitionMap.secondsPerDay
        let ahead = settings.partitionsAhead
        let schema = schema
        do {
            let connection = try await lease()
            let (map, dropped) = try await connection.run(timeout: Self.writeTimeout) { session in
                var map = try Self.loadPartitions(session, schema: schema)
                // Under TimescaleDB the hypertables have their own retention policy.
                let plainTables = timescale ? [] : Schema.timeTables.filter { map.tables[$0.table] == nil }
                let due = map.dueAhead(today: today, ahead: ahead)
                let expired = cutoff.map { map.expired(cutoff: $0) } ?? (drop: [], trim: [])
                try Self.createPartitions(due, map: &map, schema: schema, on: session)
                if !expired.drop.isEmpty {
                    try session.transaction {
                        try session.execute(schema.partitionLock)
                        // Dropping a partition locks its parent exclusively: give up rather than hold
                        // dashboards and writers behind a long query; the next hour tries again.
                        try session.execute("SET LOCAL lock_timeout = '5s'")
                        for (_, partition) in expired.drop { try session.execute(schema.dropPartition(partition)) }
                    }
                }
                if let cutoff {
                    for (table, partition) in expired.trim {
                        let column = Schema.timeTables.first { $0.table == table }?.column ?? "time"
                        try session.execute(schema.deleteOlder(partition, column: column, than: cutoff))
                    }
                    for (table, column) in plainTables {
                        try session.execute(schema.deleteOlder(table, column: column, than: cutoff))
                    }
                }
                if !expired.drop.isEmpty { map = try Self.loadPartitions(session, schema: schema) }
                return (map, expired.drop.map(\.partition))
            }
            release(connection)
            partitions = map
            if !dropped.isEmpty {
                context.log(.info, "postgres exporter: dropped partitions past retention: \(dropped.joined(separator: ", "))")
            }
        } catch {
            if connection?.isBroken ?? false {
                connection?.close()
                connection = nil
            }
            context.log(
                .warning,
                "postgres exporter: partition maintenance or retention failed: \(PostgresFailure.classify(error, server: server).message)")
        }
    }
}
