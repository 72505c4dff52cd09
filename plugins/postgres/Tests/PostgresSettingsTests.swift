// Configuration of the postgres exporter: defaults, every problem at once, URLs, and no secrets in text.
import FireflyModel
import FireflyPluginKit
import PostgresExporter
import Testing

@Suite struct PostgresSettingsTests {
    @Test func defaultsNeedOnlyTheURL() throws {
        let settings = try PostgresSettings(PluginConfig(["url": .string("postgres://firefly@127.0.0.1:54329/firefly")]))
        #expect(settings.url.host == "127.0.0.1")
        #expect(settings.url.port == 54329)
        #expect(settings.url.user == "firefly")
        #expect(settings.url.password == nil)
        #expect(settings.url.database == "firefly")
        #expect(settings.poolSize == 4)
        #expect(settings.tls == .prefer)
        #expect(settings.schema == "firefly")
        #expect(settings.retention == nil)
        #expect(settings.connectTimeout == .seconds(10))
        #expect(settings.partitionsAhead == 7)
    }

    @Test func readsEveryKey() throws {
        let settings = try PostgresSettings(
            PluginConfig([
                "url": .string("postgresql://writer:p%40ss@db.example.com/metrics"), "pool_size": .number(8),
                "tls": .string("verify-full"), "schema": .string("obs_2"), "retention": .string("30d"),
                "connect_timeout": .string("2500ms"), "partitions_ahead": .number(0),
            ]))
        #expect(settings.url.password == "p@ss")
        #expect(settings.url.port == 5432)
        #expect(settings.url.database == "metrics")
        #expect(settings.poolSize == 8)
        #expect(settings.tls == .verifyFull)
        #expect(settings.schema == "obs_2")
        #expect(settings.retention == .seconds(30 * 86_400))
        #expect(settings.connectTimeout == .milliseconds(2500))
        #expect(settings.partitionsAhead == 0)
    }

    @Test func sslmodeInTheURLSetsTLSAndUnixSocketsWork() throws {
        let tcp = try PostgresSettings(PluginConfig(["url": .string("postgres://u@h:6000/d?sslmode=require")]))
        #expect(tcp.tls == .require)
        let socket = try PostgresSettings(PluginConfig(["url": .string("postgres://u@/d?host=/var/run/postgresql")]))
        #expect(socket.url.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432")
        #expect(socket.url.redacted == "postgres://u@:5432/d?host=/var/run/postgresql")
    }

    @Test func reportsEveryProblemAtOnce() {
        #expect(
            throws: PluginConfigError(problems: [
                "pool_size: must be between 1 and 100, not 0",
                "tls: must be one of disable, prefer, require, verify-full, not 'allow'",
                "partitions_ahead: must be between 0 and 366, not 400",
                "retention: expected none or a duration of at least 1h, such as 30d or 12h",
                "schema: must be a lower-case SQL identifier (letters, digits, _; at most 63 bytes), not 'Bad-Name'",
                "url: is required, e.g. postgres://firefly@127.0.0.1:54329/firefly",
                "shema: unknown key 'shema' (did you mean 'schema'?)",
            ])
        ) {
            try PostgresSettings(
                PluginConfig([
                    "pool_size": .number(0), "tls": .string("allow"), "retention": .string("5m"), "partitions_ahead": .number(400),
                    "schema": .string("Bad-Name"), "shema": .string("x"),
                ]))
        }
    }

    @Test func badURLsAreExplainedWithoutThePassword() {
        for (url, problem) in [
            ("mysql://u:hunter2@h/d", "url: expected postgres://user[:password]@host[:port]/database"),
            ("postgres://h/d", "url: names no user (postgres://USER@host/database)"),
            ("postgres://u:hunter2@h/d?sslmode=allow", "url: sslmode must be one of disable, prefer, require, verify-full"),
            ("postgres://u:hunter2@h/d?application_name=x", "url: unknown URL parameter 'application_name' (known: sslmode, host)"),
        ] {
            #expect(throws: PluginConfigError(problems: [problem])) {
                try PostgresSettings(PluginConfig(["url": .string(url)]))
            }
        }
        #expect(throws: PluginConfigError(problems: ["tls: is 'disable' but the url says sslmode=require; keep one"])) {
            try PostgresSettings(PluginConfig(["url": .string("postgres://u@h/d?sslmode=require"), "tls": .string("disable")]))
        }
    }

    @Test func theRedactedURLHidesThePassword() throws {
        let settings = try PostgresSettings(PluginConfig(["url": .string("postgres://firefly:s3cr%3At@10.1.2.3:5433/firefly")]))
        #expect(settings.url.password == "s3cr:t")
        #expect(settings.url.redacted == "postgres://firefly:***@10.1.2.3:5433/firefly")
        #expect("\(settings.url)" == settings.url.redacted)
    }

    @Test func creatingAnInstanceDoesNoIO() throws {
        // Nothing listens on port 1: init must not notice (firefly check creates instances too).
        let exporter = try PostgresExporter(
            context: .standalone(instanceName: "postgres"), config: PluginConfig(["url": .string("postgres://u@127.0.0.1:1/d")]))
        #expect(exporter.settings.url.port == 1)
    }
}
