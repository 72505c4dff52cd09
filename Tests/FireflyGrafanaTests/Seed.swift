import FireflyModel
import Foundation

/// Telemetry for the query tests, shaped like what the firehose and otlp adapters emit:
/// CloudWatch Metric Stream summaries (one per metric, dimension set and minute; values are
/// one-minute deltas) and OpenTelemetry spans of a call chain frontend → checkout → inventory.
enum Seed {
    static let minutes = 20
    static let account = Label("cloud.account.id", "123456789012")
    static let region = Label("cloud.region", "eu-west-1")
    /// A second account, in another region, with a function of the same name.
    static let otherAccount = Label("cloud.account.id", "210987654321")
    static let otherRegion = Label("cloud.region", "us-east-1")

    /// The minute timestamps, oldest first, ending one minute before `now`.
    static func times(now: Date) -> [UInt64] {
        let minute = UInt64(now.timeIntervalSince1970 / 60) * 60
        return (1...minutes).reversed().map { (minute - UInt64($0) * 60) * 1_000_000_000 }
    }

    static func lambda(
        _ metric: String, function: String, at t: UInt64, count: Double, sum: Double, min: Double, max: Double,
        quantiles: [Quantile] = [], resource: String? = nil, unit: String = "Count", elsewhere: Bool = false
    ) -> MetricPoint {
        let (account, region) = elsewhere ? (otherAccount, otherRegion) : (account, region)
        // The account-level series (function "") have no FunctionName dimension.
        var labels = function.isEmpty ? [account, region] : [Label("FunctionName", function), account, region]
        if let resource { labels.append(Label("Resource", resource)) }
        return MetricPoint(
            name: metric, namespace: "AWS/Lambda", unit: unit, function: function, kind: .summary, hasMinMax: true,
            isDelta: true, labels: labels, startTimeUnixNano: t - 60_000_000_000, timeUnixNano: t, count: count, sum: sum,
            min: min, max: max, quantiles: [Quantile(0, min)] + quantiles + [Quantile(1, max)])
    }

    static func insights(_ metric: String, function: String, at t: UInt64, count: Double, sum: Double, max: Double, unit: String)
        -> MetricPoint
    {
        MetricPoint(
            name: metric, namespace: "LambdaInsights", unit: unit, function: "", kind: .summary, hasMinMax: true,
            isDelta: true, labels: [Label("function_name", function), account, region],
            startTimeUnixNano: t - 60_000_000_000, timeUnixNano: t, count: count, sum: sum, min: 0, max: max,
            quantiles: [Quantile(0, 0), Quantile(1, max)])
    }

    /// The Function dashboard's stat panels for `checkout` over the seeded range, whichever backend
    /// answers: 20 minutes × 10 invocations (the alias series is not counted again), an error every
    /// 5th minute, 2 throttles every 10th, the duration summaries below, cold starts from spans
    /// (SQL) or Lambda Insights (PromQL).
    static let checkoutStats: [(panel: String, value: Double)] = [
        ("Invocations", 200), ("Errors", 4), ("Error rate", 0.02), ("Throttles", 4), ("Avg duration", 120),
        ("Worst-minute p99", 250), ("Max concurrency", 6), ("Cold starts", 2),
    ]

    /// The Overview's account panels over the seeded range: 20 minutes × 100 invocations and 3
    /// throttles, concurrency 40…46 of which the unreserved pool (900) had 854 left at the lowest.
    static let accountStats: [(panel: String, value: Double)] = [
        ("Account invocations", 2000), ("Account throttles", 60), ("Peak account concurrency", 46),
        ("Lowest unreserved concurrency", 854),
    ]

