// Simulated invocations and the OpenTelemetry spans they would emit.
public import FireflyModel

/// A message between functions, carrying W3C Trace Context the way an SQS/SNS message attribute
/// (or a Lambda ClientContext) does: the consumer only learns its parent by parsing `traceparent`.
public struct MessageCarrier: Sendable, Hashable {
    public var traceparent: String
    public var messageID: String
}

/// Runs the topology in simulated time and produces spans.
///
/// Each function has a pool of execution environments ("instances"): an invocation reuses an idle
/// one or starts a new one, which is a cold start (`faas.coldstart = true`, plus init time); idle
/// instances are recycled after a keep-alive. SQS and SNS deliveries are queued and run later, when
/// simulated time reaches them; direct invokes run inline under the caller's CLIENT span.
///
/// Deterministic: the same seed and the same sequence of `advance` calls give the same spans.
public struct TraceSimulator: Sendable {
    public struct Stats: Sendable, Equatable {
        public var traces = 0
        public var invocations = 0
        public var spans = 0
        public var coldStarts = 0
        public var failedInvocations = 0
    }

    struct Instance: Sendable {
        var id: String
        /// End of the latest invocation assigned to it: a new one may only start after this, so
        /// an instance's invocations never overlap and the first one assigned is the earliest.
        var busyUntil: UInt64
        var keepAlive: UInt64
        var resource: [Attribute]
    }

    struct Pending: Sendable {
        var function: Int
        var start: UInt64
        var trigger: DemoTrigger
        var carrier: MessageCarrier?
        var sequence: Int
    }

    public let topology: DemoTopology
    public private(set) var stats = Stats()
    /// Every invocation run and not yet taken (`takeInvocations`): what its logs report.
    public private(set) var invocations: [SimulatedInvocation] = []
    public static let scopeName = "firefly.demo"
    public static let scopeVersion = "1.0.0"

    private var rng: SeededGenerator
    private let models: [LatencyModel]
    private var instances: [[Instance]]
    private var pending: [Pending] = []
    private var sequence = 0
    private var clock: UInt64?

    public init(topology: DemoTopology, seed: UInt64) {
        self.topology = topology
        rng = SeededGenerator(seed: seed)
        models = topology.functions.map(LatencyModel.init)
        instances = Array(repeating: [], count: topology.functions.count)
    }

    /// Starts `newTraces` traces at random times in (previous `until`, `until`] (the first call:
    /// in the second before `until`) and runs every invocation that starts before `until`.
    /// Returns the spans of the invocations that ran.
    public mutating func advance(to until: UInt64, newTraces: Int) -> [Span] {
        let from = clock ?? until &- 1_000_000_000
        clock = until
        var starts = (0..<newTraces).map { _ in from + UInt64(rng.unit() * Double(until - from)) }
        starts.sort()
        for start in starts {
            let f = pickEntry()
            stats.traces += 1
            schedule(Pending(function: f, start: start, trigger: topology.functions[f].trigger, carrier: nil, sequence: 0))
        }
        var spans: [Span] = []
        while let next = pending.first, next.start < until {
            pending.removeFirst()
            _ = invoke(next.function, at: next.start, trigger: next.trigger, carrier: next.carrier, into: &spans)
        }
        stats.spans += spans.count
        return spans
    }

    /// Runs every queued delivery, whatever its start time (the end of a demo).
    public mutating func drain() -> [Span] {
        var spans: [Span] = []
        while !pending.isEmpty {
            let next = pending.removeFirst()
            _ = invoke(next.function, at: next.start, trigger: next.trigger, carrier: next.carrier, into: &spans)
        }
        stats.spans += spans.count
        return spans
    }

    /// The invocations run since the last call, in the order they ran.
    public mutating func takeInvocations() -> [SimulatedInvocation] {
        defer { invocations = [] }
        return invocations
    }

    /// Invocations queued (SQS/SNS deliveries) that have not started yet.
    public var pendingInvocations: Int { pending.count }

    private mutating func schedule(_ p: Pending) {
        var p = p
        sequence += 1
        p.sequence = sequence
        let i = pending.firstIndex { ($0.start, $0.sequence) > (p.start, p.sequence) } ?? pending.endIndex
        pending.insert(p, at: i)
    }

