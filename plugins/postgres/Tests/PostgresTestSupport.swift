// Test helpers: the PostgreSQL from FIREFLY_TEST_POSTGRES_URL, read back with psql, one schema per test.
import FireflyModel
import FireflyPluginKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PostgresExporter
import Testing

enum TestDatabase {
    static var url: String? { ProcessInfo.processInfo.environment["FIREFLY_TEST_POSTGRES_URL"] }
    static var isConfigured: Bool { url != nil }
    static let skipReason: Comment =
        "FIREFLY_TEST_POSTGRES_URL is unset: run `bash scripts/postgres.sh start` and export FIREFLY_TEST_POSTGRES_URL=$(bash scripts/postgres.sh url) (make test does both)"

    /// The repository root, found from this file's path (plugins/postgres/Tests/…).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func newSchemaName() -> String {
        "test_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    static func exporter(schema: String, url: String? = nil, extra: [String: JSONValue] = [:]) throws -> PostgresExporter {
        var config: [String: JSONValue] = ["url": .string(url ?? self.url!), "schema": .string(schema)]
        config.merge(extra) { _, new in new }
        return try PostgresExporter(context: .standalone(instanceName: "postgres"), config: PluginConfig(config))
    }

    /// Runs `body` with a fresh schema name and an exporter writing to it; drops the schema afterwards.
    static func withExporter(
        extra: [String: JSONValue] = [:], _ body: (PostgresExporter, String) async throws -> Void
    ) async throws {
        let schema = newSchemaName()
        let exporter = try exporter(schema: schema, extra: extra)
        do {
            try await body(exporter, schema)
        } catch {
            await exporter.shutdown()
            _ = try? await psql("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
        await exporter.shutdown()
        _ = try await psql("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    struct PsqlFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs SQL with psql (UTC session) and returns its unaligned output lines. psql runs on a
    /// thread of its own: a test waiting for it must not hold one of Swift concurrency's few shared
    /// threads, which the exporters under test need to finish what PostgreSQL may be waiting for
    /// (a DROP SCHEMA waits for their transactions).
    @discardableResult
    static func psql(_ sql: String, url: String? = nil) async throws -> [String] {
        let target = url ?? self.url!
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let result = try Command.run(
                        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", target, "-c", sql],
                        environment: ["PGTZ": "UTC"])
                    guard result.status == 0 else { throw PsqlFailure(description: "psql failed: \(result.errors)") }
                    return result.output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
                })
            }.start()
        }
    }

    /// Each row of `SELECT json_build_array(<columns>::text…)::text FROM <rest>`, decoded: exact text
    /// of every column, nil for NULL, whatever the values contain.
    static func rows(_ columns: [String], _ rest: String) async throws -> [[String?]] {
        let list = columns.map { "(\($0))::text" }.joined(separator: ", ")
        return try await psql("SELECT json_build_array(\(list))::text \(rest)").map {
            try JSONDecoder().decode([String?].self, from: Data($0.utf8))
        }
    }

    /// Creates `schema` as a collector of an earlier release left it: its migrations up to `version` (on
    /// plain PostgreSQL), recorded as applied, no rows.
    static func createSchema(_ schema: String, atVersion version: Int) async throws {
        let sql = Schema(name: schema)
        var statements = [sql.createSchema, sql.createMigrationsTable]
        for migration in sql.migrations(timescale: false) where migration.version <= version {
            statements += migration.sql + [sql.recordMigration(migration.version, migration.name)]
        }
        try await psql(statements.joined(separator: ";\n"))
    }

    /// Copies every row of `tables` (series keep their ids) from one schema into another with the same columns.
    static func copyRows(from source: String, to target: String, tables: [String]) async throws {
        let sql = tables.map { table in
            "INSERT INTO \(target).\(table) \(table == "series" ? "OVERRIDING SYSTEM VALUE " : "")SELECT * FROM \(source).\(table)"
        }
        try await psql(sql.joined(separator: ";\n"))
    }

    /// An order-independent digest of every row of a table (or partition), to compare contents.
    static func digest(_ table: String, schema: String) async throws -> String {
        try await psql("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \(schema).\(table) t")
            .first ?? ""
    }

    static func count(_ table: String, schema: String) async throws -> Int {
        Int(try await psql("SELECT count(*) FROM \(schema).\(table)").first ?? "") ?? -1
    }
}

/// Runs scripts/postgres.sh against its own data directory and port (the restart test's cluster).
struct ScriptCluster {
    let directory: String
    let port: Int
    var url: String { "postgres://firefly@127.0.0.1:\(port)/firefly" }

    /// Stops the cluster and deletes its directory and lock file.
    func remove() {
        try? run("stop")
        let url = URL(fileURLWithPath: directory)
        try? FileManager.default.removeItem(at: url)
        try? FileManager.default.removeItem(
            at: url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).lock"))
    }

    func run(_ command: String) throws {
        let script = TestDatabase.repositoryRoot.appendingPathComponent("scripts/postgres.sh").path
        let result = try Command.run(
            ["bash", script, command], environment: ["FIREFLY_PG_DIR": directory, "FIREFLY_PG_PORT": String(port)])
        guard result.status == 0 else {
            throw TestDatabase.PsqlFailure(description: "postgres.sh \(command) failed: \(result.output)\(result.errors)")
        }
    }
}

/// Runs a program found on PATH and waits for it, with output captured in temporary files.
/// posix_spawn + waitpid rather than Foundation's Process, whose waitUntilExit was seen to miss the
/// exit of a script that starts a daemon (postgres.sh start) and hang.
enum Command {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    static func run(_ arguments: [String], environment extra: [String: String]) throws -> Result {
        let directory = NSTemporaryDirectory() + "firefly-cmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outPath = directory + "/out"
        let errPath = directory + "/err"
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp)
        guard spawned == 0 else { throw TestDatabase.PsqlFailure(description: "cannot run \(arguments[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7F == 0
        return Result(status: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output: output, errors: errors)
    }
}

/// A TCP port nothing listens on right now: the kernel's pick for a socket bound to 127.0.0.1:0.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestDatabase.PsqlFailure(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestDatabase.PsqlFailure(description: "bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