    /// Per minute for `checkout`: 10 invocations (plus an alias series that must not be counted
    /// twice), an error every 5th minute, 2 throttles every 10th, durations avg 120 ms / p50 110 /
    /// p95 200 / p99 250 / max 300, concurrency 3…6, async and stream metrics. `inventory`: 5 per minute.
    static func points(now: Date) -> [MetricPoint] {
        var out: [MetricPoint] = []
        for (i, t) in times(now: now).enumerated() {
            let fn = "checkout"
            out.append(lambda("Invocations", function: fn, at: t, count: 10, sum: 10, min: 1, max: 1))
            out.append(lambda("Invocations", function: fn, at: t, count: 10, sum: 10, min: 1, max: 1, resource: "checkout:live"))
            let errors: Double = i % 5 == 0 ? 1 : 0
            out.append(lambda("Errors", function: fn, at: t, count: 10, sum: errors, min: 0, max: errors))
            let throttles: Double = i % 10 == 0 ? 2 : 0
            out.append(lambda("Throttles", function: fn, at: t, count: 2, sum: throttles, min: 0, max: throttles))
            out.append(
                lambda(
                    "Duration", function: fn, at: t, count: 10, sum: 1200, min: 50, max: 300,
                    quantiles: [Quantile(0.5, 110), Quantile(0.95, 200), Quantile(0.99, 250)], unit: "Milliseconds"))
            let concurrency = Double(3 + i % 4)
            out.append(lambda("ConcurrentExecutions", function: fn, at: t, count: 1, sum: concurrency, min: concurrency, max: concurrency))
            out.append(lambda("AsyncEventAge", function: fn, at: t, count: 5, sum: 500, min: 20, max: 300, unit: "Milliseconds"))
            out.append(lambda("AsyncEventsDropped", function: fn, at: t, count: 1, sum: i % 4 == 0 ? 1 : 0, min: 0, max: 1))
            out.append(lambda("IteratorAge", function: fn, at: t, count: 2, sum: 2000, min: 500, max: 1500, unit: "Milliseconds"))
            out.append(lambda("Invocations", function: "inventory", at: t, count: 5, sum: 5, min: 1, max: 1))
            out.append(
                lambda(
                    "Duration", function: "inventory", at: t, count: 5, sum: 200, min: 20, max: 80,
                    quantiles: [Quantile(0.5, 35), Quantile(0.95, 70), Quantile(0.99, 78)], unit: "Milliseconds"))
            if i == 3 || i == 12 {
                out.append(insights("init_duration", function: fn, at: t, count: 1, sum: 480, max: 480, unit: "Milliseconds"))
            }
            out.append(insights("total_memory", function: fn, at: t, count: 1, sum: 512, max: 512, unit: "Megabytes"))
            // checkout in the other account and region: 7 invocations a minute, never added to the first's.
            out.append(lambda("Invocations", function: fn, at: t, count: 7, sum: 7, min: 1, max: 1, elsewhere: true))
            // The account's own series, larger than any function's (other functions run in the account).
            out.append(lambda("Invocations", function: "", at: t, count: 100, sum: 100, min: 1, max: 1))
            out.append(lambda("Throttles", function: "", at: t, count: 3, sum: 3, min: 0, max: 1))
            out.append(lambda("Duration", function: "", at: t, count: 100, sum: 9000, min: 5, max: 900, unit: "Milliseconds"))
            let accountConcurrency = Double(40 + i % 7)
            out.append(lambda(
                "ConcurrentExecutions", function: "", at: t, count: 1, sum: accountConcurrency, min: accountConcurrency,
                max: accountConcurrency))
            out.append(lambda(
                "UnreservedConcurrentExecutions", function: "", at: t, count: 1, sum: 900 - accountConcurrency,
                min: 900 - accountConcurrency, max: 900 - accountConcurrency))
        }
        return out
    }

    static let coldTrace = TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")!
    static let errorTrace = TraceID(hex: "0af7651916cd43dd8448eb211c80319c")!
    static let inventoryTrace = TraceID(hex: "11112222333344445555666677778888")!

