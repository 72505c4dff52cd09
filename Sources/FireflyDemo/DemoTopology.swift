// The demo's application: a small shop plus a data pipeline, repeated to reach N functions.

/// The set of simulated functions and their calls. Built from a fixed catalogue of ten
/// functions; more than ten repeats the catalogue as independent copies (`checkout-api-2`, …),
/// fewer keeps the first N and drops calls to functions left out. Per-function drift parameters
/// come from the seed.
public struct DemoTopology: Sendable {
    public var functions: [DemoFunction]
    public var region: String
    public var accountID: String

    public init(functions count: Int, seed: UInt64, region: String = "us-east-1", accountID: String = "123456789012") {
        self.region = region
        self.accountID = accountID
        var rng = SeededGenerator(seed: seed ^ 0x746F_706F_6C6F_6779)  // "topology"
        var functions: [DemoFunction] = []
        let catalogue = Self.catalogue
        for i in 0..<max(1, count) {
            let group = i / catalogue.count
            var f = catalogue[i % catalogue.count]
            if group > 0 { f.name += "-\(group + 1)" }
            let offset = group * catalogue.count
            f.calls = f.calls.compactMap { call in
                var call = call
                call.targets = call.targets.map { $0 + offset }.filter { $0 < count }
                return call.targets.isEmpty ? nil : call
            }
            f.baseLatencyMs *= 0.8 + 0.4 * rng.unit()
            f.driftPeriodSeconds = 240 + 240 * rng.unit()
            f.driftPhase = 2 * Double.pi * rng.unit()
            functions.append(f)
        }
        self.functions = functions
    }

    /// Expected invocations per second of each function when `rate` traces start per second:
    /// entry points share the rate by weight, calls pass it on with their probability.
    public func expectedRates(tracesPerSecond rate: Double) -> [Double] {
        let totalWeight = functions.reduce(0) { $0 + $1.entryWeight }
        let base = functions.map { totalWeight > 0 ? rate * $0.entryWeight / totalWeight : 0 }
        var rates = base
        // Calls form a DAG, so N rounds of relaxation reach the fixed point.
        for _ in functions.indices {
            var next = base
            for (i, f) in functions.enumerated() {
                for call in f.calls {
                    for t in call.targets { next[t] += rates[i] * call.probability }
                }
            }
            rates = next
        }
        return rates
    }

    public func arn(_ function: DemoFunction) -> String {
        "arn:aws:lambda:\(region):\(accountID):function:\(function.name)"
    }

    static func function(
        _ name: String, _ trigger: DemoTrigger, runtime: String, memory: Int, latency: Double, coldStart: Double,
        errorRate: Double, entryWeight: Double = 0, reserved: Int? = nil, calls: [DemoCall] = [],
        aws: [DemoAWSCall] = [], insights: Bool = false, exceptions: [(String, String)]
    ) -> DemoFunction {
        DemoFunction(
            name: name, trigger: trigger, runtime: runtime, memoryMB: memory, baseLatencyMs: latency,
            coldStartMs: coldStart, errorRate: errorRate, entryWeight: entryWeight, reservedConcurrency: reserved,
            calls: calls, awsCalls: aws, driftPeriodSeconds: 300, driftPhase: 0,
            exceptions: exceptions.map { (type: $0.0, message: $0.1) }, lambdaInsights: insights)
    }

    static let nodeErrors = [
        ("TypeError", "Cannot read properties of undefined (reading 'id')"),
        ("Runtime.UnhandledPromiseRejection", "Error: connect ETIMEDOUT 10.0.3.17:443"),
    ]
    static let pythonErrors = [
        ("KeyError", "'sku'"), ("botocore.exceptions.ClientError", "An error occurred (ThrottlingException) when calling the UpdateItem operation: Rate exceeded"),
    ]
    static let javaErrors = [
        ("java.lang.NullPointerException", "Cannot invoke \"String.length()\" because \"token\" is null"),
        ("software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException", "The conditional request failed"),
    ]

