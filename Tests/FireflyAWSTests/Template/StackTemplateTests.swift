import FireflyAWS
import FireflyTestSupport
import Foundation
import Testing
import Yams

@Suite struct StackTemplateTests {
    static let endpoint = "https://firefly.example.com/firehose"
    static let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:firefly-firehose-AbCdEf"

    /// Every combination of the choices that change the template's shape (the numbers are parameters).
    static var combinations: [(name: String, options: StackOptions, syntax: TemplateSyntax)] {
        var all: [(String, StackOptions, TemplateSyntax)] = []
        for syntax in TemplateSyntax.allCases {
            for secret in [false, true] {
                for format in MetricStreamFormat.allCases {
                    for insights in [false, true] {
                        for logs in [[], ["checkout"], ["checkout", "payment-api", "payment_api", "Orders2"]] {
                            var options = StackOptions(endpointURL: endpoint)
                            if secret { options.accessKey = .secretsManager(arn: Self.secret) }
                            options.outputFormat = format
                            options.lambdaInsights = insights
                            options.logFunctions = logs
                            if logs.count > 1 {
                                options.logFilterPattern = "?ERROR ?REPORT"
                                options.statistics = ["p50", "p90", "p99", "p99.9"]
                                options.bufferSizeMiB = 64
                                options.bufferIntervalSeconds = 0
                                options.retryDurationSeconds = 7200
                                options.backupRetentionDays = 3650
                            }
                            let name = "stack-\(secret ? "secret" : "param")-\(format == .json ? "json" : "otel")-\(insights ? "insights" : "lambda")-logs\(logs.count).\(syntax.rawValue)"
                            all.append((name, options, syntax))
                        }
                    }
                }
            }
        }
        return all
    }

