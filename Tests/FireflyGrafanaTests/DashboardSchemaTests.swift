import FireflyGrafana
import Foundation
import Testing

@Suite struct DashboardSchemaTests {
    @Test(arguments: DashboardStructureTests.backends.map(\.name))
    func dashboardsValidateAgainstGrafanaSchemas(backend: String) throws {
        let generator = try Configs.generator(DashboardStructureTests.config(backend))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try generator.write(to: dir)
        let files = generator.dashboardJSON().map { "\(dir)/dashboards/\($0.spec.fileName)" }
        let problems = try SchemaValidator.problems(files: files)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The validator itself rejects what Grafana's schema forbids (so the test above can fail).
    @Test func validatorRejectsABrokenDashboard() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let broken = GrafanaJSON.object([
            ("schemaVersion", 42), ("templating", ["list": []]), ("annotations", ["list": []]), ("refresh", false),
            ("panels", [["type": "stat", "id": 1, "datasource": "$datasource", "options": [:]]]),
        ])
        try Data(broken.prettyText.utf8).write(to: URL(fileURLWithPath: "\(dir)/broken.json"))
        let problems = try SchemaValidator.problems(files: ["\(dir)/broken.json"])
        #expect(problems.contains { $0.contains("refresh") })
        #expect(problems.contains { $0.contains("datasource") })
        #expect(problems.contains { $0.contains("options/") && $0.contains("graphMode") })
    }
}
