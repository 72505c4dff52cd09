// `firefly grafana generate`: provisioning files and dashboards for a configuration.
public import FireflyCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Generates Grafana provisioning for a Firefly configuration:
///
/// ```
/// provisioning/datasources/firefly.yaml   PostgreSQL (postgres exporter), Prometheus (remote-write exporter)
/// provisioning/dashboards/firefly.yaml    file provider reading `dashboardsPath`
/// provisioning/alerting/firefly.json      alert rules (AlertRules) for the data sources above
/// dashboards/firefly-overview.json        Firefly Overview
/// dashboards/firefly-function.json        Firefly Function
/// ```
///
/// Output is a pure function of the configuration (no timestamps, fixed uids, ordered keys), so the
/// committed `grafana/` folder can be compared byte for byte with a fresh run.
public struct GrafanaGenerator: Sendable {
    /// A file to write, relative to the output directory.
    public struct File: Sendable, Hashable {
        public var path: String
        public var contents: String
    }

    /// Where Grafana finds the dashboard files (the docker compose file mounts them there).
    public static let defaultDashboardsPath = "/var/lib/grafana/dashboards"

    public var datasources: GrafanaDatasources
    public var dashboardsPath: String
    /// The alert rules' thresholds (`alerts:` in firefly.yaml).
    public var alerts = AlertsConfig()
    /// The cost panels' prices (`pricing:` in firefly.yaml).
    public var pricing = PricingConfig()

    public init(datasources: GrafanaDatasources, dashboardsPath: String = Self.defaultDashboardsPath) {
        self.datasources = datasources
        self.dashboardsPath = dashboardsPath
    }

    public init(config: FireflyConfig, dashboardsPath: String = Self.defaultDashboardsPath) throws(GrafanaError) {
        self.init(datasources: try GrafanaDatasources(config: config), dashboardsPath: dashboardsPath)
        alerts = config.alerts
        pricing = config.pricing
    }

    /// Every dashboard Firefly provisions, in their backend-neutral form.
    public static var dashboards: [DashboardSpec] { [OverviewDashboard.spec, FunctionDashboard.spec] }

    public var backend: DashboardBackend { datasources.backend }

    /// The dashboard JSON documents by uid.
    public func dashboardJSON() -> [(spec: DashboardSpec, json: GrafanaJSON)] {
        let builder = DashboardBuilder(
            backend: backend, schema: datasources.postgres?.schema ?? PostgresDatasource.defaultSchema, pricing: pricing)
        return Self.dashboards.map { ($0, builder.build($0)) }
    }

    public var datasourceFiles: [File] {
        [File(path: "provisioning/datasources/firefly.yaml", contents: datasources.provisioningYAML)]
    }

    public var files: [File] {
        let dashboards = dashboardJSON()  // built once: the alert rules read their panel ids from them
        return datasourceFiles
            + [File(path: "provisioning/dashboards/firefly.yaml", contents: dashboardProviderYAML(dashboardsPath: dashboardsPath))]
            + dashboards.map { File(path: "dashboards/\($0.spec.fileName)", contents: $0.json.prettyText) }
            + (alertRules.isEmpty
                ? [] : [File(path: "provisioning/alerting/firefly.json", contents: alertingJSON(dashboards: dashboards).prettyText)])
    }

    /// Writes `files` (or only the datasource file) under `directory`, creating folders; returns the paths written.
    @discardableResult
    public func write(to directory: String, datasourcesOnly: Bool = false) throws -> [String] {
        var written: [String] = []
        for file in datasourcesOnly ? datasourceFiles : files {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url, options: .atomic)
            written.append(url.path)
        }
        return written
    }
}
