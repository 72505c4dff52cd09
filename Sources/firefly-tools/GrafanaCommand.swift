import ArgumentParser
import FireflyCLI
import FireflyCore
import FireflyGrafana
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel

struct Grafana: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ToolCommand.grafana.rawValue, abstract: ToolCommand.grafana.abstract, subcommands: [GrafanaGenerate.self])
}

struct GrafanaGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write Grafana datasources, a dashboard provider and the Firefly dashboards for a configuration.")

    @Option(name: .shortAndLong, help: "Configuration file.")
    var config: String = "firefly.yaml"

    @Option(help: "Output directory.")
    var out: String = "grafana"

    @Option(help: "Where Grafana reads the dashboard files (written into the dashboard provider).")
    var dashboardsPath: String = GrafanaGenerator.defaultDashboardsPath

    @Flag(help: "Write only provisioning/datasources/firefly.yaml (the docker compose setup shares the dashboards).")
    var datasourcesOnly = false

    func run() throws {
        let loaded: FireflyConfig
        do {
            loaded = try ConfigLoader().load(file: config)
        } catch {
            throw fail(error)
        }
        do {
            let generator = try GrafanaGenerator(config: loaded, dashboardsPath: dashboardsPath)
            for path in try generator.write(to: out, datasourcesOnly: datasourcesOnly) { print("wrote \(path)") }
            print("dashboards query \(generator.backend == .postgres ? "PostgreSQL" : "Prometheus")")
        } catch let error as GrafanaError {
            writeToStandardError("error: \(error.description)\n")
            throw ExitCode(1)
        }
    }
}
