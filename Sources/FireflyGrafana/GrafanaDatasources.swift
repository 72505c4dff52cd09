// Which datasources Firefly provisions, derived from the exporters configured in firefly.yaml.
public import FireflyCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyWire

/// A problem that stops generation (no usable exporter, an unreadable URL).
public struct GrafanaError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The PostgreSQL datasource: connection facts taken from the `postgres` exporter's `url`.
/// The password is never copied: Grafana reads it from its own environment.
public struct PostgresDatasource: Sendable, Hashable {
    public static let uid = "firefly-postgres"
    public static let type = "grafana-postgresql-datasource"
    /// The variable Grafana's environment must hold when the exporter's URL carries a password.
    public static let passwordVariable = "FIREFLY_POSTGRES_PASSWORD"

    public var host: String
    public var port: Int
    public var database: String
    public var user: String
    public var sslmode: String
    public var hasPassword: Bool
    /// The exporter's `schema` key: where its tables are.
    public var schema: String = Self.defaultSchema

    public static let defaultSchema = "firefly"

    public init(host: String, port: Int, database: String, user: String, sslmode: String, hasPassword: Bool) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.sslmode = sslmode
        self.hasPassword = hasPassword
    }

    /// Reads `postgres://user[:password]@host[:port]/database[?sslmode=…]`.
    public init(url: String) throws(GrafanaError) {
        guard let c = URLComponents(string: url), let scheme = c.scheme, scheme == "postgres" || scheme == "postgresql",
            let host = c.host, !host.isEmpty
        else {
            throw GrafanaError("the postgres exporter's url is not a postgres:// URL with a host")
        }
        self.host = host
        self.port = c.port ?? 5432
        let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        self.database = path.isEmpty ? (c.user ?? "postgres") : path
        self.user = c.user ?? "postgres"
        self.sslmode = c.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        self.hasPassword = !(c.password ?? "").isEmpty
    }
}

/// The Prometheus datasource, queried where the `remote-write` exporter writes.
public struct PrometheusDatasource: Sendable, Hashable {
    public static let uid = "firefly-prometheus"
    public static let type = "prometheus"

    /// Base URL of the query API.
    public var url: String

    public init(url: String) { self.url = url }

    /// The query URL for a remote-write URL: Prometheus and VictoriaMetrics answer queries at the
    /// root (`…/api/v1/write` → `…`); Mimir and Cortex under `/prometheus` (`…/api/v1/push`).
    public init(remoteWriteURL: String) throws(GrafanaError) {
        guard var c = URLComponents(string: remoteWriteURL), c.scheme != nil, c.host != nil else {
            throw GrafanaError("the remote-write exporter's url is not an http(s) URL")
        }
        c.query = nil
        c.user = nil
        c.password = nil
        var path = c.path
        if path.hasSuffix("/api/v1/push") {
            path = String(path.dropLast("/api/v1/push".count)) + "/prometheus"
        } else if path.hasSuffix("/api/v1/write") {
            path = String(path.dropLast("/api/v1/write".count))
        }
        c.path = path
        self.url = c.string ?? remoteWriteURL
    }
}

/// Where the dashboards read from. PostgreSQL when the postgres exporter is configured (it holds
/// metrics and traces), else Prometheus (metric panels only).
public enum DashboardBackend: String, Sendable, Hashable {
    case postgres, prometheus
}

/// The datasources for a configuration.
public struct GrafanaDatasources: Sendable, Hashable {
    public var postgres: PostgresDatasource?
    public var prometheus: PrometheusDatasource?

    public init(postgres: PostgresDatasource?, prometheus: PrometheusDatasource?) {
        self.postgres = postgres
        self.prometheus = prometheus
    }

    /// From the first `postgres` and the first `remote-write` exporter instance.
    public init(config: FireflyConfig) throws(GrafanaError) {
        var postgres: PostgresDatasource?
        var prometheus: PrometheusDatasource?
        for exporter in config.exporters {
            switch exporter.plugin {
            case "postgres" where postgres == nil:
                var datasource = try PostgresDatasource(url: Self.url(exporter))
                if let schema = Self.setting(exporter, "schema"), !schema.isEmpty { datasource.schema = schema }
                postgres = datasource
            case "remote-write" where prometheus == nil:
                prometheus = try PrometheusDatasource(remoteWriteURL: Self.url(exporter))
            default: break
            }
        }
        if postgres == nil && prometheus == nil {
            throw GrafanaError(
                "\(config.file) configures neither a postgres nor a remote-write exporter; the dashboards need one of them")
        }
        self.init(postgres: postgres, prometheus: prometheus)
    }

