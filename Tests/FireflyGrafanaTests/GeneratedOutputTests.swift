import FireflyCore
import FireflyGrafana
import Foundation
import Testing

/// The committed `grafana/` (default firefly.yaml) and `compose/grafana/` (compose/firefly.yaml,
/// datasources only) must be exactly what the generator writes today.
@Suite struct GeneratedOutputTests {
    /// Files under `dir`, relative, sorted.
    static func files(in dir: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: dir)
        var out: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(dir)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(path)
            }
        }
        return out.sorted()
    }

    static func expectUpToDate(config: String, committed: String, datasourcesOnly: Bool, command: String) throws {
        // An empty environment: `${VAR:-default}` in the config takes its default, as on a clean checkout.
        let loaded = try ConfigLoader(environment: [:]).load(file: Repo.path(config))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GrafanaGenerator(config: loaded).write(to: dir, datasourcesOnly: datasourcesOnly)
        let fresh = files(in: dir)
        #expect(fresh == files(in: Repo.path(committed)), "\(committed) has other files than the generator writes; run \(command)")
        for file in fresh {
            let expected = FileManager.default.contents(atPath: "\(dir)/\(file)")
            let actual = FileManager.default.contents(atPath: Repo.path("\(committed)/\(file)"))
            #expect(actual == expected, "\(committed)/\(file) is stale; run \(command)")
        }
    }

    @Test func committedGrafanaFolderMatchesTheDefaultConfig() throws {
        try Self.expectUpToDate(
            config: "firefly.yaml", committed: "grafana", datasourcesOnly: false,
            command: "`make grafana`")
        #expect(Self.files(in: Repo.path("grafana")).count == 5)  // 2 dashboards, datasources, dashboard provider, alert rules
    }

    /// The compose stack's Grafana reads what compose/firefly.yaml generates (its schema, its
    /// exporters), so a change there cannot silently break its panels.
    @Test func committedComposeProvisioningMatchesTheComposeConfig() throws {
        try Self.expectUpToDate(
            config: "compose/firefly.yaml", committed: "compose/grafana", datasourcesOnly: false,
            command: "`make grafana`")
    }

    /// The comparison above is byte-exact: a changed panel is noticed.
    @Test func aChangedDashboardIsDetectedAsStale() throws {
        let loaded = try ConfigLoader(environment: [:]).load(file: Repo.path("firefly.yaml"))
        let generated = try GrafanaGenerator(config: loaded).files
        let overview = try #require(generated.first { $0.path == "dashboards/firefly-overview.json" })
        let committed = FileManager.default.contents(atPath: Repo.path("grafana/dashboards/firefly-overview.json"))
        #expect(committed == Data(overview.contents.utf8))
        #expect(committed != Data(overview.contents.replacingOccurrences(of: "\"Functions\"", with: "\"Function list\"").utf8))
    }
}
