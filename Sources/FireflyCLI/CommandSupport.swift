// What the `firefly` and `firefly-tools` commands share: the config option, problem output, tables.
public import ArgumentParser
public import FireflyCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel
public import Logging

public struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file.")
    public var config: String = "firefly.yaml"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = ProcessInfo.processInfo.environment["FIREFLY_LOG_LEVEL"] ?? "info"

    public init() {}

    public func makeLogger() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "firefly")
        logger.logLevel = level
        return logger
    }
}

/// Prints configuration problems compiler-style and exits non-zero.
public func fail(_ error: ConfigError) -> ExitCode {
    writeToStandardError((error.description + "\n"))
    let n = error.problems.count
    writeToStandardError("\(n) problem\(n == 1 ? "" : "s") found\n")
    return ExitCode(1)
}

/// A message on one line: line breaks (PostgreSQL's hints have them) become spaces, nothing is cut.
public func oneLine(_ text: String) -> String {
    text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).joined(separator: " ")
}

public enum Table {
    public static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padded(to: widths[i], with: " ") }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// One line to standard error.
public func printError(_ text: String) {
    writeToStandardError(text + "\n")
}

/// The commands `firefly-tools` runs: `firefly` lists them in its help and hands them over, and
/// `firefly-tools` defines them, with the same names and summaries.
public enum ToolCommand: String, CaseIterable, Sendable {
    case grafana, demo, aws

    public var abstract: String {
        switch self {
        case .grafana: "Grafana provisioning for Firefly's data."
        case .demo: "Send realistic synthetic Lambda telemetry to a running collector."
        case .aws: "Connect an AWS account: the CloudFormation stack sending Lambda telemetry to Firefly, and OpenTelemetry on functions."
        }
    }
}
