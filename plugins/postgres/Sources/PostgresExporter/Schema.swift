// Firefly's tables in PostgreSQL: versioned migrations and the statements that write rows.

/// The SQL of one schema (its name is a validated plain identifier, so it is safe to splice in).
///
/// Times are kept twice: `timestamptz` (microseconds) for queries and indexes, and the exact
/// nanoseconds as `bigint`. Ids are lowercase hex text, as Grafana's trace view and W3C write them.
struct Schema: Sendable {
    let name: String
    /// `"name"`, quoted for splicing into SQL.
    var q: String { "\"\(name)\"" }

    /// Every migration, in order. Append new ones; never edit one that has shipped. Under TimescaleDB
    /// the tables become hypertables instead of natively partitioned tables, so migration 3 does nothing there.
    func migrations(timescale: Bool) -> [(version: Int, name: String, sql: [String])] {
        [
            (1, "series, points and spans", v1), (2, "logs and invocations", v2),
            (3, "points, spans and logs partitioned by day", timescale ? [] : v3),
        ]
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

    /// Logs and the invocations Lambda reports in them. Both unique keys hold the time column, as
    /// TimescaleDB requires of every unique index on a hypertable.
    private var v2: [String] {
        [
            """
            CREATE TABLE \(q).logs (
                time timestamptz NOT NULL,
                time_unix_nano bigint NOT NULL,
                observed_time timestamptz,
                observed_time_unix_nano bigint NOT NULL,
                severity_number smallint NOT NULL,
                severity_text text NOT NULL,
                body text NOT NULL,
                body_json jsonb,
                attributes jsonb NOT NULL,
                resource_attributes jsonb NOT NULL,
                trace_id text,
                span_id text,
                trace_flags bigint NOT NULL,
                function text NOT NULL,
                service text NOT NULL,
                scope_name text NOT NULL,
                scope_version text NOT NULL,
                request_id text,
                record_id text NOT NULL,
                UNIQUE (record_id, time, function)
            )
            """,
            "CREATE INDEX logs_function_time ON \(q).logs (function, time DESC)",
            "CREATE INDEX logs_time ON \(q).logs (time DESC)",
            "CREATE INDEX logs_trace ON \(q).logs (trace_id) WHERE trace_id IS NOT NULL",
            "CREATE INDEX logs_request ON \(q).logs (request_id) WHERE request_id IS NOT NULL",
            """
            CREATE TABLE \(q).invocations (
                function text NOT NULL,
                version text NOT NULL,
                request_id text NOT NULL,
                start_time timestamptz NOT NULL,
                start_time_unix_nano bigint NOT NULL,
                duration_ms float8 NOT NULL,
                billed_duration_ms float8 NOT NULL,
                memory_size_mb integer NOT NULL,
                max_memory_used_mb integer NOT NULL,
                init_duration_ms float8,
                cold_start boolean NOT NULL,
                status text NOT NULL,
                error_type text NOT NULL,
                trace_id text,
                attributes jsonb NOT NULL,
                UNIQUE (function, request_id, start_time)
            )
            """,
            "CREATE INDEX invocations_function_start ON \(q).invocations (function, start_time DESC)",
            "CREATE INDEX invocations_start ON \(q).invocations (start_time DESC)",
            "CREATE INDEX invocations_request ON \(q).invocations (request_id)",
            "CREATE INDEX invocations_trace ON \(q).invocations (trace_id) WHERE trace_id IS NOT NULL",
        ]
    }

    /// The tables partitioned by time (PostgreSQL's declarative partitioning), with their time
    /// column, the unique constraint and the indexes migrations 1 and 2 gave them.
    static let partitionedTables: [(table: String, column: String, unique: [String], indexes: [(String, String)])] = [
        ("points", "time", ["series_id", "time"], []),
        ("spans", "start_time", ["trace_id", "span_id", "start_time"], [
            ("spans_function_start", "(function, start_time DESC)"), ("spans_start", "(start_time DESC)"),
        ]),
        ("logs", "time", ["record_id", "time", "function"], [
            ("logs_function_time", "(function, time DESC)"), ("logs_time", "(time DESC)"),
            ("logs_trace", "(trace_id) WHERE trace_id IS NOT NULL"),
            ("logs_request", "(request_id) WHERE request_id IS NOT NULL"),
        ]),
    ]

    /// Each table becomes a parent partitioned by range of its time column, with the same columns,
    /// unique key and index names. The table as it was (renamed `<table>_legacy`, its indexes too) is
    /// attached whole as the first partition, from MINVALUE to the end of the migration's day (UTC) or
    /// of its newest row's day if that is later: no row is copied, and ATTACH finds the legacy table's
    /// unique index equal to the parent's and adopts it instead of building another. An empty table
    /// (a new database) is dropped instead, so a new database holds daily partitions only.
    private var v3: [String] {
        var sql: [String] = []
        for (table, column, unique, indexes) in Self.partitionedTables {
            let legacy = "\(table)_legacy"
            let key = "\(table)_\(unique.joined(separator: "_"))_key"
            sql.append("ALTER TABLE \(q).\(table) RENAME TO \(legacy)")
            sql.append("ALTER INDEX \(q).\(key) RENAME TO \(legacy)_\(key.dropFirst(table.count + 1))")
            for (index, _) in indexes {
                sql.append("ALTER INDEX \(q).\(index) RENAME TO \(legacy)_\(index.dropFirst(table.count + 1))")
            }
            sql.append(
                """
                CREATE TABLE \(q).\(table) (
                    LIKE \(q).\(legacy) INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE,
                    UNIQUE (\(unique.joined(separator: ", ")))
                ) PARTITION BY RANGE (\(column))
                """)
            for (index, definition) in indexes {
                sql.append("CREATE INDEX \(index) ON \(q).\(table) \(definition)")
            }
            if table == "points" {
                // The view followed the renamed table; point it at the parent.
                sql.append(
                    """
                    CREATE OR REPLACE VIEW \(q).metrics AS
                    SELECT s.name, s.namespace, s.unit, s.function, s.kind, s.labels, p.*
                    FROM \(q).points p JOIN \(q).series s ON s.id = p.series_id
                    """)
            }
            sql.append(
                """
                DO $firefly$
                DECLARE
                    newest timestamptz;
                    bound timestamp;
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM \(q).\(legacy)) THEN
                        DROP TABLE \(q).\(legacy);
                        RETURN;
                    END IF;
                    SELECT max(\(column)) INTO newest FROM \(q).\(legacy);
                    bound := greatest(date_trunc('day', now() AT TIME ZONE 'UTC'), date_trunc('day', newest AT TIME ZONE 'UTC'))
                        + interval '1 day';
                    EXECUTE format(
                        'ALTER TABLE \(q).\(table) ATTACH PARTITION \(q).\(legacy) FOR VALUES FROM (MINVALUE) TO (%L)',
                        to_char(bound, 'YYYY-MM-DD HH24:MI:SS') || '+00');
                END
                $firefly$
                """)
        }
        return sql
    }

    // MARK: Partitions

    /// Serialises creating and dropping partitions across collectors; released at COMMIT.
    var partitionLock: String { "SELECT pg_advisory_xact_lock(1179015513, hashtext('\(name)/partitions'))" }

    /// Each partitioned table of the schema with each of its partitions and their bounds in seconds
    /// since the Unix epoch (NULL for MINVALUE and MAXVALUE); the partition columns are NULL for a
    /// table without partitions. Run with `DateStyle` ISO so the bounds' text reads back exactly.
    var partitionCatalog: String {
        #"""
        SELECT p.relname, c.relname,
            extract(epoch FROM substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(''([^'']+)''\)')::timestamptz)::bigint,
            extract(epoch FROM substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz)::bigint
        FROM pg_class p
        JOIN pg_namespace n ON n.oid = p.relnamespace
        LEFT JOIN pg_inherits i ON i.inhparent = p.oid
        LEFT JOIN pg_class c ON c.oid = i.inhrelid
        WHERE n.nspname = '\#(name)' AND p.relkind = 'p' AND p.relname IN ('points', 'spans', 'logs')
        ORDER BY 1, 3 NULLS FIRST
        """#
    }

    /// Creates the day's partition of `table` unless a collector did already. Created apart and then
    /// attached: ATTACH PARTITION takes a SHARE UPDATE EXCLUSIVE lock on the parent, which lets
    /// dashboards read and other collectors write meanwhile (CREATE TABLE … PARTITION OF would take
    /// an ACCESS EXCLUSIVE one).
    func createPartition(_ table: String, day: Int64) -> String {
        let partition = PartitionMap.name(table, day: day)
        return """
            DO $firefly$
            BEGIN
                IF to_regclass('\(q).\(partition)') IS NULL THEN
                    CREATE TABLE \(q).\(partition) (LIKE \(q).\(table) INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE);
                    ALTER TABLE \(q).\(table) ATTACH PARTITION \(q).\(partition)
                        FOR VALUES FROM ('\(PartitionMap.bound(day: day))') TO ('\(PartitionMap.bound(day: day + 1))');
                END IF;
            END
            $firefly$
            """
    }

    func dropPartition(_ partition: String) -> String { "DROP TABLE IF EXISTS \(q).\(partition)" }

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
        "INSERT INTO \(q).firefly_schema_migrations (version, name) VALUES (\(version), '\(name.replacing("'", with: "''"))')"
    }
    /// Serialises migrations of this schema across collectors; released at COMMIT.
    var lock: String { "SELECT pg_advisory_xact_lock(1179015513, hashtext('\(name)'))" }

    // MARK: TimescaleDB

    /// Every time-partitioned table and its time column: hypertables under TimescaleDB, and the
    /// tables `retention` applies to.
    static let timeTables: [(table: String, column: String)] = [
        ("points", "time"), ("spans", "start_time"), ("logs", "time"), ("invocations", "start_time"),
    ]

    /// Hypertables and their retention policies. A table already partitioned by PostgreSQL itself (a
    /// schema migrated on plain PostgreSQL before TimescaleDB was installed) cannot become a
    /// hypertable: each statement applies to ordinary tables only (`relkind = 'r'`; a hypertable is
    /// one) and the exporter manages the partitions of the others.
    func timescaleSetup(retentionSeconds: Int64?) -> [String] {
        func onlyIfOrdinary(_ table: String) -> String {
            "FROM pg_class WHERE oid = '\(q).\(table)'::regclass AND relkind = 'r'"
        }
        var sql = Self.timeTables.map {
            "SELECT create_hypertable('\(q).\($0.table)', '\($0.column)', if_not_exists => TRUE, migrate_data => TRUE) "
                + onlyIfOrdinary($0.table)
        }
        for (table, _) in Self.timeTables {
            sql.append("SELECT remove_retention_policy('\(q).\(table)', if_exists => TRUE) " + onlyIfOrdinary(table))
            if let retentionSeconds {
                sql.append(
                    "SELECT add_retention_policy('\(q).\(table)', INTERVAL '\(retentionSeconds) seconds', if_not_exists => TRUE) "
                        + onlyIfOrdinary(table))
            }
        }
        return sql
    }

    // MARK: Writes

    /// A table that batches are written to. Rows are copied straight into the table (binary COPY)
    /// inside a savepoint; when that hits a row already there (a replay), the savepoint is rolled back
    /// and the rows go through a staging table with the same columns (per connection, in `pg_temp`,
    /// emptied at commit) and `INSERT … ON CONFLICT DO NOTHING`, which skips them.
    struct CopyTarget: Sendable {
        /// Every column, in the order the row encoder writes them.
        var columns: [String]
        /// The staging table's name in `pg_temp`.
        var stage: String
        var copyIntoTable: String
        var createStage: String
        var copyIntoStage: String
        var insertFromStage: String
        /// The staging table is emptied at commit, and after use in case the transaction uses it again.
        var emptyStage: String
    }

    var pointsTarget: CopyTarget { target("points", Self.pointColumns) }
    var spansTarget: CopyTarget { target("spans", Self.spanColumns) }
    var logsTarget: CopyTarget { target("logs", Self.logColumns) }
    var invocationsTarget: CopyTarget { target("invocations", Self.invocationColumns) }

    static let pointColumns = [
        "series_id", "time", "start_time", "time_unix_nano", "start_time_unix_nano", "value", "count", "sum", "min",
        "max", "quantiles", "quantile_values", "bounds", "bucket_counts",
    ]

    static let spanColumns = [
        "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind", "status_code", "status_message",
        "start_time", "end_time", "start_time_unix_nano", "end_time_unix_nano", "duration_ms", "function", "service",
        "scope_name", "scope_version", "cold_start", "attributes", "resource_attributes", "events", "links",
    ]

    static let logColumns = [
        "time", "time_unix_nano", "observed_time", "observed_time_unix_nano", "severity_number", "severity_text",
        "body", "body_json", "attributes", "resource_attributes", "trace_id", "span_id", "trace_flags", "function",
        "service", "scope_name", "scope_version", "request_id", "record_id",
    ]

    static let invocationColumns = [
        "function", "version", "request_id", "start_time", "start_time_unix_nano", "duration_ms", "billed_duration_ms",
        "memory_size_mb", "max_memory_used_mb", "init_duration_ms", "cold_start", "status", "error_type", "trace_id",
        "attributes",
    ]

    private func target(_ table: String, _ columns: [String]) -> CopyTarget {
        let stage = "firefly_stage_\(table)"
        let list = columns.joined(separator: ", ")
        return CopyTarget(
            columns: columns, stage: stage,
            copyIntoTable: "COPY \(q).\(table) (\(list)) FROM STDIN (FORMAT binary)",
            createStage: "CREATE TEMP TABLE IF NOT EXISTS \(stage) (LIKE \(q).\(table)) ON COMMIT DELETE ROWS",
            copyIntoStage: "COPY pg_temp.\(stage) (\(list)) FROM STDIN (FORMAT binary)",
            insertFromStage: """
                WITH inserted AS (
                    INSERT INTO \(q).\(table) (\(list))
                    SELECT \(list) FROM pg_temp.\(stage)
                    ON CONFLICT DO NOTHING
                    RETURNING 1
                )
                SELECT count(*) FROM inserted
                """,
            emptyStage: "DELETE FROM pg_temp.\(stage)")
    }

    /// New series: copied into a staging table (binary COPY, in `SeriesRow` order), inserted sorted by
    /// key (so concurrent writers do not deadlock on the unique index), then their ids read back.
    static let seriesStageColumns = [
        "k", "name", "namespace", "unit", "function", "kind", "is_monotonic", "is_delta", "labels",
    ]
    var createSeriesStage: String {
        """
        CREATE TEMP TABLE IF NOT EXISTS firefly_stage_series (
            k text NOT NULL, name text NOT NULL, namespace text NOT NULL, unit text NOT NULL, function text NOT NULL,
            kind text NOT NULL, is_monotonic boolean NOT NULL, is_delta boolean NOT NULL, labels jsonb NOT NULL
        ) ON COMMIT DELETE ROWS
        """
    }
    var copySeriesStage: String { "COPY pg_temp.firefly_stage_series FROM STDIN (FORMAT binary)" }
    var emptySeriesStage: String { "DELETE FROM pg_temp.firefly_stage_series" }

    var insertSeries: String {
        """
        INSERT INTO \(q).series (key_hash, name, namespace, unit, function, kind, is_monotonic, is_delta, labels)
        SELECT sha256(convert_to(k, 'UTF8')), name, namespace, unit, function, kind, is_monotonic, is_delta, labels
        FROM pg_temp.firefly_stage_series
        ORDER BY k
        ON CONFLICT (key_hash) DO NOTHING
        """
    }

    var selectSeriesIDs: String {
        """
        SELECT t.k, s.id FROM pg_temp.firefly_stage_series t
        JOIN \(q).series s ON s.key_hash = sha256(convert_to(t.k, 'UTF8'))
        """
    }

    /// Rows older than `cutoff` (seconds since the Unix epoch) deleted from `relation`, a table or one partition.
    func deleteOlder(_ relation: String, column: String, than cutoff: Int64) -> String {
        "DELETE FROM \(q).\(relation) WHERE \(column) < to_timestamp(\(cutoff))"
    }
}
