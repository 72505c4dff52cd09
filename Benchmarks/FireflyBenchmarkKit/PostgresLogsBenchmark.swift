// `make bench`: how fast the exporter writes log records, beside psql \copy of the very rows it wrote.
package import FireflyModel
import FireflyPluginKit
import Foundation
import PostgresExporter

/// Writes synthetic Lambda log records through `PostgresExporter.export` into a throw-away schema, then
/// copies the rows it stored out and into an identical table with `psql \copy` (binary), the baseline
/// the points and spans figures are set against; the schema is dropped afterwards.
public enum PostgresLogsBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        /// Rows in the logs table after the export (what was measured).
        public var logs: Int
        public var logsPerSecond: Double
        /// The same rows through `psql \copy … FROM … (FORMAT binary)` into a table with the same indexes.
        public var copyPerSecond: Double

        /// Export rate over copy rate.
        public var ratio: Double { logsPerSecond / copyPerSecond }

        public var description: String {
            "postgres exporter: \(logs) log records at \(Int(logsPerSecond)) logs/s; "
                + "psql \\copy (binary) of the same rows \(Int(copyPerSecond)) rows/s (ratio \((ratio * 100).rounded() / 100))"
        }
    }


    /// - Parameters:
    ///   - url: a `postgres://` URL (its user must be allowed to create schemas).
    ///   - psql: the psql program (a path, or a name looked up on PATH).
    ///   - workDirectory: where the copied rows are staged in a file (deleted afterwards).
    ///   - logs: log records to write, in batches of `batchSize`: half CloudWatch-style (with an
    ///     event id), half OTLP-style (no id, so the exporter derives a content key).
    public static func run(
        url: String, psql: String, workDirectory: String, logs: Int = 20_000, batchSize: Int = 5000
    ) async throws -> Result {
        let schema = "bench_logs_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let exporter = try PostgresExporter(
            context: .standalone(instanceName: "postgres-bench"),
            config: PluginConfig(["url": .string(url), "schema": .string(schema)]))
        let file = workDirectory + "/\(schema).copy"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let base: UInt64 = 1_700_000_000_000_000_000
        do {
            // Warm-up: the migrations run on the first export. Not measured; before `base`.
            try PostgresBench.check(await exporter.export(TelemetryBatch(logs: makeLogs(10, offset: 0, base: base - 3_600_000_000_000))))
            let records = makeLogs(logs, offset: 0, base: base)
            let clock = ContinuousClock()
            var exportTime = Duration.zero
            for start in stride(from: 0, to: records.count, by: batchSize) {
                let batch = TelemetryBatch(logs: Array(records[start..<min(start + batchSize, records.count)]))
                let began = clock.now
                try PostgresBench.check(await exporter.export(batch))
                exportTime += clock.now - began
            }
            await exporter.shutdown()
            try await PostgresBench.psql(psql, url, "DELETE FROM \(schema).logs WHERE time_unix_nano < \(base)")
            let stored = Int(try await PostgresBench.psql(psql, url, "SELECT count(*) FROM \(schema).logs")) ?? -1
            guard stored == logs else { throw PostgresBench.Failure(description: "the exporter stored \(stored) of \(logs) log records") }
            try await PostgresBench.psql(psql, url, "\\copy (SELECT * FROM \(schema).logs) TO '\(file)' (FORMAT binary)")
            try await PostgresBench.psql(psql, url, "CREATE TABLE \(schema).logs_copy (LIKE \(schema).logs INCLUDING ALL)")
            let began = clock.now
            try await PostgresBench.psql(psql, url, "\\copy \(schema).logs_copy FROM '\(file)' (FORMAT binary)")
            let copyTime = clock.now - began
            try await PostgresBench.psql(psql, url, "DROP SCHEMA \(schema) CASCADE")
            return Result(
                logs: stored, logsPerSecond: Double(stored) / PostgresBench.seconds(exportTime),
                copyPerSecond: Double(stored) / PostgresBench.seconds(copyTime))
        } catch {
            await exporter.shutdown()
            _ = try? await PostgresBench.psql(psql, url, "DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
    }

    /// Lambda-like records: per invocation START, four application lines (every tenth an ERROR with a
    /// multi-line stack trace), END and REPORT, with request ids, trace ids on half the invocations,
    /// and the attributes the CloudWatch Logs and OTLP receivers set.
    package static func makeLogs(_ n: Int, offset: Int, base: UInt64) -> [LogRecord] {
        (0..<n).map { j in
            let i = offset + j
            let invocation = i / 7
            let line = i % 7
            let function = "function-\(invocation % 100)"
            let requestID = "8f5a1c2e-\(String(invocation, radix: 16))-4b1d-9e3f-5d6c7b8a9f0e"
            let time = base + UInt64(i) * 1_000_000
            let traced = invocation % 2 == 0
            let cloudWatch = invocation % 4 < 2
            var severity: UInt8 = 9
            var text = "INFO"
            let body: String
            switch line {
            case 0: body = "START RequestId: \(requestID) Version: $LATEST"
            case 5: body = "END RequestId: \(requestID)"
            case 6:
                body = "REPORT RequestId: \(requestID)\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB"
            default:
                if invocation % 10 == 0 && line == 4 {
                    severity = 17
                    text = "ERROR"
                    body = "TypeError: Cannot read properties of undefined (reading 'id')\n    at handler (/var/task/index.js:12:20)\n    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"
                } else {
                    body = "processed order \(i) for customer \(i % 977) in \(i % 50) ms"
                }
            }
            return LogRecord(
                timeUnixNano: time, observedTimeUnixNano: time + 500_000_000, severityNumber: severity, severityText: text,
                body: .string(body),
                attributes: [
                    Attribute("faas.invocation_id", .string(requestID)), Attribute("aws.log.stream.names", .string("2026/12/03/[$LATEST]0123456789abcdef")),
                ],
                resourceAttributes: [
                    Attribute("faas.name", .string(function)), Attribute("cloud.region", .string("eu-west-1")),
                    Attribute("cloud.account.id", .string("123456789012")),
                    Attribute("aws.log.group.names", .string("/aws/lambda/\(function)")),
                ],
                traceID: traced ? TraceID(high: 0x5759_e988_bd86_2e3f, low: UInt64(invocation + 1)) : .zero,
                spanID: traced && line > 0 && line < 5 ? SpanID(UInt64(invocation + 1)) : .zero, traceFlags: traced ? 1 : 0,
                function: function, service: function,
                recordID: cloudWatch ? cloudWatchEventID(i) : "")
        }
    }

    /// A 56-digit id shaped like CloudWatch Logs' event ids.
    static func cloudWatchEventID(_ i: Int) -> String {
        let digits = String(i)
        return "3" + String(repeating: "0", count: 55 - digits.count) + digits
    }
}
