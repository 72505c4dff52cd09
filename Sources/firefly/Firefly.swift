import ArgumentParser
import FireflyCLI
import FireflyCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel
import Logging

@main
enum Main {
    static func main() async {
        // `grafana`, `demo` and `aws` live in `firefly-tools`, so that the collector does not map
        // their code (the AWS client, the dashboard generator, the load generator) while serving.
        ToolCommands.runIfNamed(CommandLine.arguments)
        await Firefly.main()
    }
}

struct Firefly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firefly",
        abstract: "Observability for serverless functions: receive, queue and export metrics and traces.",
        subcommands: [Serve.self, Check.self, Plugins.self, DeadLetters.self] + ToolCommands.listed,
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the collector.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Write the bound HTTP port to this file once listening.")
    var portFile: String?

    func run() async throws {
        let logger = options.makeLogger()
        let collector: Collector
        do {
            collector = try Collector.prepare(configFile: options.config, logger: logger)
        } catch {
            throw fail(error)
        }
        let portFile = self.portFile
        do {
            try await collector.run { port in
                if let portFile { try? "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
            }
        } catch let error as ConfigError {
            throw fail(error)
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration, load the plugins and create every instance; exit non-zero on any problem.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        var logger = options.makeLogger()
        logger.logLevel = .error
        do {
            let collector = try Collector.prepare(configFile: options.config, logger: logger)
            let c = collector.config
            print("\(options.config): ok — \(c.receivers.count) receivers, \(c.exporters.count) exporters, \(c.pipelines.count) pipelines")
            collector.release()
        } catch {
            throw fail(error)
        }
    }
}

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the plugins found in plugins.paths.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let paths: [String]
        do {
            paths = try ConfigLoader().load(file: options.config).plugins.paths
        } catch {
            paths = FireflyConfig().plugins.paths
            writeToStandardError("note: \(options.config) has problems (run `firefly check`); using the default plugin paths\n")
        }
        let registry = PluginRegistry.scan(paths: paths, relativeTo: FileManager.default.currentDirectoryPath)
        let rows = registry.plugins.values.sorted { $0.name < $1.name }.map {
            [$0.name, $0.kind.rawValue, $0.version, $0.abi, $0.signals.description.replacing(" ", with: ""), $0.file]
        }
        print(Table.render(header: ["NAME", "KIND", "VERSION", "ABI", "SIGNALS", "FILE"], rows: rows))
        if registry.scanned.isEmpty {
            print("no plugin directory exists among: \(paths.joined(separator: ", "))")
        }
        for problem in registry.problems {
            writeToStandardError("error: \(problem.description)\n")
        }
        if !registry.problems.isEmpty { throw ExitCode(1) }
    }
}

struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters", abstract: "Show or replay items exporters rejected permanently.",
        subcommands: [DeadLettersList.self, DeadLettersReplay.self], defaultSubcommand: DeadLettersList.self)
}

struct DeadLettersList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Show items exporters rejected permanently, with the reason (one line each).")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let directory = (try? ConfigLoader().load(file: options.config).queue.directory) ?? FireflyConfig().queue.directory
        let path = PathText.join(directory, "dead-letters.jsonl")
        guard let data = FileManager.default.contents(atPath: path) else {
            print("no dead letters (\(path) does not exist)")
            return
        }
        for entry in DeadLetterFile.entries(in: data) {
            print("\(entry.time)  \(entry.exporter)  \(entry.points) points, \(entry.spans) spans, \(entry.logs) logs  \(oneLine(entry.reason))")
        }
    }
}

struct DeadLettersReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Export dead-lettered items again with the configured exporters; delivered ones leave the file.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Replay only this exporter's entries (default: every exporter's).")
    var exporter: String?

    func run() async throws {
        var logger = options.makeLogger()
        logger.logLevel = .error
        let collector: Collector
        do {
            collector = try Collector.prepare(configFile: options.config, logger: logger)
        } catch {
            throw fail(error)
        }
        if let exporter, !collector.config.exporters.contains(where: { $0.name == exporter }) {
            collector.release()
            writeToStandardError("error: no exporter '\(exporter)' in \(options.config)\n")
            throw ExitCode(1)
        }
        let report: DeadLetterReplayReport
        do {
            report = try await collector.replayDeadLetters(exporter: exporter)
        } catch {
            collector.finishReplay()
            writeToStandardError("error: cannot rewrite \(collector.deadLetterFile.path): \(error)\n")
            throw ExitCode(1)
        }
        collector.finishReplay()
        print("replayed \(report.entriesReplayed) entries: \(report.itemsDelivered) items delivered, \(report.itemsRejected) rejected again")
        for reason in report.reasons { print("  rejected again: \(oneLine(reason))") }
        if report.entriesKept > 0 { print("\(report.entriesKept) entries kept as they were") }
        for name in report.unknownExporters { print("  exporter '\(name)' is not in \(options.config); its entries were kept") }
        if let stopped = report.stopped { print("stopped early: \(oneLine(stopped))") }
        if report.itemsRejected > 0 || report.stopped != nil { throw ExitCode(1) }
    }
}
