// The demo's deterministic core: what to send at each moment, with no clock or network inside.
public import FireflyModel
public import FireflyWire

/// Which CloudWatch metric stream output formats the demo sends.
public enum MetricStreamFormats: String, Sendable, CaseIterable {
    case json, otel, both
}

/// Everything the demo sends, as a function of the seed and the times it is asked about.
///
/// Metrics: each minute, one Firehose delivery per stream format, holding the `AWS/Lambda` and
/// (for functions with Lambda Insights) `LambdaInsights` points. With `both`, even-numbered
/// functions go through a `json` stream and odd-numbered ones through an `opentelemetry1.0`
/// stream (two metric streams, as an account migrating between formats would have), so no
/// data point is delivered twice.
public struct DemoScenario: Sendable {
    public static let jsonStream = "firefly-demo-json"
    public static let otelStream = "firefly-demo-otel"
    /// The Firehose stream the functions' log groups are subscribed to.
    public static let logsStream = "firefly-demo-logs"

    public let topology: DemoTopology
    public let formats: MetricStreamFormats
    public let accessKey: String
    public private(set) var traces: TraceSimulator
    public let metrics: LambdaMetricsSimulator
    private var ids: SeededGenerator

    public init(
        functions: Int, tracesPerSecond: Double, seed: UInt64, formats: MetricStreamFormats = .both,
        region: String = "us-east-1", accountID: String = "123456789012", accessKey: String = ""
    ) {
        topology = DemoTopology(functions: functions, seed: seed, region: region, accountID: accountID)
        self.formats = formats
        self.accessKey = accessKey
        traces = TraceSimulator(topology: topology, seed: seed)
        metrics = LambdaMetricsSimulator(topology: topology, tracesPerSecond: tracesPerSecond, seed: seed)
        ids = SeededGenerator(seed: seed ^ 0x6669_7265_686F_7365)  // "firehose"
    }

    /// The stream that carries function `index`'s metrics.
    public func stream(of index: Int) -> String {
        switch formats {
        case .json: Self.jsonStream
        case .otel: Self.otelStream
        case .both: index % 2 == 0 ? Self.jsonStream : Self.otelStream
        }
    }

    /// The metric stream deliveries for one minute: one per stream that has points.
    /// `nowMs` is the envelope's `timestamp`.
    public mutating func metricDeliveries(minuteStartMs: UInt64, nowMs: UInt64) throws(Gzip.Failure) -> [(request: FirehoseRequest, points: Int)] {
        var jsonRecords: [[UInt8]] = []
        var otelRecords: [[UInt8]] = []
        var jsonPoints = 0
        var otelPoints = 0
        func add(_ points: [CloudWatchDatapoint], to stream: String) {
            if stream == Self.jsonStream {
                jsonRecords.append(CloudWatchJSONEncoder.record(points))
                jsonPoints += points.count
            } else {
                // One request per metric: records hold several length-delimited messages.
                otelRecords.append(MetricStreamOTelEncoder.record(points.map { MetricStreamOTelEncoder.request([$0]) }))
                otelPoints += points.count
            }
        }
        var functionPoints: [[CloudWatchDatapoint]] = []
        for i in topology.functions.indices {
            let stream = stream(of: i)
            let minute = metrics.minute(function: i, minuteStartMs: minuteStartMs, streamName: stream)
            functionPoints.append(minute.lambda)
            let points = minute.lambda + minute.insights
            if !points.isEmpty { add(points, to: stream) }
        }
        // The account-level series travel in the first function's stream (an account streams them once).
        let account = metrics.accountPoints(functionPoints, minuteStartMs: minuteStartMs, streamName: stream(of: 0))
        if !account.isEmpty { add(account, to: stream(of: 0)) }
        var out: [(FirehoseRequest, Int)] = []
        for (stream, records, count) in [(Self.jsonStream, jsonRecords, jsonPoints), (Self.otelStream, otelRecords, otelPoints)]
        where !records.isEmpty {
            let request = try FirehoseRequest(
                requestId: ids.uuid(), timestampMs: nowMs, records: records,
                sourceArn: "arn:aws:firehose:\(topology.region):\(topology.accountID):deliverystream/\(stream)",
                accessKey: accessKey)
            out.append((request, count))
        }
        return out
    }

    /// Spans of the traces started up to `until` (see `TraceSimulator.advance`).
    public mutating func spans(until: UInt64, newTraces: Int) -> [Span] {
        traces.advance(to: until, newTraces: newTraces)
    }

    /// The CloudWatch Logs subscription deliveries for the invocations run since the last call:
    /// one record per function and log stream (what one subscription delivery holds), at most
    /// `recordsPerDelivery` records a Firehose request. Returns each request with its count of
    /// log events and of invocations.
    public mutating func logDeliveries(nowMs: UInt64, recordsPerDelivery: Int = 100) throws(Gzip.Failure) -> [(request: FirehoseRequest, events: Int, invocations: Int)] {
        let invocations = traces.takeInvocations()
        var groups: [String: [SimulatedInvocation]] = [:]
        var order: [String] = []
        for inv in invocations {
            let key = "\(inv.function) \(inv.logStream)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(inv)
        }
        var records: [(data: [UInt8], events: Int, invocations: Int)] = []
        var sequence = 0
        for key in order {
            let group = groups[key]!.sorted { $0.start < $1.start }
            let fn = topology.functions[group[0].function]
            let json = LambdaLogSimulator.usesJSON(function: group[0].function)
            let events = group.flatMap { LambdaLogSimulator.events(of: $0, function: fn, json: json, sequence: &sequence) }
            let data = try LambdaLogSimulator.record(
                owner: topology.accountID, logGroup: LambdaLogSimulator.logGroup(fn), logStream: group[0].logStream, events: events)
            records.append((data, events.count, group.count))
        }
        var out: [(FirehoseRequest, Int, Int)] = []
        var start = 0
        while start < records.count {
            let chunk = records[start..<min(records.count, start + recordsPerDelivery)]
            start += chunk.count
            let request = try FirehoseRequest(
                requestId: ids.uuid(), timestampMs: nowMs, records: chunk.map(\.data),
                sourceArn: "arn:aws:firehose:\(topology.region):\(topology.accountID):deliverystream/\(Self.logsStream)",
                accessKey: accessKey)
            out.append((request, chunk.reduce(0) { $0 + $1.events }, chunk.reduce(0) { $0 + $1.invocations }))
        }
        return out
    }

    /// Spans of deliveries still queued at the end.
    public mutating func remainingSpans() -> [Span] {
        traces.drain()
    }
}