    @Test(.enabled(if: CfnLint.shouldRun, "cfn-lint is not installed (pip install cfn-lint)"))
    func everyOptionCombinationPassesCfnLint() async throws {
        let directory = NSTemporaryDirectory() + "firefly-cfn-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for combination in Self.combinations {
            let file = "\(directory)/\(combination.name)"
            try StackTemplate(options: combination.options).rendered(as: combination.syntax).write(toFile: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        #expect(files.count == 48)
        let all = files
        let result = try await offThePool { try CfnLint.lint(all) }
        #expect(result.errors == [], "cfn-lint errors:\n\(result.errors.joined(separator: "\n"))")
        #expect(result.warnings == [], "cfn-lint warnings:\n\(result.warnings.joined(separator: "\n"))")
    }

    @Test func yamlAndJSONAreTheSameDocument() throws {
        for combination in Self.combinations where combination.syntax == .yaml {
            let template = try StackTemplate(options: combination.options)
            let fromJSON = try JSONSerialization.jsonObject(with: Data(template.rendered(as: .json).utf8)) as? NSDictionary
            let fromYAML = try Yams.load(yaml: template.rendered(as: .yaml)) as? [String: Any]
            #expect(fromJSON != nil && fromYAML != nil)
            #expect(fromJSON == (fromYAML.map { NSDictionary(dictionary: $0) }), "\(combination.name)")
        }
    }

    @Test func accessKeyIsANoEchoParameterWithoutDefault() throws {
        let template = try StackTemplate(options: StackOptions(endpointURL: Self.endpoint)).document
        let parameter = try #require(template["Parameters"]?["AccessKey"])
        #expect(parameter["NoEcho"] == .bool(true))
        #expect(parameter["Default"] == nil)
        let endpoint = template["Resources"]?["MetricsDeliveryStream"]?["Properties"]?["HttpEndpointDestinationConfiguration"]?["EndpointConfiguration"]
        #expect(endpoint?["AccessKey"] == .ref("AccessKey"))
        #expect(endpoint?["Url"] == .ref("EndpointUrl"))
        #expect(template["Parameters"]?["EndpointUrl"]?["Default"] == .string(Self.endpoint))
    }

    @Test func secretsManagerReplacesTheParameterAndFirehoseMayReadOnlyThatSecret() throws {
        var options = StackOptions(endpointURL: Self.endpoint)
        options.accessKey = .secretsManager(arn: Self.secret)
        let template = try StackTemplate(options: options).document
        #expect(template["Parameters"]?["AccessKey"] == nil)
        #expect(template["Parameters"]?["AccessKeySecretArn"]?["Default"] == .string(Self.secret))
        let destination = template["Resources"]?["MetricsDeliveryStream"]?["Properties"]?["HttpEndpointDestinationConfiguration"]
        #expect(destination?["EndpointConfiguration"]?["AccessKey"] == nil)
        #expect(destination?["SecretsManagerConfiguration"]?["SecretARN"] == .ref("AccessKeySecretArn"))
        let rendered = try StackTemplate(options: options).rendered(as: .json)
        #expect(rendered.contains("\"secretsmanager:GetSecretValue\""))
        #expect(!rendered.contains("secretsmanager:*"))
    }

    @Test func deliveryIsGzipWithRetriesAndFailedDataOnlyBackupThatExpires() throws {
        let template = try StackTemplate(options: StackOptions(endpointURL: Self.endpoint)).document
        let destination = try #require(template["Resources"]?["MetricsDeliveryStream"]?["Properties"]?["HttpEndpointDestinationConfiguration"])
        #expect(destination["RequestConfiguration"]?["ContentEncoding"] == .string("GZIP"))
        #expect(destination["S3BackupMode"] == .string("FailedDataOnly"))
        #expect(destination["RetryOptions"]?["DurationInSeconds"] == .ref("RetryDurationSeconds"))
        #expect(destination["BufferingHints"]?["SizeInMBs"] == .ref("BufferSizeMiB"))
        #expect(template["Parameters"]?["RetryDurationSeconds"]?["Default"] == .int(3600))
        let bucket = template["Resources"]?["BackupBucket"]
        #expect(bucket?["DeletionPolicy"] == .string("Retain"))
        guard case .list(let rules) = bucket?["Properties"]?["LifecycleConfiguration"]?["Rules"] else {
            Issue.record("no lifecycle rules")
            return
        }
        #expect(rules.first?["ExpirationInDays"] == .ref("BackupRetentionDays"))
    }

    @Test func metricStreamCarriesPercentilesForTheTimingMetrics() throws {
        var options = StackOptions(endpointURL: Self.endpoint)
        options.outputFormat = .json
        options.statistics = ["p50", "p99.9"]
        let template = try StackTemplate(options: options).document
        #expect(template["Parameters"]?["Percentiles"]?["Default"] == .string("p50,p99.9"))
        #expect(template["Parameters"]?["OutputFormat"]?["Default"] == .string("json"))
        #expect(template["Parameters"]?["IncludeLambdaInsights"]?["Default"] == .string("false"))
        let stream = try #require(template["Resources"]?["MetricStream"]?["Properties"])
        guard case .list(let configurations) = stream["StatisticsConfigurations"], case .list(let metrics)? = configurations.first?["IncludeMetrics"] else {
            Issue.record("no statistics configuration")
            return
        }
        #expect(configurations.first?["AdditionalStatistics"] == .ref("Percentiles"))
        #expect(metrics.compactMap { $0["MetricName"] } == StackTemplate.lambdaTimingMetrics.map(TemplateValue.string))
        #expect(metrics.allSatisfy { $0["Namespace"] == .string("AWS/Lambda") })
    }

    @Test func logsGetASecondStreamAndOneSubscriptionPerFunction() throws {
        var options = StackOptions(endpointURL: Self.endpoint)
        let none = try StackTemplate(options: options).document
        #expect(none["Resources"]?["LogsDeliveryStream"] == nil)
        #expect(none["Parameters"]?["LogFilterPattern"] == nil)
        options.logFunctions = ["payment-api", "payment_api", "checkout"]
        let template = try StackTemplate(options: options).document
        guard case .map(let resources)? = template["Resources"] else {
            Issue.record("no resources")
            return
        }
        let filters = resources.filter { $0.value["Type"] == .string("AWS::Logs::SubscriptionFilter") }
        #expect(filters.map(\.key) == ["LogsSubscriptionpaymentapi", "LogsSubscriptionpaymentapiN2", "LogsSubscriptioncheckout"])
        #expect(filters.map { $0.value["Properties"]?["LogGroupName"] } == ["/aws/lambda/payment-api", "/aws/lambda/payment_api", "/aws/lambda/checkout"].map(TemplateValue.string))
        #expect(filters.allSatisfy { $0.value["Properties"]?["DestinationArn"] == .getAtt("LogsDeliveryStream", "Arn") })
        #expect(template["Outputs"]?["SubscriptionRoleArn"] != nil)
    }

    @Test func badOptionsAreAllReportedAtOnce() {
        var options = StackOptions(endpointURL: "http://firefly.example.com/firehose")
        options.statistics = ["p50", "avg", "p101", "p50"]
        options.bufferSizeMiB = 65
        options.retryDurationSeconds = -1
        options.logFunctions = ["ok", "not/a/function"]
        options.accessKey = .secretsManager(arn: "my-secret")
        #expect(throws: StackOptionsError.self) { try StackTemplate(options: options) }
        let problems = options.problems
        #expect(problems.count == 8, "\(problems)")
        #expect(problems.contains { $0.contains("https://") })
        #expect(problems.contains { $0.contains("'avg'") })
        #expect(problems.contains { $0.contains("'p101'") })
        #expect(problems.contains { $0.contains("listed twice") })
        #expect(problems.contains { $0.contains("--buffer-size-mib: 65") })
        #expect(problems.contains { $0.contains("--retry-duration: -1") })
        #expect(problems.contains { $0.contains("'not/a/function'") })
        #expect(problems.contains { $0.contains("'my-secret'") })
        #expect(StackOptions(endpointURL: "https://firefly.example.com:8443/firehose").problems == ["--endpoint: Firehose delivers only to port 443, not 8443"])
        #expect(StackOptions(endpointURL: "firefly.example.com").problems.first?.contains("not a URL") == true)
    }

    @Test func yamlQuotesEveryStringSoNothingChangesType() throws {
        let value = TemplateValue.object([
            "a": .string("true"), "b": .string("1.0"), "c": .string("*"), "d": .string("line\nbreak \u{2028}"), "e": .list([]),
            "f": .list([.object(["x": .int(1), "y": .list([.string("no")])])]), "yes": .bool(false),
        ])
        let back = try Yams.load(yaml: value.rendered(as: .yaml)) as? [String: Any]
        #expect(back?["a"] as? String == "true")
        #expect(back?["b"] as? String == "1.0")
        #expect(back?["c"] as? String == "*")
        #expect(back?["d"] as? String == "line\nbreak \u{2028}")
        #expect((back?["e"] as? [Any])?.isEmpty == true)
        #expect(((back?["f"] as? [Any])?.first as? [String: Any])?["y"] as? [String] == ["no"])
        #expect(back?["yes"] as? Bool == false)
    }

    @Test func commandWritesTheTemplateAndTheDeployCommand() async throws {
        let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../firefly.yaml").standardized.path
        let good = try await offThePool {
            try run(Build.firefly, ["aws", "template", "--endpoint", "https://f.example.com", "-c", config, "--format", "json", "--logs", "a,b"])
        }
        #expect(good.status == 0, "\(good.stderr)")
        let json = try JSONSerialization.jsonObject(with: good.output) as? [String: Any]
        let parameters = json?["Parameters"] as? [String: Any]
        #expect((parameters?["EndpointUrl"] as? [String: Any])?["Default"] as? String == "https://f.example.com/firehose")
        #expect(good.stderr.contains("--parameter-overrides AccessKey=\"$FIREHOSE_ACCESS_KEY\""))
        let bad = try await offThePool { try run(Build.firefly, ["aws", "template", "--endpoint", "http://f.example.com", "-c", config, "--buffer-size-mib", "0"]) }
        #expect(bad.status == 1)
        #expect(bad.stdout.isEmpty)
        #expect(bad.stderr.contains("error: --endpoint: Firehose delivers only to https://"))
        #expect(bad.stderr.contains("error: --buffer-size-mib: 0 is outside 1…64"))
    }
}
