import ArgumentParser
import FireflyCLI
import FireflyDemo
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import FireflyModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// `firefly demo`: sends synthetic serverless telemetry to a running collector.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ToolCommand.demo.rawValue, abstract: ToolCommand.demo.abstract,
        discussion: """
            CloudWatch Metric Stream deliveries over the Firehose receiver (JSON and OpenTelemetry 1.0 \
            records, gzip, one data point per function and metric every demo minute: AWS/Lambda metrics, \
            and Lambda Insights for some functions) and OTLP/HTTP \
            protobuf traces of call chains through SQS, SNS and direct invokes, with cold starts, \
            errors and drifting latency, and every invocation's CloudWatch Logs (START, application \
            lines, errors with stack traces, END and REPORT; text format for some functions, JSON for \
            the others) as a log group subscription delivers them over Firehose, with the traces' \
            request ids, trace ids and cold starts. The same --seed sends the same telemetry.
            """)

    @Option(help: "Base URL of the collector.")
    var target = "http://127.0.0.1:4318"

    @Option(help: "Number of simulated functions.")
    var functions = 10

    @Option(help: "How long to run, e.g. 90s, 5m, 1h; a bare number is seconds. (default: 60s)", transform: Demo.parseDuration)
    var duration: Duration = .seconds(60)

    @Option(help: "Traces started per second.")
    var rate = 5.0

    @Option(help: "Random seed; the same seed sends the same telemetry.")
    var seed: UInt64 = 1

    @Option(help: "Firehose access key (default: $FIREHOSE_ACCESS_KEY).")
    var accessKey: String?

    @Option(help: "Metric stream output formats: json, otel or both.")
    var formats: String = "both"

    @Option(help: "AWS region written on the telemetry.")
    var region = "us-east-1"

    @Option(help: "Path of the Firehose receiver.")
    var firehosePath = "/firehose"

    @Option(help: "Path of the OTLP traces endpoint.")
    var tracesPath = "/v1/traces"

    @Flag(help: "Send no metrics.")
    var noMetrics = false

    @Flag(help: "Send no traces.")
    var noTraces = false

    @Flag(help: "Send no CloudWatch Logs deliveries.")
    var noLogs = false

    func validate() throws {
        guard functions >= 1, functions <= 10_000 else { throw ValidationError("--functions must be between 1 and 10000") }
        guard rate >= 0, rate <= 100_000 else { throw ValidationError("--rate must be between 0 and 100000 traces per second") }
        guard MetricStreamFormats(rawValue: formats) != nil else { throw ValidationError("--formats must be json, otel or both") }
        guard URL(string: target)?.scheme?.hasPrefix("http") == true else { throw ValidationError("--target must be an http(s) URL") }
    }

    func run() async throws {
        var options = DemoOptions()
        options.target = target
        options.functions = functions
        options.duration = duration
        options.rate = rate
        options.seed = seed
        options.accessKey = accessKey ?? ProcessInfo.processInfo.environment["FIREHOSE_ACCESS_KEY"] ?? ""
        options.formats = MetricStreamFormats(rawValue: formats) ?? .both
        options.region = region
        options.firehosePath = firehosePath
        options.tracesPath = tracesPath
        options.sendMetrics = !noMetrics
        options.sendTraces = !noTraces
        options.sendLogs = !noLogs

        let interactive = isatty(STDERR_FILENO) != 0
        writeToStandardError("firefly demo: \(functions) functions, \(rate) traces/s for \(duration) → \(target) (seed \(seed))\n")
        let stop = StopFlag()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT)
        source.setEventHandler { stop.set() }
        source.resume()

        let lastLine = LastLine()
        let runner = DemoRunner(options: options) { report, elapsed in
            let seconds = Int(elapsed.components.seconds)
            let line = "[\(seconds)s] \(report.progressLine)"
            if interactive {
                writeToStandardError("\r\u{1B}[K\(line)")
            } else if lastLine.due(seconds) {
                writeToStandardError("\(line)\n")
            }
        }
        let report = await runner.run { stop.isSet }
        source.cancel()
        if interactive { writeToStandardError("\n") }

        let statuses = report.statuses.sorted { $0.key < $1.key }.map { "\($0.value)×\($0.key)" }.joined(separator: ", ")
        print("""
            demo summary
              requests     \(report.requests) (\(report.accepted) accepted, \(report.refused) refused, \(report.failed) unanswered)\(statuses.isEmpty ? "" : "; status \(statuses)")
              metrics      \(report.points) data points accepted
              traces       \(report.traces) traces, \(report.spans) spans accepted
              logs         \(report.logEvents) CloudWatch Logs events accepted, \(report.reports) of them invocation reports
              cold starts  \(report.coldStarts)
              failures     \(report.failedInvocations) failed invocations (spans with status ERROR)
              sent         \(report.bytesSent) bytes
            """)
        if let problem = report.lastProblem { print("  last problem \(problem)") }
        if report.nothingAccepted {
            writeToStandardError("firefly demo: the collector at \(target) accepted nothing\n")
            throw ExitCode(1)
        }
    }

    /// `90s`, `5m`, `1h`, `250ms` or a bare number of seconds.
    static func parseDuration(_ text: String) throws -> Duration {
        guard let d = PluginConfig.parseDuration(text) else {
            throw ValidationError("cannot read '\(text)' as a duration (examples: 90s, 5m, 1h)")
        }
        return d
    }
}

/// Set from the SIGINT handler; read by the run loop.
private final class StopFlag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Rate-limits progress lines when standard error is not a terminal.
private final class LastLine: Sendable {
    private let last = Mutex(-1)
    func due(_ seconds: Int) -> Bool {
        last.withLock { last in
            if last >= 0, seconds - last < 10 { return false }
            last = seconds
            return true
        }
    }
}