    /// frontend (server, client) → checkout (server, client, producer to the `orders` queue) →
    /// inventory (server, client to DynamoDB), twice: the first a cold start, the second failing in
    /// checkout; plus one trace of inventory alone, consuming the first trace's message.
    static func spans(now: Date) -> [Span] {
        let base = UInt64((now.timeIntervalSince1970 - 600) * 1e9)
        func ms(_ v: UInt64) -> UInt64 { v * 1_000_000 }
        func chain(_ trace: TraceID, at start: UInt64, salt: UInt64, coldStart: Bool, error: Bool) -> [Span] {
            let frontend = [Attribute("service.name", .string("frontend"))]
            let checkout = [
                Attribute("service.name", .string("checkout")), Attribute("faas.name", .string("checkout")),
                Attribute("cloud.provider", .string("aws")), Attribute("faas.max_memory", .int(536_870_912)),
            ]
            // faas.max_memory in MiB, as older semantic conventions wrote it (checkout's is in bytes).
            let inventory = [
                Attribute("service.name", .string("inventory")), Attribute("faas.name", .string("inventory")),
                Attribute("faas.max_memory", .int(256)),
            ]
            return [
                Span(
                    traceID: trace, spanID: SpanID(salt + 1), name: "GET /checkout", kind: .server,
                    startTimeUnixNano: start, endTimeUnixNano: start + ms(300), function: "frontend", service: "frontend",
                    attributes: [Attribute("http.request.method", .string("GET"))], resourceAttributes: frontend),
                Span(
                    traceID: trace, spanID: SpanID(salt + 2), parentSpanID: SpanID(salt + 1), name: "POST checkout",
                    kind: .client, startTimeUnixNano: start + ms(10), endTimeUnixNano: start + ms(290), function: "frontend",
                    service: "frontend", resourceAttributes: frontend),
                Span(
                    traceID: trace, spanID: SpanID(salt + 3), parentSpanID: SpanID(salt + 2), name: "checkout-handler",
                    kind: .server, statusCode: error ? .error : .unset, statusMessage: error ? "payment declined" : "",
                    startTimeUnixNano: start + ms(20), endTimeUnixNano: start + ms(280), function: "checkout",
                    service: "checkout",
                    attributes: [Attribute("faas.coldstart", .bool(coldStart)), Attribute("faas.trigger", .string("http"))],
                    resourceAttributes: checkout,
                    // An exception where the call fails, a milestone otherwise; both point at the restock
                    // trace the checkout set off.
                    events: [
                        error
                            ? SpanEvent(
                                timeUnixNano: start + ms(270), name: "exception",
                                attributes: [
                                    Attribute("exception.type", .string("PaymentDeclined")),
                                    Attribute("exception.message", .string("payment declined")),
                                ])
                            : SpanEvent(timeUnixNano: start + ms(200), name: "cart loaded", attributes: [Attribute("items", .int(3))])
                    ],
                    links: [SpanLink(traceID: inventoryTrace, spanID: SpanID(0x901), attributes: [Attribute("reason", .string("restock"))])]),
                Span(
                    traceID: trace, spanID: SpanID(salt + 4), parentSpanID: SpanID(salt + 3), name: "GET inventory",
                    kind: .client, startTimeUnixNano: start + ms(50), endTimeUnixNano: start + ms(150), function: "checkout",
                    service: "checkout", resourceAttributes: checkout),
                Span(
                    traceID: trace, spanID: SpanID(salt + 5), parentSpanID: SpanID(salt + 4), name: "reserve",
                    kind: .server, startTimeUnixNano: start + ms(60), endTimeUnixNano: start + ms(140), function: "inventory",
                    service: "inventory", attributes: [Attribute("faas.coldstart", .bool(false))],
                    resourceAttributes: inventory),
                // Calls to what is not instrumented: a message to the `orders` queue, a DynamoDB update
                // (which fails in the failing trace).
                Span(
                    traceID: trace, spanID: SpanID(salt + 6), parentSpanID: SpanID(salt + 3), name: "orders publish",
                    kind: .producer, startTimeUnixNano: start + ms(250), endTimeUnixNano: start + ms(260), function: "checkout",
                    service: "checkout",
                    attributes: [Attribute("messaging.system", .string("aws_sqs")), Attribute("messaging.destination.name", .string("orders"))],
                    resourceAttributes: checkout),
                Span(
                    traceID: trace, spanID: SpanID(salt + 7), parentSpanID: SpanID(salt + 5), name: "DynamoDB.UpdateItem",
                    kind: .client, statusCode: error ? .error : .unset, startTimeUnixNano: start + ms(70),
                    endTimeUnixNano: start + ms(120), function: "inventory", service: "inventory",
                    attributes: [Attribute("db.system", .string("dynamodb")), Attribute("rpc.service", .string("DynamoDB"))],
                    resourceAttributes: inventory),
            ]
        }
        // inventory consuming the cold trace's `orders` message in a trace of its own, linked to the send.
        let alone = Span(
            traceID: inventoryTrace, spanID: SpanID(0x901), name: "restock", kind: .consumer,
            startTimeUnixNano: base + ms(5000), endTimeUnixNano: base + ms(5040), function: "inventory", service: "inventory",
            resourceAttributes: [Attribute("service.name", .string("inventory"))],
            links: [SpanLink(traceID: coldTrace, spanID: SpanID(0x106))])
        return chain(coldTrace, at: base, salt: 0x100, coldStart: true, error: false)
            + chain(errorTrace, at: base + ms(60_000), salt: 0x200, coldStart: false, error: true) + [alone]
    }