    /// The ten functions; indexes in `calls` refer to this list.
    static let catalogue: [DemoFunction] = [
        function(
            "checkout-api", .http(method: "POST", route: "/checkout"), runtime: "nodejs20.x", memory: 512, latency: 95,
            coldStart: 380, errorRate: 0.02, entryWeight: 5,
            calls: [DemoCall(via: .invoke, targets: [1], probability: 1), DemoCall(via: .sqs(queue: "orders"), targets: [2], probability: 0.9)],
            aws: [DemoAWSCall(service: "DynamoDB", operation: "GetItem", share: 0.25)], insights: true, exceptions: nodeErrors),
        function(
            "payment-service", .invoke, runtime: "java21", memory: 1024, latency: 140, coldStart: 1400, errorRate: 0.03,
            aws: [DemoAWSCall(service: "DynamoDB", operation: "PutItem", share: 0.3)], insights: true, exceptions: javaErrors),
        function(
            "order-processor", .sqs(queue: "orders"), runtime: "python3.12", memory: 256, latency: 60, coldStart: 450,
            errorRate: 0.015, calls: [DemoCall(via: .sns(topic: "order-events"), targets: [3, 4], probability: 1)],
            aws: [DemoAWSCall(service: "DynamoDB", operation: "UpdateItem", share: 0.4)], insights: true,
            exceptions: pythonErrors),
        function(
            "inventory-sync", .sns(topic: "order-events"), runtime: "python3.12", memory: 256, latency: 45, coldStart: 420,
            errorRate: 0.01, aws: [DemoAWSCall(service: "DynamoDB", operation: "UpdateItem", share: 0.5)],
            exceptions: pythonErrors),
        function(
            "email-notifier", .sns(topic: "order-events"), runtime: "nodejs20.x", memory: 128, latency: 210,
            coldStart: 300, errorRate: 0.04, aws: [DemoAWSCall(service: "SES", operation: "SendEmail", share: 0.7)],
            exceptions: nodeErrors),
        function(
            "catalog-api", .http(method: "GET", route: "/products/{id}"), runtime: "nodejs20.x", memory: 256, latency: 30,
            coldStart: 350, errorRate: 0.005, entryWeight: 6,
            calls: [DemoCall(via: .sqs(queue: "thumbnails"), targets: [6], probability: 0.15)],
            aws: [DemoAWSCall(service: "DynamoDB", operation: "Query", share: 0.5)], insights: true, exceptions: nodeErrors),
        function(
            "image-resizer", .sqs(queue: "thumbnails"), runtime: "python3.12", memory: 1536, latency: 420,
            coldStart: 900, errorRate: 0.02, reserved: 2,
            aws: [DemoAWSCall(service: "S3", operation: "GetObject", share: 0.2), DemoAWSCall(service: "S3", operation: "PutObject", share: 0.2)],
            insights: true, exceptions: pythonErrors),
        function(
            "clickstream-ingest", .kinesis(stream: "clickstream"), runtime: "provided.al2023", memory: 128, latency: 12,
            coldStart: 60, errorRate: 0.002, entryWeight: 3,
            calls: [DemoCall(via: .sqs(queue: "search-updates"), targets: [8], probability: 0.3)],
            exceptions: [("runtime.Error", "invalid memory address or nil pointer dereference")]),
        function(
            "search-indexer", .sqs(queue: "search-updates"), runtime: "java21", memory: 512, latency: 75, coldStart: 1600,
            errorRate: 0.01, aws: [DemoAWSCall(service: "OpenSearch", operation: "Bulk", share: 0.6)], insights: true, exceptions: javaErrors),
        function(
            "nightly-report", .timer(schedule: "rate(5 minutes)"), runtime: "python3.12", memory: 1024, latency: 850,
            coldStart: 700, errorRate: 0.05, entryWeight: 0.1,
            calls: [DemoCall(via: .invoke, targets: [4], probability: 1)],
            aws: [DemoAWSCall(service: "S3", operation: "PutObject", share: 0.3)], exceptions: pythonErrors),
    ]
}
