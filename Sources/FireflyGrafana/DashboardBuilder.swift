// Turns a DashboardSpec into Grafana's classic dashboard JSON for one backend: layout, datasource refs, targets.
public import FireflyCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Grafana dashboard JSON (classic model, schemaVersion 42) for file provisioning. Datasources are
/// referenced by the fixed uids Firefly provisions, never by `${DS_…}` import placeholders.
public struct DashboardBuilder: Sendable {
    public static let schemaVersion = 42
    /// Grafana's grid is 24 columns wide.
    public static let gridColumns = 24

    public var backend: DashboardBackend
    /// The PostgreSQL schema holding the exporter's tables.
    public var schema: String
    /// The prices the cost panels use.
    public var pricing: PricingConfig

    public init(backend: DashboardBackend, schema: String = PostgresDatasource.defaultSchema, pricing: PricingConfig = PricingConfig()) {
        self.backend = backend
        self.schema = schema
        self.pricing = pricing
    }

    /// SQL with the exporter's schema and the prices filled in.
    func sql(_ text: String) -> String {
        Pricing.fill(text.replacing(LambdaSQL.schemaToken, with: schema), pricing)
    }

    var datasource: GrafanaJSON {
        switch backend {
        case .postgres: ["type": .string(PostgresDatasource.type), "uid": .string(PostgresDatasource.uid)]
        case .prometheus: ["type": .string(PrometheusDatasource.type), "uid": .string(PrometheusDatasource.uid)]
        }
    }

    /// The URL path of a generated dashboard.
    public static func path(uid: String) -> String { "/d/\(uid)/\(uid)" }

    /// The items this backend shows: panels without a query for it are dropped, and so are rows left empty.
    func visibleItems(_ items: [DashboardItem]) -> [DashboardItem] {
        let kept = items.filter {
            if case .panel(let p) = $0 { return backend == .postgres || p.prom != nil }
            return true
        }
        var out: [DashboardItem] = []
        for (i, item) in kept.enumerated() {
            if case .row = item {
                let next = i + 1 < kept.count ? kept[i + 1] : nil
                if next == nil { continue }
                if case .row = next! { continue }
            }
            out.append(item)
        }
        return out
    }

    public func build(_ spec: DashboardSpec) -> GrafanaJSON {
        var panels: [GrafanaJSON] = []
        var id = 1
        var x = 0
        var y = 0
        var lineHeight = 0
        for item in visibleItems(spec.items) {
            switch item {
            case .row(let title):
                y += lineHeight
                x = 0
                lineHeight = 0
                panels.append([
                    "collapsed": false,
                    "gridPos": Self.gridPos(h: 1, w: Self.gridColumns, x: 0, y: y),
                    "id": .int(id),
                    "panels": [],
                    "title": .string(title),
                    "type": "row",
                ])
                y += 1
            case .panel(let p):
                if x + p.width > Self.gridColumns {
                    y += lineHeight
                    x = 0
                    lineHeight = 0
                }
                panels.append(panel(p, id: id, gridPos: Self.gridPos(h: p.height, w: p.width, x: x, y: y)))
                x += p.width
                lineHeight = max(lineHeight, p.height)
            }
            id += 1
        }
        let links: [GrafanaJSON] = spec.linkedDashboards.map { link in
            [
                "asDropdown": false, "icon": "dashboard", "includeVars": true, "keepTime": true, "tags": [],
                "targetBlank": false, "title": .string(link.title), "tooltip": "", "type": "link",
                "url": .string(Self.path(uid: link.uid)),
            ]
        }
        return [
            "annotations": [
                "list": [
                    [
                        "builtIn": 1, "datasource": ["type": "grafana", "uid": "-- Grafana --"], "enable": true,
                        "hide": true, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
                        "type": "dashboard",
                    ]
                ]
            ],
            "description": .string(spec.description),
            "editable": true,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "links": .array(links),
            "panels": .array(panels),
            "refresh": "1m",
            "schemaVersion": .int(Self.schemaVersion),
            "tags": .array(spec.tags.map { .string($0) }),
            "templating": ["list": .array(spec.variables.filter { backend == .postgres || !$0.postgresOnly }.map(variable))],
            "time": ["from": "now-3h", "to": "now"],
            "timepicker": [:],
            "timezone": "browser",
            "title": .string(spec.title),
            "uid": .string(spec.uid),
            "version": 1,
        ]
    }