    private mutating func pickEntry() -> Int {
        let fs = topology.functions
        let total = fs.reduce(0) { $0 + $1.entryWeight }
        var x = rng.unit() * total
        for (i, f) in fs.enumerated() where f.entryWeight > 0 {
            x -= f.entryWeight
            if x < 0 { return i }
        }
        return fs.lastIndex { $0.entryWeight > 0 } ?? 0
    }

    private static func ns(_ ms: Double) -> UInt64 { UInt64(max(0, ms) * 1_000_000) }

    /// Picks an idle instance or starts one; returns its index and whether this is a cold start.
    private mutating func acquire(_ f: Int, at start: UInt64) -> (Int, Bool) {
        instances[f].removeAll { $0.busyUntil &+ $0.keepAlive < start }
        if let i = instances[f].firstIndex(where: { $0.busyUntil <= start }) { return (i, false) }
        let fn = topology.functions[f]
        let id = "\(UTCTime.slashDate(start))/[$LATEST]\(Hex.encode(withUnsafeBytes(of: rng.next()) { Array($0) } + withUnsafeBytes(of: rng.next()) { Array($0) }))"
        let language: String =
            fn.runtime.hasPrefix("nodejs") ? "nodejs"
            : fn.runtime.hasPrefix("python") ? "python" : fn.runtime.hasPrefix("java") ? "java" : "go"
        let resource: [Attribute] = [
            Attribute("service.name", .string(fn.name)),
            Attribute("faas.name", .string(fn.name)),
            Attribute("faas.version", .string("$LATEST")),
            Attribute("faas.instance", .string(id)),
            Attribute("faas.max_memory", .int(Int64(fn.memoryMB) * 1024 * 1024)),
            Attribute("cloud.provider", .string("aws")),
            Attribute("cloud.platform", .string("aws_lambda")),
            Attribute("cloud.region", .string(topology.region)),
            Attribute("cloud.account.id", .string(topology.accountID)),
            Attribute("telemetry.sdk.name", .string("opentelemetry")),
            Attribute("telemetry.sdk.language", .string(language)),
        ]
        let keepAlive = Self.ns((60 + 180 * rng.unit()) * 1000)
        instances[f].append(Instance(id: id, busyUntil: start, keepAlive: keepAlive, resource: resource))
        return (instances[f].count - 1, true)
    }

    private mutating func newSpanID() -> SpanID { SpanID(rng.nonZero()) }

