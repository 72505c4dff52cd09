// What `firefly aws template` asks for: every choice the generated CloudFormation template depends on.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the Firehose streams take the access key Firefly's firehose receiver checks.
public enum AccessKeySource: Sendable, Equatable {
    /// A `NoEcho` template parameter, given at deploy time (`--parameter-overrides AccessKey=…`).
    case parameter
    /// A Secrets Manager secret holding `{"api_key": "<key>"}`, read by Firehose itself.
    case secretsManager(arn: String)
}

/// The metric stream's record format (both are read by Firefly's firehose receiver).
public enum MetricStreamFormat: String, Sendable, CaseIterable {
    case json
    case openTelemetry = "opentelemetry1.0"
}

/// The choices behind one generated stack. Defaults are those the firehose README recommends.
public struct StackOptions: Sendable, Equatable {
    /// The full HTTPS URL Firehose posts to, path included (`https://firefly.example.com/firehose`).
    public var endpointURL: String
    public var accessKey: AccessKeySource = .parameter
    public var outputFormat: MetricStreamFormat = .openTelemetry
    /// Also stream the `LambdaInsights` namespace (functions with the Lambda Insights extension).
    public var lambdaInsights = false
    /// Percentiles added to the timing metrics' min/max/sum/count (`p50`, `p99.9`).
    public var statistics = ["p50", "p95", "p99"]
    /// Firehose buffering before a delivery: MiB (1…64) and seconds (0…900).
    public var bufferSizeMiB = 1
    public var bufferIntervalSeconds = 60
    /// How long Firehose retries a delivery Firefly did not answer 200 before it goes to S3 (0…7200 s).
    public var retryDurationSeconds = 3600
    /// Days failed deliveries are kept in the backup bucket (1…3650).
    public var backupRetentionDays = 30
    /// Functions whose log groups (`/aws/lambda/<name>`) get a subscription filter into a logs stream.
    public var logFunctions: [String] = []
    /// CloudWatch Logs filter pattern of those subscriptions ("" = every event).
    public var logFilterPattern = ""

    public init(endpointURL: String) {
        self.endpointURL = endpointURL
    }

    public static let maxStatistics = 20

    /// Every problem with these options, one message each (empty when the template can be built).
    public var problems: [String] {
        var problems: [String] = []
        if let problem = Self.endpointProblem(endpointURL) { problems.append(problem) }
        if case .secretsManager(let arn) = accessKey, arn.wholeMatch(of: Self.secretARN) == nil {
            problems.append("--access-key-secret: '\(arn)' is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)")
        }
        if statistics.isEmpty { problems.append("--statistics: give at least one percentile (p50, p99, p99.9)") }
        if statistics.count > Self.maxStatistics {
            problems.append("--statistics: \(statistics.count) given, a metric stream allows at most \(Self.maxStatistics)")
        }
        for statistic in statistics where statistic.wholeMatch(of: Self.percentile) == nil || !Self.percentileInRange(statistic) {
            problems.append("--statistics: '\(statistic)' is not a percentile between p0 and p100 (p50, p99, p99.9)")
        }
        if Set(statistics).count != statistics.count { problems.append("--statistics: a percentile is listed twice") }
        check(bufferSizeMiB, 1...64, "--buffer-size-mib", into: &problems)
        check(bufferIntervalSeconds, 0...900, "--buffer-interval", into: &problems)
        check(retryDurationSeconds, 0...7200, "--retry-duration", into: &problems)
        check(backupRetentionDays, 1...3650, "--backup-retention-days", into: &problems)
        for name in logFunctions where name.wholeMatch(of: Self.functionName) == nil {
            problems.append("--logs: '\(name)' is not a Lambda function name (letters, digits, '-' and '_', at most 64)")
        }
        if Set(logFunctions).count != logFunctions.count { problems.append("--logs: a function is listed twice") }
        if logFunctions.count > Self.maxLogFunctions {
            problems.append("--logs: \(logFunctions.count) functions; a template holds at most \(Self.maxLogFunctions) subscription filters (use an account-level subscription filter policy for more)")
        }
        if logFilterPattern.utf8.count > 1024 { problems.append("--log-filter-pattern: longer than CloudWatch's 1024 characters") }
        return problems
    }

    /// CloudFormation allows 500 resources per template; the rest of the stack uses about 20.
    public static let maxLogFunctions = 400

    private func check(_ value: Int, _ range: ClosedRange<Int>, _ option: String, into problems: inout [String]) {
        if !range.contains(value) { problems.append("\(option): \(value) is outside \(range.lowerBound)…\(range.upperBound)") }
    }

    static func endpointProblem(_ text: String) -> String? {
        guard let url = URLComponents(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else {
            return "--endpoint: '\(text)' is not a URL (https://firefly.example.com)"
        }
        if scheme.lowercased() != "https" {
            return "--endpoint: Firehose delivers only to https:// URLs (on port 443); put Firefly behind a TLS-terminating load balancer"
        }
        if let port = url.port, port != 443 { return "--endpoint: Firehose delivers only to port 443, not \(port)" }
        if url.user != nil || url.password != nil { return "--endpoint: a URL with credentials in it; the access key goes in the stack's AccessKey parameter" }
        if text.utf8.count > 1000 { return "--endpoint: longer than Firehose's 1000 characters" }
        return nil
    }

    static var percentile: Regex<(Substring, Substring, Substring?)> { /p(\d{1,3})(\.\d{1,10})?/ }
    static var functionName: Regex<Substring> { /[A-Za-z0-9_-]{1,64}/ }
    static var secretARN: Regex<Substring> { /arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9\/_+=.@-]+/ }

    private static func percentileInRange(_ statistic: String) -> Bool {
        guard let value = Double(statistic.dropFirst()) else { return false }
        return value >= 0 && value <= 100
    }
}
