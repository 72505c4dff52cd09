import FireflyGrafana
import Foundation
import Testing

/// Invariants Grafana relies on but no schema expresses, checked on every backend's dashboards.
@Suite struct DashboardStructureTests {
    static let backends: [(name: String, config: String)] = [
        ("postgres", Configs.postgresOnly), ("prometheus", Configs.prometheusOnly), ("both", Configs.both),
    ]

    /// Every panel, rows' nested panels included.
    static func panels(_ dashboard: [String: Any]) -> [[String: Any]] {
        let top = dashboard["panels"] as? [[String: Any]] ?? []
        return top + top.flatMap { $0["panels"] as? [[String: Any]] ?? [] }
    }

    /// Every string in a JSON value.
    static func strings(_ value: Any) -> [String] {
        switch value {
        case let s as String: [s]
        case let a as [Any]: a.flatMap(strings)
        case let o as [String: Any]: o.keys.sorted().flatMap { strings(o[$0]!) }
        default: []
        }
    }

    /// Names used as `$name`, `${name}`, `${name:format}`, `${name.path}` or `[[name]]`.
    static func variableReferences(_ text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: #"\$\{([A-Za-z0-9_]+)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)"#)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            for i in 1...3 where m.range(at: i).location != NSNotFound {
                return String(text[Range(m.range(at: i), in: text)!])
            }
            return nil
        }
    }

    /// Grafana's global variables and SQL macros Firefly uses.
    static let builtins: Set<String> = [
        "__timeFilter", "__timeGroupAlias", "__timeGroup", "__timeFrom", "__timeTo", "__interval", "__interval_ms",
        "__range", "__range_s", "__from", "__to", "__url_time_range", "__value", "__series", "__field", "__data",
        "__all",  // the value of a multi-value variable's "All" option
    ]

    @Test(arguments: backends.map(\.name))
    func panelIdsAreUnique(backend: String) throws {
        for d in try Configs.dashboards(Configs.generator(Self.config(backend))) {
            let ids = Self.panels(d.json).compactMap { $0["id"] as? Int }
            #expect(ids.count == Self.panels(d.json).count, "\(d.uid): a panel has no id")
            #expect(Set(ids).count == ids.count, "\(d.uid): duplicate panel ids \(ids)")
        }
    }

    @Test(arguments: backends.map(\.name))
    func panelsFitTheGridWithoutOverlapping(backend: String) throws {
        for d in try Configs.dashboards(Configs.generator(Self.config(backend))) {
            var boxes: [(id: Int, x: Int, y: Int, w: Int, h: Int)] = []
            for p in Self.panels(d.json) {
                let g = p["gridPos"] as! [String: Int]
                let (x, y, w, h) = (g["x"]!, g["y"]!, g["w"]!, g["h"]!)
                #expect(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24, "\(d.uid) panel \(p["id"]!): \(g)")
                for b in boxes {
                    let overlap = x < b.x + b.w && b.x < x + w && y < b.y + b.h && b.y < y + h
                    #expect(!overlap, "\(d.uid): panels \(b.id) and \(p["id"]!) overlap")
                }
                boxes.append((p["id"] as! Int, x, y, w, h))
            }
            #expect(boxes.count >= 8)
        }
    }

    @Test(arguments: backends.map(\.name))
    func refIdsAreUniqueAndDatasourcesProvisioned(backend: String) throws {
        let generator = try Configs.generator(Self.config(backend))
        let uids = Set(generator.datasources.uids)
        for d in try Configs.dashboards(generator) {
            for p in Self.panels(d.json) where p["type"] as? String != "row" {
                let targets = p["targets"] as? [[String: Any]] ?? []
                #expect(!targets.isEmpty, "\(d.uid) panel \(p["title"]!) has no query")
                let refIds = targets.map { $0["refId"] as! String }
                #expect(Set(refIds).count == refIds.count, "\(d.uid) panel \(p["title"]!): \(refIds)")
                let refs = [p["datasource"]] + targets.map { $0["datasource"] }
                for case let ref as [String: String] in refs {
                    #expect(uids.contains(ref["uid"]!), "\(d.uid) panel \(p["title"]!): datasource \(ref)")
                }
                #expect(refs.allSatisfy { $0 is [String: String] }, "\(d.uid) panel \(p["title"]!): datasource not an object")
            }
            let variables = (d.json["templating"] as! [String: Any])["list"] as! [[String: Any]]
            for case let ref as [String: String] in variables.map({ $0["datasource"] as Any }) {
                #expect(uids.contains(ref["uid"]!))
            }
            #expect(!d.text.contains("${DS_"))
            #expect(!d.text.contains("__inputs"))
        }
    }

    @Test(arguments: backends.map(\.name))
    func everyVariableUsedIsDefined(backend: String) throws {
        for d in try Configs.dashboards(Configs.generator(Self.config(backend))) {
            let variables = (d.json["templating"] as! [String: Any])["list"] as! [[String: Any]]
            let defined = Set(variables.map { $0["name"] as! String })
            var used: Set<String> = []
            for text in Self.strings(d.json["panels"]!) + Self.strings(variables) {
                used.formUnion(Self.variableReferences(text))
            }
            // PromQL's label_replace refers to regex groups as $1; Grafana leaves unknown names alone.
            used = used.filter { !$0.allSatisfy(\.isNumber) }
            let undefined = used.subtracting(defined).subtracting(Self.builtins)
            #expect(undefined.isEmpty, "\(d.uid): undefined variables \(undefined.sorted())")
            if d.uid == "firefly-function" {
                #expect(used.contains("function"))
                #expect(used.contains("traceId") == (backend != "prometheus"))
            }
        }
    }

    @Test(arguments: backends.map(\.name))
    func linksPointAtGeneratedDashboards(backend: String) throws {
        let generator = try Configs.generator(Self.config(backend))
        let dashboards = try Configs.dashboards(generator)
        let uids = Set(dashboards.map(\.uid))
        var links = 0
        for d in dashboards {
            for text in Self.strings(d.json) where text.hasPrefix("/d/") {
                let uid = text.dropFirst(3).prefix { $0 != "/" && $0 != "?" }
                #expect(uids.contains(String(uid)), "\(d.uid): link to unknown dashboard \(text)")
                links += 1
            }
        }
        // Overview: header link, table cell, 6 per-function series (+ the invocations table's function
        // cell); Function: header link (+ trace link, the invocations table's request and trace ids,
        // the logs' trace id).
        #expect(links == (backend == "prometheus" ? 9 : 14), "links: \(links)")
        let overview = dashboards.first { $0.uid == "firefly-overview" }!
        let table = Self.panels(overview.json).first { $0["title"] as? String == "Functions" }!
        let overrides = (table["fieldConfig"] as! [String: Any])["overrides"] as! [[String: Any]]
        let functionColumn = overrides.first { ($0["matcher"] as! [String: String])["options"] == "function" }!
        let link = ((functionColumn["properties"] as! [[String: Any]]).first { $0["id"] as? String == "links" }!["value"]
            as! [[String: String]])[0]
        // A row's own account and region: the same name elsewhere is another function.
        #expect(link["url"] == "/d/firefly-function/firefly-function?var-function=${__value.raw}&var-account=${__data.fields.account}&var-region=${__data.fields.region}&${__url_time_range}")
        // A series' identity labels, which the SQL and PromQL series both carry.
        let series = Self.panels(overview.json).first { $0["title"] as? String == "Duration percentiles" }!
        let seriesLinks = (series["fieldConfig"] as! [String: Any])["defaults"] as! [String: Any]
        #expect((seriesLinks["links"] as! [[String: String]])[0]["url"] == "/d/firefly-function/firefly-function?var-function=${__field.labels.dimension_FunctionName}&var-account=${__field.labels.account_id}&var-region=${__field.labels.region}&${__url_time_range}")
    }

    @Test func dashboardsUseCurrentSchemaAndFixedUids() throws {
        for d in try Configs.dashboards(Configs.generator(Configs.both)) {
            #expect(d.json["schemaVersion"] as? Int == 42)
            #expect(d.json["uid"] as? String == d.uid)
            #expect(d.json["id"] == nil)
        }
        let uids = try Configs.dashboards(Configs.generator(Configs.both)).map(\.uid)
        #expect(uids == ["firefly-overview", "firefly-function"])
    }

    @Test func prometheusDashboardsLeaveOutSpanPanels() throws {
        let titles = { (config: String) throws -> [String] in
            try Configs.dashboards(Configs.generator(config)).flatMap { Self.panels($0.json).map { $0["title"] as! String } }
        }
        let postgres = try titles(Configs.postgresOnly)
        let prometheus = try titles(Configs.prometheusOnly)
        // Traces, invocations and logs live in PostgreSQL only.
        #expect(Set(postgres).subtracting(prometheus) == [
            "Traces", "Duration percentiles (exact, from spans)", "Recent traces", "Trace", "Service map", "Invocations (Lambda's REPORT lines)", "Reported invocations",
            "Cold start rate", "Avg init duration", "p95 duration (exact)", "Timeouts", "Out of memory", "Peak memory used",
            "Cost (billed)", "Duration percentiles (exact)", "Cold and warm duration", "Memory used", "Outcomes", "Recent invocations",
            "Logs", "Invocations reported in logs",
        ])
        #expect(Set(prometheus).isSubset(of: Set(postgres)))
    }

    /// Stats colour what needs attention; per-function bars stack.
    @Test(arguments: backends.map(\.name))
    func statsColourWhatNeedsAttentionAndPerFunctionBarsStack(backend: String) throws {
        let dashboards = Dictionary(uniqueKeysWithValues: try Configs.dashboards(Configs.generator(Self.config(backend))).map { ($0.uid, $0.json) })
        func panel(_ uid: String, _ title: String, _ type: String) throws -> [String: Any] {
            try #require(Self.panels(dashboards[uid]!).first { $0["title"] as? String == title && $0["type"] as? String == type })
        }
        func defaults(_ p: [String: Any]) -> [String: Any] { (p["fieldConfig"] as! [String: Any])["defaults"] as! [String: Any] }
        func steps(_ p: [String: Any]) -> [String] {
            ((defaults(p)["thresholds"] as! [String: Any])["steps"] as! [[String: Any]]).map { "\($0["color"]!)@\($0["value"]!)" }
        }
        #expect(steps(try panel("firefly-function", "Error rate", "stat")) == ["green@<null>", "orange@0.01", "red@0.05"])
        #expect(steps(try panel("firefly-function", "Throttles", "stat")) == ["green@<null>", "red@1"])
        #expect(steps(try panel("firefly-overview", "Lowest unreserved concurrency", "stat")) == ["red@<null>", "orange@10", "green@100"])
        let invocations = try panel("firefly-overview", "Invocations", "timeseries")
        let stacking = (defaults(invocations)["custom"] as! [String: Any])["stacking"] as! [String: Any]
        #expect(stacking["mode"] as? String == "normal")
    }

    static func config(_ backend: String) -> String {
        backends.first { $0.name == backend }!.config
    }
}