    /// Runs one invocation of function `f` and everything it calls synchronously; queues its
    /// asynchronous deliveries. Returns when it ended and whether it failed.
    private mutating func invoke(
        _ f: Int, at start: UInt64, trigger: DemoTrigger, carrier: MessageCarrier?, into spans: inout [Span]
    ) -> (end: UInt64, failed: Bool) {
        let fn = topology.functions[f]
        let model = models[f]
        let parent = carrier.flatMap { Traceparent(header: $0.traceparent) }
        let traceID = parent?.traceID ?? TraceID(high: rng.nonZero(), low: rng.next())
        let (slot, cold) = acquire(f, at: start)
        let instanceID = instances[f][slot].id
        let resource = instances[f][slot].resource
        let spanID = newSpanID()
        let invocationID = rng.uuid()
        let initMs = cold ? model.coldStart(&rng) : 0
        let ownMs = model.sample(at: start, &rng)
        stats.invocations += 1
        if cold { stats.coldStarts += 1 }

        func span(
            _ id: SpanID, parent: SpanID, _ name: String, _ kind: SpanKind, _ s: UInt64, _ e: UInt64,
            _ attributes: [Attribute], status: StatusCode = .unset, message: String = "", events: [SpanEvent] = []
        ) -> Span {
            Span(
                traceID: traceID, spanID: id, parentSpanID: parent, name: name, kind: kind, statusCode: status,
                statusMessage: message, startTimeUnixNano: s, endTimeUnixNano: e, function: fn.name, service: fn.name,
                scopeName: Self.scopeName, scopeVersion: Self.scopeVersion, attributes: attributes,
                resourceAttributes: resource, events: events)
        }

        var children: [Span] = []
        var cursor = start + Self.ns(initMs + ownMs * 0.1)
        var calleeFailed: String?
        for call in fn.awsCalls {
            let d = Self.ns(ownMs * call.share * (0.7 + 0.6 * rng.unit()))
            children.append(
                span(
                    newSpanID(), parent: spanID, "\(call.service).\(call.operation)", .client, cursor, cursor + d,
                    [
                        Attribute("rpc.system", .string("aws-api")), Attribute("rpc.service", .string(call.service)),
                        Attribute("rpc.method", .string(call.operation)),
                        Attribute("cloud.region", .string(topology.region)),
                    ]))
            cursor += d
        }
        for call in fn.calls where rng.chance(call.probability) {
            switch call.via {
            case .invoke:
                for target in call.targets {
                    let clientID = newSpanID()
                    let clientStart = cursor + Self.ns(1)
                    let context = Traceparent(traceID: traceID, parentID: clientID)
                    let message = MessageCarrier(traceparent: context.description, messageID: rng.uuid())
                    let result = invoke(target, at: clientStart + Self.ns(3 + 4 * rng.unit()), trigger: .invoke, carrier: message, into: &spans)
                    let clientEnd = result.end + Self.ns(2 + 3 * rng.unit())
                    let callee = topology.functions[target].name
                    if result.failed { calleeFailed = callee }
                    children.append(
                        span(
                            clientID, parent: spanID, "Lambda.Invoke", .client, clientStart, clientEnd,
                            [
                                Attribute("rpc.system", .string("aws-api")), Attribute("rpc.service", .string("Lambda")),
                                Attribute("rpc.method", .string("Invoke")), Attribute("faas.invoked_name", .string(callee)),
                                Attribute("faas.invoked_provider", .string("aws")),
                                Attribute("faas.invoked_region", .string(topology.region)),
                            ], status: result.failed ? .error : .unset,
                            message: result.failed ? "Unhandled: \(callee) returned a function error" : ""))
                    cursor = clientEnd
                }
            case .sqs(let queue), .sns(let queue):
                let isSQS: Bool
                if case .sqs = call.via { isSQS = true } else { isSQS = false }
                let producerID = newSpanID()
                let d = Self.ns(4 + 10 * rng.unit())
                let messageID = rng.uuid()
                let context = Traceparent(traceID: traceID, parentID: producerID)
                let message = MessageCarrier(traceparent: context.description, messageID: messageID)
                children.append(
                    span(
                        producerID, parent: spanID, "\(queue) send", .producer, cursor, cursor + d,
                        [
                            Attribute("messaging.system", .string(isSQS ? "aws_sqs" : "aws_sns")),
                            Attribute("messaging.operation.type", .string("send")),
                            Attribute("messaging.operation.name", .string(isSQS ? "SendMessage" : "Publish")),
                            Attribute("messaging.destination.name", .string(queue)),
                            Attribute("messaging.message.id", .string(messageID)),
                            Attribute("rpc.system", .string("aws-api")),
                            Attribute("rpc.service", .string(isSQS ? "SQS" : "SNS")),
                            Attribute("rpc.method", .string(isSQS ? "SendMessage" : "Publish")),
                        ]))
                cursor += d
                for target in call.targets {
                    // SQS: the event source mapping's poll delay; SNS: Lambda's internal async queue.
                    let delay = isSQS ? 20 + 400 * rng.unit() : 30 + 150 * rng.unit()
                    schedule(
                        Pending(
                            function: target, start: cursor + Self.ns(delay),
                            trigger: isSQS ? .sqs(queue: queue) : .sns(topic: queue), carrier: message, sequence: 0))
                }
            }
        }
        let handlerEnd = start + Self.ns(initMs + ownMs)
        let end = max(cursor + Self.ns(ownMs * 0.05), handlerEnd)

        let ownFailure = rng.chance(model.errorProbability(at: start))
        let failed = ownFailure || calleeFailed != nil
        var status: StatusCode = .unset
        var statusMessage = ""
        var events: [SpanEvent] = []
        var error: (type: String, message: String)?
        if failed {
            let exception: (type: String, message: String) =
                ownFailure
                ? fn.exceptions[Int(rng.next() % UInt64(fn.exceptions.count))]
                : ("FunctionError", "\(calleeFailed ?? "") failed")
            error = exception
            status = .error
            statusMessage = "\(exception.type): \(exception.message)"
            events.append(
                SpanEvent(
                    timeUnixNano: end - Self.ns(0.5), name: "exception",
                    attributes: [
                        Attribute("exception.type", .string(exception.type)),
                        Attribute("exception.message", .string(exception.message)),
                        Attribute("exception.stacktrace", .string("\(exception.type): \(exception.message)\n    at handler (/var/task/index:42)")),
                        Attribute("exception.escaped", .bool(true)),
                    ]))
            stats.failedInvocations += 1
        }

        var attributes: [Attribute] = [
            Attribute("faas.trigger", .string(trigger.faasTrigger)),
            Attribute("faas.invocation_id", .string(invocationID)),
            Attribute("faas.coldstart", .bool(cold)),
            Attribute("cloud.resource_id", .string(topology.arn(fn))),
            Attribute("cloud.account.id", .string(topology.accountID)),
        ]
        let name: String
        let kind: SpanKind
        switch trigger {
        case .http(let method, let route):
            name = "\(method) \(route)"
            kind = .server
            attributes += [
                Attribute("http.request.method", .string(method)), Attribute("http.route", .string(route)),
                Attribute("url.scheme", .string("https")),
                Attribute("http.response.status_code", .int(failed ? 500 : 200)),
            ]
        case .timer(let schedule):
            name = fn.name
            kind = .server
            attributes += [Attribute("faas.cron", .string(schedule)), Attribute("faas.time", .string(UTCTime.rfc3339(start)))]
        case .kinesis(let stream):
            name = "\(stream) process"
            kind = .consumer
            attributes += [
                Attribute("messaging.system", .string("aws_kinesis")), Attribute("messaging.operation.type", .string("process")),
                Attribute("messaging.destination.name", .string(stream)), Attribute("aws.kinesis.stream_name", .string(stream)),
                Attribute("messaging.batch.message_count", .int(Int64(1 + rng.next() % 100))),
            ]
        case .sqs(let queue), .sns(let queue):
            let isSQS: Bool
            if case .sqs = trigger { isSQS = true } else { isSQS = false }
            name = "\(queue) process"
            kind = .consumer
            attributes += [
                Attribute("messaging.system", .string(isSQS ? "aws_sqs" : "aws_sns")),
                Attribute("messaging.operation.type", .string("process")),
                Attribute("messaging.destination.name", .string(queue)),
                Attribute("messaging.message.id", .string(carrier?.messageID ?? "")),
            ]
        case .invoke:
            name = fn.name
            kind = .server
        }
        spans.append(
            span(
                spanID, parent: parent?.parentID ?? .zero, name, kind, start, end, attributes, status: status,
                message: statusMessage, events: events))
        invocations.append(
            SimulatedInvocation(
                function: f, requestID: invocationID, traceID: traceID, spanID: spanID, logStream: instanceID,
                start: start, end: end, initMs: cold ? initMs : nil, errorType: error?.type, errorMessage: error?.message))
        spans.append(contentsOf: children)
        if let i = instances[f].firstIndex(where: { $0.id == instanceID }) {
            instances[f][i].busyUntil = max(instances[f][i].busyUntil, end)
        }
        return (end, failed)
    }
}

/// One invocation the simulator ran, as Lambda's platform would report it in the function's logs.
/// Its span is the invocation's root span (same trace and request id); the span covers the init
/// phase of a cold start too, the reported duration does not.
public struct SimulatedInvocation: Sendable, Hashable {
    public var function: Int
    /// Lambda's request id, the span's `faas.invocation_id`.
    public var requestID: String
    public var traceID: TraceID
    public var spanID: SpanID
    /// The execution environment's log stream, the span's `faas.instance`.
    public var logStream: String
    public var start: UInt64
    public var end: UInt64
    /// Set for a cold start, as `faas.coldstart` is.
    public var initMs: Double?
    public var errorType: String?
    public var errorMessage: String?

    /// The handler's time: the span's less the init phase.
    public var durationMs: Double { max(0, Double(end - start) / 1e6 - (initMs ?? 0)) }
    public var failed: Bool { errorType != nil }
}

