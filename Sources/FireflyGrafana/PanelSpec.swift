// A dashboard panel defined once: its presentation, its SQL and (for metric panels) its PromQL.

/// Grafana panel plugin ids Firefly uses.
public enum PanelType: String, Sendable {
    case timeseries, stat, table, traces, nodeGraph, logs
}

/// A PostgreSQL datasource query: raw SQL with Grafana macros (`$__timeFilter`, `$__timeGroupAlias`…).
public struct SQLTarget: Sendable {
    public enum Format: String, Sendable {
        case timeSeries = "time_series"
        case table
    }

    public var refId: String
    public var format: Format
    public var sql: String

    public init(_ refId: String = "A", _ format: Format, _ sql: String) {
        self.refId = refId
        self.format = format
        self.sql = sql
    }
}

/// A Prometheus datasource query.
public struct PromTarget: Sendable {
    public var refId: String
    public var expr: String
    public var legend: String
    /// Instant query over the dashboard range (stats, table columns) instead of a range query.
    public var instant: Bool

    public init(_ refId: String = "A", _ expr: String, legend: String = "", instant: Bool = false) {
        self.refId = refId
        self.expr = expr
        self.legend = legend
        self.instant = instant
    }
}

/// A field data link (table cell, series point).
public struct DataLink: Sendable {
    public var title: String
    public var url: String

    public init(title: String, url: String) {
        self.title = title
        self.url = url
    }

    var json: GrafanaJSON { ["title": .string(title), "url": .string(url)] }
}

/// Per-column settings of a table (unit, link, width), matched by field name.
public struct ColumnSpec: Sendable {
    public var name: String
    public var unit: String?
    public var decimals: Int?
    public var link: DataLink?
    public var width: Int?

    public init(_ name: String, unit: String? = nil, decimals: Int? = nil, link: DataLink? = nil, width: Int? = nil) {
        self.name = name
        self.unit = unit
        self.decimals = decimals
        self.link = link
        self.width = width
    }
}

/// One panel. `prom == nil` means the panel has no Prometheus form (traces, spans): it is left out of
/// dashboards generated for the Prometheus backend.
public struct PanelSpec: Sendable {
    public var title: String
    public var description: String
    public var type: PanelType
    public var width: Int
    public var height: Int
    public var unit: String
    public var decimals: Int?
    public var sql: [SQLTarget]
    public var prom: [PromTarget]?
    /// Stat panels: how the returned values are reduced.
    public var statCalc: String = "lastNotNull"
    /// Time series drawn as bars (counts per interval) instead of lines.
    public var bars: Bool = false
    /// Series links (time series) or a link on every cell (tables: see `columns`).
    public var links: [DataLink] = []
    public var columns: [ColumnSpec] = []
    /// Table sort: the column to sort by, descending.
    public var sortBy: String?
    /// Transformations applied to the Prometheus result (tables assemble columns from several queries).
    public var promTransformations: [GrafanaJSON] = []
    /// Transformations applied to the SQL result.
    public var sqlTransformations: [GrafanaJSON] = []
    /// The display name of the SQL result's series (PromQL series are named by their legend).
    public var sqlDisplayName: String?
    /// What the panel says when its query returns nothing: why, and what to change.
    public var noValue: String?
    /// Time series: stack the series (bars per function add up to the whole).
    public var stacked: Bool = false
    /// Stats: the colour from each value up (`base` below the first step).
    public var thresholds: Thresholds?

    /// Stat colours: `base` below the first step, each step's colour from its value up.
    public struct Thresholds: Sendable {
        public var base: String
        public var steps: [(value: Double, color: String)]

        /// Green, then orange from `warning`, red from `critical` (more is worse).
        public static func rising(warning: Double, critical: Double) -> Thresholds {
            Thresholds(base: "green", steps: [(warning, "orange"), (critical, "red")])
        }

        /// Red below `critical`, orange below `warning`, then green (less is worse).
        public static func falling(critical: Double, warning: Double) -> Thresholds {
            Thresholds(base: "red", steps: [(critical, "orange"), (warning, "green")])
        }
    }

    public init(
        _ title: String, _ type: PanelType, width: Int, height: Int, unit: String = "short", decimals: Int? = nil,
        description: String, sql: [SQLTarget], prom: [PromTarget]?
    ) {
        self.title = title
        self.type = type
        self.width = width
        self.height = height
        self.unit = unit
        self.decimals = decimals
        self.description = description
        self.sql = sql
        self.prom = prom
    }

    /// Counts of which any is a problem (throttles, timeouts, out-of-memory kills): red from 1.
    static let anyIsBad = Thresholds(base: "green", steps: [(1, "red")])

    /// Says why a percentile panel is empty.
    static let noPercentiles = "No percentiles: the metric stream sends no p95/p99 for Duration (add them to its additional statistics)"

    /// This panel, saying `text` when its query returns nothing (unless it says something already).
    func whenEmpty(_ text: String) -> PanelSpec { with { $0.noValue = $0.noValue ?? text } }

    /// A copy with changes applied (keeps the catalog declarative).
    func with(_ change: (inout PanelSpec) -> Void) -> PanelSpec {
        var copy = self
        change(&copy)
        return copy
    }
}

/// A dashboard's content in display order: section rows and the panels under them.
public enum DashboardItem: Sendable {
    case row(String)
    case panel(PanelSpec)
}

/// A template variable in both backends' forms.
public struct VariableSpec: Sendable {
    public enum Kind: Sendable {
        /// Values from a query: SQL (one column) or a PromQL `label_values(...)`.
        case query(sql: String, prom: String?)
        /// A free-text box (filled by links, e.g. a trace id).
        case textbox
        /// A fixed list to pick any number of from, "All" (every value) by default; SQL reads it
        /// as a quoted list: `IN ($name)`.
        case multiSelect([String])
        /// Values from a query, any number of them, "All" by default: the accounts and regions a
        /// dashboard narrows to. "All" is `'__all'` for SQL (`LambdaSQL.inScope`) and `.*` for PromQL
        /// (`=~"$name"`), so it also takes in series that do not say.
        case scope(sql: String, prom: String)
    }

    /// The account and region variables every dashboard has.
    static var scopes: [VariableSpec] {
        [
            VariableSpec(name: "account", label: "Account", kind: .scope(sql: LambdaSQL.scopeValues("cloud.account.id"), prom: LambdaPromQL.scopeValues(LambdaPromQL.accountLabel))),
            VariableSpec(name: "region", label: "Region", kind: .scope(sql: LambdaSQL.scopeValues("cloud.region"), prom: LambdaPromQL.scopeValues(LambdaPromQL.regionLabel))),
        ]
    }

    public var name: String
    public var label: String
    public var kind: Kind
    /// Only meaningful with the PostgreSQL backend (traces).
    public var postgresOnly: Bool

    public init(name: String, label: String, kind: Kind, postgresOnly: Bool = false) {
        self.name = name
        self.label = label
        self.kind = kind
        self.postgresOnly = postgresOnly
    }
}

/// A dashboard: fixed uid, variables, links and items.
public struct DashboardSpec: Sendable {
    public var uid: String
    public var title: String
    public var description: String
    public var tags: [String]
    public var variables: [VariableSpec]
    /// Links in the dashboard header to other generated dashboards (by uid), keeping time and variables.
    public var linkedDashboards: [(title: String, uid: String)]
    public var items: [DashboardItem]
    /// The file name under `dashboards/`.
    public var fileName: String { "\(uid).json" }
}