    /// Invocations of checkout as its REPORT lines give them, one a minute for ten minutes from
    /// `now` − 15 min: durations 100, 200, …, 1000 ms; the first a cold start (init 250 ms, the
    /// cold trace), the 4th timed out, the 7th out of memory, the 9th an error (the error trace);
    /// 512 MB, max used 200 + 20·n MB, billed = duration + 1 ms. One invocation of inventory.
    static func invocations(now: Date) -> [Invocation] {
        let base = UInt64((now.timeIntervalSince1970 - 900) * 1e9)
        var out: [Invocation] = (1...10).map { n in
            let status: InvocationStatus = n == 4 ? .timeout : n == 7 ? .outOfMemory : n == 9 ? .error : .success
            return Invocation(
                function: "checkout", version: "$LATEST", requestID: requestID(n), startTimeUnixNano: base + UInt64(n - 1) * 60_000_000_000,
                durationMs: Double(n) * 100, billedDurationMs: Double(n) * 100 + 1, memorySizeMB: 512,
                maxMemoryUsedMB: UInt32(200 + 20 * n), initDurationMs: n == 1 ? 250 : nil, status: status,
                errorType: n == 7 ? "Runtime.OutOfMemory" : n == 9 ? "Error" : "",
                traceID: n == 1 ? coldTrace : n == 9 ? errorTrace : .zero,
                attributes: [Attribute("cloud.account.id", .string("123456789012"))])
        }
        out.append(Invocation(function: "inventory", requestID: "inventory-1", startTimeUnixNano: base, durationMs: 40,
                              billedDurationMs: 41, memorySizeMB: 128, maxMemoryUsedMB: 64))
        return out
    }

    static func requestID(_ n: Int) -> String { "00000000-0000-4000-8000-0000000000\(n < 10 ? "0" : "")\(n)" }

    /// checkout's log lines for the invocations above: START, an application line, REPORT (text
    /// format); the cold invocation's lines carry the cold trace, the failed one's an ERROR line.
    static func logs(now: Date) -> [LogRecord] {
        var out: [LogRecord] = []
        for inv in invocations(now: now) where inv.function == "checkout" {
            let id = inv.requestID
            func line(_ offsetMs: UInt64, _ severity: UInt8, _ text: String, _ body: String) -> LogRecord {
                LogRecord(
                    timeUnixNano: inv.startTimeUnixNano + offsetMs * 1_000_000, observedTimeUnixNano: inv.startTimeUnixNano,
                    severityNumber: severity, severityText: text, body: .string(body),
                    attributes: [Attribute("faas.invocation_id", .string(id))],
                    resourceAttributes: [Attribute("faas.name", .string("checkout"))],
                    traceID: inv.traceID, spanID: inv.traceID == coldTrace ? SpanID(0x103) : inv.traceID == errorTrace ? SpanID(0x203) : .zero,
                    function: "checkout", recordID: "\(id)-\(offsetMs)")
            }
            out.append(line(0, 9, "INFO", "START RequestId: \(id) Version: $LATEST"))
            out.append(line(1, 9, "INFO", "handling order"))
            if inv.status != .success { out.append(line(2, 17, "ERROR", "\(inv.status.name): order failed\n    at handler (/var/task/index.mjs:42:11)")) }
            out.append(line(UInt64(inv.durationMs), 9, "INFO", "REPORT RequestId: \(id)\tDuration: \(inv.durationMs) ms"))
        }
        return out
    }
}
