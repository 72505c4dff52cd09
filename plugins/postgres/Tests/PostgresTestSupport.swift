// Test helpers: the PostgreSQL from FIREFLY_TEST_POSTGRES_URL, read back with psql, one schema per test.
import FireflyModel
import FireflyPluginKit
import Foundation
import PostgresExporter
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
        var config: [String: JSONValue] = ["url": .string(url ?? self.url!), "schema": .string(schema), "tls": .string("disable")]
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
            _ = try? psql("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
        await exporter.shutdown()
        _ = try psql("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    struct PsqlFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs SQL with psql (UTC session) and returns its unaligned output lines.
    @discardableResult
    static func psql(_ sql: String, url: String? = nil) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url ?? self.url!, "-f", "-"]
        var environment = ProcessInfo.processInfo.environment
        environment["PGTZ"] = "UTC"
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(sql.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PsqlFailure(description: "psql failed: \(String(decoding: err, as: UTF8.self))")
        }
        let text = String(decoding: out, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Each row of `SELECT json_build_array(<columns>::text…)::text FROM <rest>`, decoded: exact text
    /// of every column, nil for NULL, whatever the values contain.
    static func rows(_ columns: [String], _ rest: String) throws -> [[String?]] {
        let list = columns.map { "(\($0))::text" }.joined(separator: ", ")
        return try psql("SELECT json_build_array(\(list))::text \(rest)").map {
            try JSONDecoder().decode([String?].self, from: Data($0.utf8))
        }
    }

    static func count(_ table: String, schema: String) throws -> Int {
        Int(try psql("SELECT count(*) FROM \(schema).\(table)").first ?? "") ?? -1
    }
}

/// Runs scripts/postgres.sh against its own data directory and port (the restart test's cluster).
struct ScriptCluster {
    let directory: String
    let port: Int
    var url: String { "postgres://firefly@127.0.0.1:\(port)/firefly" }

    func run(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [TestDatabase.repositoryRoot.appendingPathComponent("scripts/postgres.sh").path, command]
        var environment = ProcessInfo.processInfo.environment
        environment["FIREFLY_PG_DIR"] = directory
        environment["FIREFLY_PG_PORT"] = String(port)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestDatabase.PsqlFailure(
                description: "postgres.sh \(command) failed: \(String(decoding: text, as: UTF8.self))")
        }
    }
}
