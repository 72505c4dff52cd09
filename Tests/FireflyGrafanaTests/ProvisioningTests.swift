import FireflyCore
import FireflyGrafana
import Foundation
import Testing

/// The datasource and dashboard-provider files, parsed by a real YAML parser (PyYAML).
@Suite struct ProvisioningTests {
    static func yaml(_ text: String) throws -> [String: Any] {
        let result = try python("import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))", stdin: text)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    @Test func postgresDatasourceComesFromTheExporterURLWithoutItsPassword() throws {
        let generator = try Configs.generator(Configs.both)
        let text = generator.datasources.provisioningYAML
        #expect(!text.contains("secret"))
        let doc = try Self.yaml(text)
        #expect(doc["apiVersion"] as? Int == 1)
        let sources = doc["datasources"] as! [[String: Any]]
        #expect(sources.count == 2)
        let pg = sources[0]
        #expect(pg["type"] as? String == "grafana-postgresql-datasource")
        #expect(pg["uid"] as? String == "firefly-postgres")
        #expect(pg["url"] as? String == "db:5432")
        #expect(pg["user"] as? String == "firefly")
        #expect(pg["isDefault"] as? Bool == true)
        #expect(pg["password"] == nil)
        let jsonData = pg["jsonData"] as! [String: Any]
        #expect(jsonData["database"] as? String == "firefly")
        #expect(jsonData["sslmode"] as? String == "require")
        #expect(jsonData["timescaledb"] as? Bool == false)
        #expect((pg["secureJsonData"] as! [String: String])["password"] == "$FIREFLY_POSTGRES_PASSWORD")
        let prom = sources[1]
        #expect(prom["type"] as? String == "prometheus")
        #expect(prom["uid"] as? String == "firefly-prometheus")
        #expect(prom["url"] as? String == "http://prometheus:9090")
        #expect(prom["isDefault"] as? Bool == false)
        #expect(generator.backend == .postgres)
    }

    @Test func withoutAPasswordNoSecureJsonDataIsWritten() throws {
        let doc = try Self.yaml(Configs.generator(Configs.postgresOnly).datasources.provisioningYAML)
        let sources = doc["datasources"] as! [[String: Any]]
        #expect(sources.count == 1)
        #expect(sources[0]["secureJsonData"] == nil)
        #expect(sources[0]["url"] as? String == "127.0.0.1:54329")
    }

    @Test func prometheusOnlyMakesPrometheusTheDefaultAndTheBackend() throws {
        let generator = try Configs.generator(Configs.prometheusOnly)
        let sources = try Self.yaml(generator.datasources.provisioningYAML)["datasources"] as! [[String: Any]]
        #expect(sources.map { $0["uid"] as! String } == ["firefly-prometheus"])
        #expect(sources[0]["url"] as? String == "http://127.0.0.1:9090")
        #expect(sources[0]["isDefault"] as? Bool == true)
        #expect(generator.backend == .prometheus)
    }

    @Test func queryURLFollowsTheRemoteWriteReceiver() throws {
        #expect(try PrometheusDatasource(remoteWriteURL: "http://prometheus:9090/api/v1/write").url == "http://prometheus:9090")
        #expect(try PrometheusDatasource(remoteWriteURL: "https://mimir.example/api/v1/push").url == "https://mimir.example/prometheus")
        #expect(try PrometheusDatasource(remoteWriteURL: "http://vm:8428/api/v1/write?extra=1").url == "http://vm:8428")
    }

    @Test func aConfigWithoutStorageExporterIsRejected() throws {
        let config = try ConfigLoader(environment: [:]).parse(
            """
            exporters:
              debug: {plugin: debug}
            receivers:
              otlp: {plugin: otlp}
            pipelines:
              traces: {receivers: [otlp], exporters: [debug]}
            """)
        #expect(throws: GrafanaError.self) { try GrafanaGenerator(config: config) }
    }

    @Test func dashboardProviderReadsTheMountedDashboardFolder() throws {
        let files = try Configs.generator(Configs.postgresOnly).files
        let provider = try #require(files.first { $0.path == "provisioning/dashboards/firefly.yaml" })
        let doc = try Self.yaml(provider.contents)
        let p = (doc["providers"] as! [[String: Any]])[0]
        #expect(p["type"] as? String == "file")
        #expect(p["folderUid"] as? String == "firefly")
        #expect((p["options"] as! [String: Any])["path"] as? String == "/var/lib/grafana/dashboards")
        #expect(files.map(\.path).sorted() == [
            "dashboards/firefly-function.json", "dashboards/firefly-overview.json", "provisioning/alerting/firefly.json",
            "provisioning/dashboards/firefly.yaml", "provisioning/datasources/firefly.yaml",
        ])
    }
}
