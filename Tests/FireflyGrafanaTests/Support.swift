import FireflyCore
import FireflyGrafana
import FireflyTestSupport
import Foundation

/// Paths in the repository (the build products' are `Build`'s, in FireflyTestSupport).
enum Repo {
    static let root = Build.packageRoot

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// Configurations for each backend the dashboards support.
enum Configs {
    static let postgresOnly = """
        exporters:
          postgres: {plugin: postgres, url: "postgres://firefly@127.0.0.1:54329/firefly"}
        pipelines:
          metrics: {receivers: [firehose], exporters: [postgres]}
        receivers:
          firehose: {plugin: firehose}
        """
    static let prometheusOnly = """
        exporters:
          remote_write: {plugin: remote-write, url: "http://127.0.0.1:9090/api/v1/write"}
        pipelines:
          metrics: {receivers: [firehose], exporters: [remote_write]}
        receivers:
          firehose: {plugin: firehose}
        """
    static let both = """
        exporters:
          postgres: {plugin: postgres, url: "postgres://firefly:secret@db:5432/firefly?sslmode=require"}
          remote_write: {plugin: remote-write, url: "http://prometheus:9090/api/v1/write"}
        pipelines:
          metrics: {receivers: [firehose], exporters: [postgres, remote_write]}
        receivers:
          firehose: {plugin: firehose}
        """

    static func generator(_ text: String) throws -> GrafanaGenerator {
        try GrafanaGenerator(config: ConfigLoader(environment: [:]).parse(text))
    }

    /// The generated dashboards parsed with Foundation, by uid.
    static func dashboards(_ generator: GrafanaGenerator) throws -> [(uid: String, json: [String: Any], text: String)] {
        try generator.dashboardJSON().map { spec, json in
            let text = json.prettyText
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
            return (spec.uid, object, text)
        }
    }
}


/// `python3 -c script args…` (jsonschema and PyYAML are installed by `make test`'s bootstrap).
func python(_ script: String, _ arguments: [String] = [], stdin: String? = nil) throws -> ProcessResult {
    try run("/usr/bin/env", ["python3", "-c", script] + arguments, stdin: stdin)
}

func temporaryDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "firefly-grafana-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
