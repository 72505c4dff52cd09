// The simulated Lambda functions and how they call each other.

/// How a function is triggered, and so which span it starts with and which attributes it carries.
public enum DemoTrigger: Sendable, Hashable {
    /// API Gateway: a SERVER span named after the route.
    case http(method: String, route: String)
    /// EventBridge schedule.
    case timer(schedule: String)
    /// Kinesis data stream (an entry point: no upstream span).
    case kinesis(stream: String)
    /// SQS queue: a CONSUMER span whose parent is the producer's `send` span.
    case sqs(queue: String)
    /// SNS topic (an asynchronous invocation): a CONSUMER span whose parent is the `publish` span.
    case sns(topic: String)
    /// Direct synchronous `Invoke` from another function: a SERVER span under the caller's CLIENT span.
    case invoke

    /// The `faas.trigger` value (OpenTelemetry semantic conventions).
    public var faasTrigger: String {
        switch self {
        case .http: "http"
        case .timer: "timer"
        case .kinesis, .sqs, .sns: "pubsub"
        case .invoke: "other"
        }
    }

    /// Entry points start traces; the others are reached through a call.
    public var isEntry: Bool {
        switch self {
        case .http, .timer, .kinesis: true
        case .sqs, .sns, .invoke: false
        }
    }

    /// Lambda queues these events internally (they have an `AsyncEventAge`).
    public var isAsync: Bool {
        if case .sns = self { return true }
        return false
    }
}

/// A downstream call one invocation makes, with the chance it happens on a given invocation.
public struct DemoCall: Sendable, Hashable {
    public enum Via: Sendable, Hashable {
        case sqs(queue: String)
        case sns(topic: String)
        case invoke
    }

    public var via: Via
    /// Indexes into `DemoTopology.functions`; SNS fans out to every subscriber.
    public var targets: [Int]
    public var probability: Double
}

/// An AWS SDK call a function makes while it runs (a CLIENT span).
public struct DemoAWSCall: Sendable, Hashable {
    public var service: String
    public var operation: String
    /// Share of the invocation's own time spent in this call.
    public var share: Double
}

/// One simulated function: identity, runtime shape, and the parameters its telemetry drifts around.
public struct DemoFunction: Sendable, Hashable {
    public var name: String
    public var trigger: DemoTrigger
    public var runtime: String
    public var memoryMB: Int
    /// Median duration, milliseconds, before drift.
    public var baseLatencyMs: Double
    /// Extra time of a cold start's init phase, milliseconds.
    public var coldStartMs: Double
    /// Mean share of invocations that fail.
    public var errorRate: Double
    /// Relative weight of this function among entry points (0 for non-entries).
    public var entryWeight: Double
    /// Lambda reserved concurrency; invocations beyond it are throttled (metrics only).
    public var reservedConcurrency: Int?
    public var calls: [DemoCall]
    public var awsCalls: [DemoAWSCall]
    /// Latency drift: period of the sine wave and where on it the function starts.
    public var driftPeriodSeconds: Double
    public var driftPhase: Double
    /// Exception types this function's errors use (the runtime's idiom).
    public var exceptions: [(type: String, message: String)]
    /// The Lambda Insights extension is installed: its `LambdaInsights` metrics are streamed too.
    public var lambdaInsights = false

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.trigger == b.trigger && a.calls == b.calls && a.driftPhase == b.driftPhase
            && a.baseLatencyMs == b.baseLatencyMs
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}