    public var backend: DashboardBackend { postgres != nil ? .postgres : .prometheus }

    /// The uids a dashboard may reference.
    public var uids: [String] {
        (postgres != nil ? [PostgresDatasource.uid] : []) + (prometheus != nil ? [PrometheusDatasource.uid] : [])
    }

    /// The exporter's setting `key` when it is a string.
    private static func setting(_ exporter: InstanceConfig, _ key: String) -> String? {
        guard case .string(let value)? = (try? JSON.parse(Array(exporter.settingsJSON.utf8)))?[key] else { return nil }
        return value
    }

    private static func url(_ exporter: InstanceConfig) throws(GrafanaError) -> String {
        guard let url = setting(exporter, "url"), !url.isEmpty else {
            throw GrafanaError("exporters.\(exporter.name).url is missing")
        }
        return url
    }

    /// `provisioning/datasources/firefly.yaml`.
    public var provisioningYAML: String {
        var y = YAMLText()
        y.comment("Generated by `firefly grafana generate`; do not edit, regenerate. Secrets come from Grafana's environment.")
        y.line("apiVersion: 1")
        y.line("prune: true")
        y.line("datasources:")
        if let pg = postgres {
            y.item(0, "name", "Firefly PostgreSQL")
            y.field(1, "type", PostgresDatasource.type)
            y.field(1, "uid", PostgresDatasource.uid)
            y.field(1, "access", "proxy")
            y.field(1, "url", "\(pg.host):\(pg.port)")
            y.field(1, "user", pg.user)
            y.raw(1, "isDefault: true")
            y.raw(1, "editable: false")
            y.raw(1, "jsonData:")
            y.field(2, "database", pg.database)
            y.field(2, "sslmode", pg.sslmode)
            y.raw(2, "postgresVersion: 1400")
            y.raw(2, "timescaledb: false")
            y.raw(2, "maxOpenConns: 10")
            y.raw(2, "maxIdleConnsAuto: true")
            y.raw(2, "connMaxLifetime: 14400")
            y.field(2, "timeInterval", "1m")
            if pg.hasPassword {
                y.raw(1, "secureJsonData:")
                y.field(2, "password", "$" + PostgresDatasource.passwordVariable)
            }
        }
        if let prom = prometheus {
            y.item(0, "name", "Firefly Prometheus")
            y.field(1, "type", PrometheusDatasource.type)
            y.field(1, "uid", PrometheusDatasource.uid)
            y.field(1, "access", "proxy")
            y.field(1, "url", prom.url)
            y.raw(1, "isDefault: \(postgres == nil)")
            y.raw(1, "editable: false")
            y.raw(1, "jsonData:")
            y.field(2, "httpMethod", "POST")
            y.field(2, "timeInterval", "1m")
            y.field(2, "prometheusType", "Prometheus")
        }
        return y.text
    }
}

/// The dashboard provider: Grafana loads every JSON file in `dashboardsPath`.
public func dashboardProviderYAML(dashboardsPath: String) -> String {
    var y = YAMLText()
    y.comment("Generated by `firefly grafana generate`; do not edit, regenerate.")
    y.line("apiVersion: 1")
    y.line("providers:")
    y.item(0, "name", "firefly")
    y.raw(1, "orgId: 1")
    y.field(1, "folder", "Firefly")
    y.field(1, "folderUid", "firefly")
    y.field(1, "type", "file")
    y.raw(1, "disableDeletion: false")
    y.raw(1, "updateIntervalSeconds: 30")
    y.raw(1, "allowUiUpdates: false")
    y.raw(1, "options:")
    y.field(2, "path", dashboardsPath)
    y.raw(2, "foldersFromFilesStructure: false")
    return y.text
}

/// Just enough YAML writing for provisioning files: every string is double-quoted (JSON escaping
/// is valid YAML), so no value can change the document's structure.
struct YAMLText {
    private(set) var text = ""

    mutating func comment(_ s: String) { text += "# \(s)\n" }
    mutating func line(_ s: String) { text += s + "\n" }
    /// A list item at `level` starting with `key: value`.
    mutating func item(_ level: Int, _ key: String, _ value: String) {
        text += String(repeating: "  ", count: level * 2) + "  - \(key): \(Self.quoted(value))\n"
    }
    mutating func field(_ level: Int, _ key: String, _ value: String) {
        raw(level, "\(key): \(Self.quoted(value))")
    }
    /// `level` 1 is a list item's own keys, 2 their children.
    mutating func raw(_ level: Int, _ s: String) {
        text += String(repeating: " ", count: 2 + 2 * level) + s + "\n"
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        GrafanaJSON.quote(s, into: &out)
        return out
    }
}