    static func gridPos(h: Int, w: Int, x: Int, y: Int) -> GrafanaJSON {
        ["h": .int(h), "w": .int(w), "x": .int(x), "y": .int(y)]
    }

    // MARK: - Panels

    func panel(_ p: PanelSpec, id: Int, gridPos: GrafanaJSON) -> GrafanaJSON {
        var pairs: [(String, GrafanaJSON)] = [
            ("datasource", datasource),
            ("description", .string(Pricing.fill(p.description, pricing))),
            ("fieldConfig", fieldConfig(p)),
            ("gridPos", gridPos),
            ("id", .int(id)),
        ]
        // Metric data is per minute: a finer interval only adds empty buckets.
        if p.prom != nil { pairs.append(("interval", "1m")) }
        pairs.append(("options", options(p)))
        pairs.append(("targets", .array(targets(p))))
        pairs.append(("title", .string(p.title)))
        let transformations = backend == .postgres ? p.sqlTransformations : p.promTransformations
        if !transformations.isEmpty { pairs.append(("transformations", .array(transformations))) }
        pairs.append(("type", .string(p.type.rawValue)))
        return .object(pairs)
    }

    func targets(_ p: PanelSpec) -> [GrafanaJSON] {
        switch backend {
        case .postgres:
            return p.sql.map { t in
                [
                    "datasource": datasource, "editorMode": "code", "format": .string(t.format.rawValue),
                    "rawQuery": true, "rawSql": .string(sql(t.sql)), "refId": .string(t.refId),
                ]
            }
        case .prometheus:
            return (p.prom ?? []).map { t in
                [
                    "datasource": datasource, "editorMode": "code", "expr": .string(Pricing.fill(t.expr, pricing)),
                    "format": .string(t.instant && p.type == .table ? "table" : "time_series"),
                    "instant": .bool(t.instant), "legendFormat": .string(t.legend.isEmpty ? "__auto" : t.legend),
                    "range": .bool(!t.instant), "refId": .string(t.refId),
                ]
            }
        }
    }

    func fieldConfig(_ p: PanelSpec) -> GrafanaJSON {
        var defaults: [(String, GrafanaJSON)] = []
        var overrides: [GrafanaJSON] = []
        switch p.type {
        case .timeseries:
            defaults.append((
                "custom",
                [
                    "axisSoftMin": 0,
                    "drawStyle": p.bars ? "bars" : "line",
                    "fillOpacity": p.bars ? 80 : 10,
                    "lineWidth": 1,
                    "showPoints": "never",
                    "spanNulls": false,
                    "stacking": ["group": "A", "mode": p.stacked ? "normal" : "none"],
                ]
            ))
        case .stat:
            defaults.append(("color", ["mode": "thresholds"]))
            let t = p.thresholds ?? PanelSpec.Thresholds(base: "green", steps: [])
            let steps: [GrafanaJSON] =
                [["color": .string(t.base), "value": .null]] + t.steps.map { ["color": .string($0.color), "value": .double($0.value)] }
            defaults.append(("thresholds", ["mode": "absolute", "steps": .array(steps)]))
        case .table, .logs:
            if p.type == .table { defaults.append(("custom", ["align": "auto", "filterable": false, "inspect": false])) }
            for column in p.columns {
                var properties: [GrafanaJSON] = []
                if let unit = column.unit { properties.append(["id": "unit", "value": .string(unit)]) }
                if let decimals = column.decimals { properties.append(["id": "decimals", "value": .int(decimals)]) }
                if let width = column.width { properties.append(["id": "custom.width", "value": .int(width)]) }
                if let link = column.link { properties.append(["id": "links", "value": [link.json]]) }
                if properties.isEmpty { continue }
                overrides.append([
                    "matcher": ["id": "byName", "options": .string(column.name)], "properties": .array(properties),
                ])
            }
        case .traces, .nodeGraph:
            break
        }
        if p.type != .traces && p.type != .nodeGraph {
            if !p.links.isEmpty { defaults.append(("links", .array(p.links.map(\.json)))) }
            defaults.append(("unit", .string(p.unit)))
            if let decimals = p.decimals { defaults.append(("decimals", .int(decimals))) }
            if let noValue = p.noValue { defaults.append(("noValue", .string(noValue))) }
            if backend == .postgres, let name = p.sqlDisplayName { defaults.append(("displayName", .string(name))) }
        }
        return ["defaults": .object(defaults.sorted { $0.0 < $1.0 }), "overrides": .array(overrides)]
    }

