// Firefly's tables in PostgreSQL: versioned migrations and the statements that write rows.

/// The SQL of one schema (its name is a validated plain identifier, so it is safe to splice in).
///
/// Times are kept twice: `timestamptz` (microseconds) for queries and indexes, and the exact
/// nanoseconds as `bigint`. Ids are lowercase hex text, as Grafana's trace view and W3C write them.
struct Schema: Sendable {
    let name: String
    /// `"name"`, quoted for splicing into SQL.
    var q: String { "\"\(name)\"" }

    /// Every migration, in order. Append new ones; never edit one that has shipped.
    var migrations: [(version: Int, name: String, sql: [String])] {
        [(1, "series, points and spans", v1)]
    }

    private var v1: [String] {
        [
            """
            CREATE TABLE \(q).series (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key_hash bytea NOT NULL UNIQUE,
                name text NOT NULL,
                namespace text NOT NULL,
                unit text NOT NULL,
                function text NOT NULL,
                kind text NOT NULL,
                is_monotonic boolean NOT NULL,
                is_delta boolean NOT NULL,
                labels jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX series_function ON \(q).series (function)",
            "CREATE INDEX series_name ON \(q).series (name, namespace)",
            """
            CREATE TABLE \(q).points (
                series_id bigint NOT NULL,
                time timestamptz NOT NULL,
                start_time timestamptz,
                time_unix_nano bigint NOT NULL,
                start_time_unix_nano bigint NOT NULL,
                value float8,
                count float8,
                sum float8,
                min float8,
                max float8,
                quantiles float8[],
                quantile_values float8[],
                bounds float8[],
                bucket_counts bigint[],
                UNIQUE (series_id, time)
            )
            """,
            """
            CREATE TABLE \(q).spans (
                trace_id text NOT NULL,
                span_id text NOT NULL,
                parent_span_id text,
                trace_state text NOT NULL,
                name text NOT NULL,
                kind text NOT NULL,
                status_code smallint NOT NULL,
                status_message text NOT NULL,
                start_time timestamptz NOT NULL,
                end_time timestamptz NOT NULL,
                start_time_unix_nano bigint NOT NULL,
                end_time_unix_nano bigint NOT NULL,
                duration_ms float8 NOT NULL,
                function text NOT NULL,
                service text NOT NULL,
                scope_name text NOT NULL,
                scope_version text NOT NULL,
                cold_start boolean NOT NULL,
                attributes jsonb NOT NULL,
                resource_attributes jsonb NOT NULL,
                events jsonb NOT NULL,
                links jsonb NOT NULL,
                UNIQUE (trace_id, span_id, start_time)
            )
            """,
            "CREATE INDEX spans_function_start ON \(q).spans (function, start_time DESC)",
            "CREATE INDEX spans_start ON \(q).spans (start_time DESC)",
            """
            CREATE VIEW \(q).metrics AS
            SELECT s.name, s.namespace, s.unit, s.function, s.kind, s.labels, p.*
            FROM \(q).points p JOIN \(q).series s ON s.id = p.series_id
            """,
        ]
    }

    // MARK: Migration bookkeeping

    var createSchema: String { "CREATE SCHEMA IF NOT EXISTS \(q)" }
    var createMigrationsTable: String {
        """
        CREATE TABLE IF NOT EXISTS \(q).firefly_schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    }
    var appliedVersions: String { "SELECT version FROM \(q).firefly_schema_migrations" }
    func recordMigration(_ version: Int, _ name: String) -> String {
        "INSERT INTO \(q).firefly_schema_migrations (version, name) VALUES (\(version), '\(name.replacingOccurrences(of: "'", with: "''"))')"
    }
    /// Serialises migrations of this schema across collectors; released at COMMIT.
    var lock: String { "SELECT pg_advisory_xact_lock(1179015513, hashtext('\(name)'))" }

    // MARK: TimescaleDB

    func timescaleSetup(retentionSeconds: Int64?) -> [String] {
        var sql = [
            "SELECT create_hypertable('\(q).points', 'time', if_not_exists => TRUE, migrate_data => TRUE)",
            "SELECT create_hypertable('\(q).spans', 'start_time', if_not_exists => TRUE, migrate_data => TRUE)",
        ]
        for table in ["points", "spans"] {
            sql.append("SELECT remove_retention_policy('\(q).\(table)', if_exists => TRUE)")
            if let retentionSeconds {
                sql.append(
                    "SELECT add_retention_policy('\(q).\(table)', INTERVAL '\(retentionSeconds) seconds', if_not_exists => TRUE)")
            }
        }
        return sql
    }

    // MARK: Writes

    /// A table that batches are written to: rows are copied into a staging table with the same
    /// columns (per connection, in `pg_temp`, emptied at commit), then moved into the table with
    /// `INSERT … ON CONFLICT DO NOTHING`, which skips rows already there (replays).
    struct CopyTarget: Sendable {
        /// Every column, in the order the row encoder writes them.
        var columns: [String]
        /// The staging table's name in `pg_temp`.
        var stage: String
        var createStage: String
        var insertFromStage: String
    }

    var pointsTarget: CopyTarget { target("points", Self.pointColumns) }
    var spansTarget: CopyTarget { target("spans", Self.spanColumns) }

    static let pointColumns = [
        "series_id", "time", "start_time", "time_unix_nano", "start_time_unix_nano", "value", "count", "sum", "min",
        "max", "quantiles", "quantile_values", "bounds", "bucket_counts",
    ]

    static let spanColumns = [
        "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind", "status_code", "status_message",
        "start_time", "end_time", "start_time_unix_nano", "end_time_unix_nano", "duration_ms", "function", "service",
        "scope_name", "scope_version", "cold_start", "attributes", "resource_attributes", "events", "links",
    ]

    private func target(_ table: String, _ columns: [String]) -> CopyTarget {
        let stage = "firefly_stage_\(table)"
        let list = columns.joined(separator: ", ")
        return CopyTarget(
            columns: columns, stage: stage,
            createStage: "CREATE TEMP TABLE IF NOT EXISTS \(stage) (LIKE \(q).\(table)) ON COMMIT DELETE ROWS",
            insertFromStage: """
                WITH inserted AS (
                    INSERT INTO \(q).\(table) (\(list))
                    SELECT \(list) FROM pg_temp.\(stage)
                    ON CONFLICT DO NOTHING
                    RETURNING 1
                )
                SELECT count(*) FROM inserted
                """)
    }

    /// New series from parallel arrays ($1 keys … $9 labels); sorted keys keep concurrent writers
    /// from deadlocking on the unique index.
    var insertSeries: String {
        """
        INSERT INTO \(q).series (key_hash, name, namespace, unit, function, kind, is_monotonic, is_delta, labels)
        SELECT sha256(convert_to(k, 'UTF8')), n, ns, u, f, kd, mono, delta, l::jsonb
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::boolean[], $8::boolean[], $9::text[]) AS t(k, n, ns, u, f, kd, mono, delta, l)
        ORDER BY k
        ON CONFLICT (key_hash) DO NOTHING
        """
    }

    var selectSeriesIDs: String {
        """
        SELECT t.k, s.id FROM unnest($1::text[]) AS t(k)
        JOIN \(q).series s ON s.key_hash = sha256(convert_to(t.k, 'UTF8'))
        """
    }

    var deleteExpiredPoints: String { "DELETE FROM \(q).points WHERE time < now() - make_interval(secs => $1)" }
    var deleteExpiredSpans: String { "DELETE FROM \(q).spans WHERE start_time < now() - make_interval(secs => $1)" }
}
