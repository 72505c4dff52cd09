// Which failures are retried and which are final, and what their messages say (never a password).
import FireflyModel
import FireflyPluginKit
@testable import PostgresExporter
import Testing

@Suite struct PostgresFailureTests {
    @Test func serverStatesAreClassified() {
        let retryable = ["57P01", "57P02", "57P03", "08006", "08001", "53100", "40P01", "40001", "28P01", "3D000", "42P01", "55P03", "XX000"]
        let permanent = ["22021", "22P05", "22003", "23502", "23514", "54000", "42601", "42703"]
        for state in retryable { #expect(PostgresFailure.kind(ofSQLState: state).0 == .retryable, "\(state)") }
        for state in permanent { #expect(PostgresFailure.kind(ofSQLState: state).0 == .permanent, "\(state)") }
        #expect(PostgresFailure.kind(ofSQLState: "57P01").resetsConnection)
        #expect(PostgresFailure.kind(ofSQLState: "08006").resetsConnection)
        #expect(!PostgresFailure.kind(ofSQLState: "40P01").resetsConnection)
    }

    @Test func aRefusedConnectionIsRetryableAndNamesTheServerWithoutItsPassword() async throws {
        // Port 1 on loopback: nothing listens, the kernel refuses at once.
        let exporter = try PostgresExporter(
            context: .standalone(instanceName: "postgres"),
            config: PluginConfig([
                "url": .string("postgres://firefly:hunter2@127.0.0.1:1/firefly"), "connect_timeout": .string("500ms"),
                "tls": .string("disable"),
            ]))
        let result = await exporter.export(TelemetryBatch(points: [MetricPoint(name: "m", kind: .gauge, timeUnixNano: 1)]))
        await exporter.shutdown()
        guard case .retryable(_, let message) = result else {
            Issue.record("expected .retryable, got \(result)")
            return
        }
        #expect(message.hasPrefix("no connection to postgres://firefly:***@127.0.0.1:1/firefly within connect_timeout: cannot connect"))
        #expect(message.lowercased().contains("refused"))
        #expect(!message.contains("hunter2"))
    }

    @Test func longServerMessagesAreShortened() {
        let text = String(repeating: "x", count: 5000)
        let limited = PostgresFailure.limit(text)
        #expect(limited == String(repeating: "x", count: 2000) + "… (3000 more characters)")
    }
}
