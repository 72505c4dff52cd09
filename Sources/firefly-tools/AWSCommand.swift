import ArgumentParser
import FireflyCLI
import FireflyAWS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel

struct AWS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ToolCommand.aws.rawValue, abstract: ToolCommand.aws.abstract,
        subcommands: [AWSTemplate.self, AWSFunctions.self, AWSInstrument.self, AWSUninstrument.self])
}

struct AWSTemplate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Write a CloudFormation template: Firehose streams to Firefly, the Lambda metric stream, optional log subscriptions, IAM roles.",
        discussion: "Deploy it with the `aws cloudformation deploy` command printed on standard error. Every number is also a template parameter.")

    @Option(help: "Firefly's public HTTPS URL; without a path, the firehose receiver's path in the configuration is added.")
    var endpoint: String

    @Option(name: .shortAndLong, help: "Configuration file (default: firefly.yaml when present): its firehose receiver's path and access key variable are the defaults.")
    var config: String?

    @Option(name: .shortAndLong, help: "Write the template to this file instead of standard output.")
    var output: String?

    @Option(help: "Template syntax: yaml or json.")
    var format: String = "yaml"

    @Option(help: "Secrets Manager secret ARN holding {\"api_key\": KEY}; without it the key is the stack's NoEcho AccessKey parameter.")
    var accessKeySecret: String?

    @Option(help: "Metric stream record format: json or opentelemetry1.0.")
    var streamFormat: String = MetricStreamFormat.openTelemetry.rawValue

    @Flag(help: "Also stream the LambdaInsights namespace.")
    var lambdaInsights = false

    @Option(help: "Percentiles for the timing metrics (Duration, …), comma-separated.")
    var statistics: String = "p50,p95,p99"

    @Option(help: "Firehose buffer size in MiB (1…64).")
    var bufferSizeMib: Int = 1

    @Option(help: "Firehose buffer interval in seconds (0…900).")
    var bufferInterval: Int = 60

    @Option(help: "Seconds Firehose retries a failed delivery before writing it to S3 (0…7200).")
    var retryDuration: Int = 3600

    @Option(help: "Days failed deliveries stay in the S3 backup bucket (1…3650).")
    var backupRetentionDays: Int = 30

    @Option(name: .customLong("logs"), help: "Subscribe this function's log group to a Firehose stream for logs (repeat, or comma-separate).")
    var logFunctions: [String] = []

    @Option(help: "CloudWatch Logs filter pattern for the subscriptions (default: every event).")
    var logFilterPattern: String = ""

    func run() throws {
        var problems: [String] = []
        var defaults = ReceiverDefaults()
        var configRead: String?
        let config = self.config ?? "firefly.yaml"
        if let data = FileManager.default.contents(atPath: config) {
            do {
                defaults = try ReceiverDefaults.read(yaml: String(decoding: data, as: UTF8.self))
                configRead = config
            } catch {
                problems.append("\(config): \(error) (run `firefly check -c \(config)`)")
            }
        } else if self.config != nil {
            problems.append("cannot read '\(config)'")
        } else {
            printError("note: no firefly.yaml here; using the firehose receiver's defaults (path /firehose)")
        }
        let syntax = TemplateSyntax(rawValue: format)
        if syntax == nil { problems.append("--format: '\(format)' is neither yaml nor json") }
        let streamFormat = MetricStreamFormat(rawValue: self.streamFormat)
        if streamFormat == nil { problems.append("--stream-format: '\(self.streamFormat)' is neither json nor opentelemetry1.0") }

        var options = StackOptions(endpointURL: defaults.endpointURL(endpoint))
        if let accessKeySecret { options.accessKey = .secretsManager(arn: accessKeySecret) }
        options.outputFormat = streamFormat ?? options.outputFormat
        options.lambdaInsights = lambdaInsights
        options.statistics = statistics.split(separator: ",").map { $0.trimmed(keepingNewlines: true) }
        options.bufferSizeMiB = bufferSizeMib
        options.bufferIntervalSeconds = bufferInterval
        options.retryDurationSeconds = retryDuration
        options.backupRetentionDays = backupRetentionDays
        options.logFunctions = logFunctions.flatMap { $0.split(separator: ",").map { $0.trimmed(keepingNewlines: true) } }
        options.logFilterPattern = logFilterPattern
        problems += options.problems
        guard problems.isEmpty, let syntax else {
            for problem in problems { printError("error: \(problem)") }
            throw ExitCode(1)
        }
        let template = try StackTemplate(options: options)
        let text = template.rendered(as: syntax)
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                printError("error: cannot write '\(output)': \(String(describing: error))")
                throw ExitCode(1)
            }
            printError("wrote \(output)")
        } else {
            print(text, terminator: "")
        }
        for note in template.notes(defaults: defaults, configFile: configRead) { printError(note) }
        printError("deploy with:\n  " + template.deployCommand(file: output ?? "firefly-aws.\(syntax.rawValue)", defaults: defaults))
    }
}