    func options(_ p: PanelSpec) -> GrafanaJSON {
        switch p.type {
        case .timeseries:
            return [
                "legend": ["calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": true],
                "tooltip": ["mode": "multi", "sort": "desc"],
            ]
        case .stat:
            return [
                "colorMode": "value", "graphMode": "none", "justifyMode": "auto", "orientation": "auto",
                "percentChangeColorMode": "standard",
                "reduceOptions": ["calcs": [.string(p.statCalc)], "fields": "", "values": false],
                "showPercentChange": false, "textMode": "auto", "wideLayout": true,
            ]
        case .table:
            var options: [(String, GrafanaJSON)] = [
                ("cellHeight", "sm"), ("frameIndex", 0), ("showHeader", true),
            ]
            if let sortBy = p.sortBy { options.append(("sortBy", [["desc": true, "displayName": .string(sortBy)]])) }
            return .object(options)
        case .traces:
            return [:]
        case .logs:
            return [
                "dedupStrategy": "none", "enableInfiniteScrolling": false, "enableLogDetails": true,
                "prettifyLogMessage": false, "showCommonLabels": false, "showLabels": false, "showTime": true,
                "sortOrder": "Descending", "wrapLogMessage": true,
            ]
        case .nodeGraph:
            // Every Firefly node graph: calls per second, error ratio, and the error share as a red arc.
            return [
                "edges": ["mainStatUnit": "reqps", "secondaryStatUnit": "percentunit"],
                "nodes": [
                    "arcs": [["color": "green", "field": "arc__ok"], ["color": "red", "field": "arc__failed"]],
                    "mainStatUnit": "reqps", "secondaryStatUnit": "percentunit",
                ],
                "zoomMode": "cooperative",
            ]
        }
    }

    // MARK: - Variables

    func variable(_ v: VariableSpec) -> GrafanaJSON {
        switch v.kind {
        case .query(let sql, let prom):
            let query = backend == .postgres ? self.sql(sql) : (prom ?? "")
            return [
                "current": ["text": "", "value": ""], "datasource": datasource, "definition": .string(query), "hide": 0,
                "includeAll": false, "label": .string(v.label), "multi": false, "name": .string(v.name),
                "options": [], "query": .string(query), "refresh": 2, "regex": "", "skipUrlSync": false, "sort": 1,
                "type": "query",
            ]
        case .textbox:
            return [
                "current": ["text": "", "value": ""], "hide": 0, "label": .string(v.label), "name": .string(v.name),
                "options": [], "query": "", "skipUrlSync": false, "type": "textbox",
            ]
        case .scope(let sql, let prom):
            let query = backend == .postgres ? self.sql(sql) : prom
            return [
                "allValue": .string(backend == .postgres ? LambdaSQL.allScopes : ".*"),
                "current": ["text": ["All"], "value": ["$__all"]], "datasource": datasource, "definition": .string(query),
                "hide": 0, "includeAll": true, "label": .string(v.label), "multi": true, "name": .string(v.name),
                "options": [], "query": .string(query), "refresh": 2, "regex": "", "skipUrlSync": false, "sort": 1,
                "type": "query",
            ]
        case .multiSelect(let values):
            let options: [GrafanaJSON] = [["selected": true, "text": "All", "value": "$__all"]]
                + values.map { ["selected": false, "text": .string($0), "value": .string($0)] }
            return [
                "current": ["text": ["All"], "value": ["$__all"]], "hide": 0, "includeAll": true,
                "label": .string(v.label), "multi": true, "name": .string(v.name), "options": .array(options),
                "query": .string(values.joined(separator: ",")), "skipUrlSync": false, "type": "custom",
            ]
        }
    }
}
