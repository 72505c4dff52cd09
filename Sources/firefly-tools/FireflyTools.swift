// `firefly-tools`: the commands that do not serve — Grafana provisioning, the demo load, the AWS
// side. `firefly grafana|demo|aws …` runs this binary; it is built and installed next to `firefly`.
import ArgumentParser

@main
struct FireflyTools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firefly",
        abstract: "Firefly's commands that do not serve: Grafana provisioning, synthetic telemetry, the AWS side.",
        subcommands: [Grafana.self, Demo.self, AWS.self])
}
