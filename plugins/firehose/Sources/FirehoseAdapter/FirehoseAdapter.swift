public import FireflyModel
public import FireflyPluginKit
import Synchronization

/// Receives CloudWatch Metric Streams and CloudWatch Logs subscriptions delivered by Amazon Data
/// Firehose to an HTTP endpoint: checks the access key, decodes the delivery envelope and its
/// records (CloudWatch JSON or OpenTelemetry 1.0/0.7 into delta SUMMARY points; gzip'd CloudWatch
/// Logs into log records and Lambda invocations), hands them to the collector and answers in
/// Firehose's protocol — 200 only once everything is durable in the queue.
public final class FirehoseAdapter: AdapterPlugin {
    public static let pluginName = "firehose"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = [.metrics, .logs]
    public static let pluginDescription =
        "CloudWatch Metric Streams (json, opentelemetry1.0) and CloudWatch Logs subscriptions via Amazon Data Firehose HTTP endpoint delivery"

    public let settings: FirehoseSettings
    public let routes: [Route]
    private let keys: AccessKeys
    private let context: PluginContext
    private let nowUnixNano: @Sendable () -> UInt64
    /// Rejection reasons already logged: each kind is logged once per instance, then only counted.
    private let loggedReasons = Mutex<Set<RecordRejection.Reason>>([])
    private let loggedBadCommonAttributes = Mutex(false)

    public convenience init(context: PluginContext, config: PluginConfig) throws {
        let clock: @Sendable () -> UInt64 = { [context] in context.nowUnixNano() }
        try self.init(context: context, config: config, nowUnixNano: clock)
    }

    /// With an injected clock, for tests that assert exact response bodies.
    public init(context: PluginContext, config: PluginConfig, nowUnixNano: @escaping @Sendable () -> UInt64) throws {
        let settings = try FirehoseSettings(config)
        self.settings = settings
        self.context = context
        self.nowUnixNano = nowUnixNano
        keys = AccessKeys(settings.accessKeys)
        routes = ["POST", "GET", "HEAD"].map { Route($0, settings.path) }
        if settings.accessKeys.isEmpty {
            context.log(
                .warning,
                "firehose receiver '\(context.instanceName)': access_keys is empty, so any caller can post data to "
                    + "\(settings.path); set FIREHOSE_ACCESS_KEY or access_keys to the Firehose stream's access key")
        }
    }

    private var nowMs: UInt64 { nowUnixNano() / 1_000_000 }

    public func handle(_ request: PluginRequest, sink: any TelemetrySink) -> PluginResponse {
        let headerRequestId = request.header("x-amz-firehose-request-id")
        switch request.method {
        case "POST": break
        case "GET", "HEAD":
            // Load-balancer health checks probe the Firehose path itself.
            let ok = FirehoseResponse.make(status: 200, requestId: headerRequestId ?? "", timestampMs: nowMs)
            return request.method == "HEAD" ? PluginResponse(status: 200, contentType: ok.contentType) : ok
        default:
            return FirehoseResponse.make(
                status: 405, requestId: headerRequestId ?? "", timestampMs: nowMs,
                errorMessage: "method \(request.method) not allowed; Firehose delivers with POST")
        }

        if let refusal = authorize(request) { return refusal }

        let commonLabels = commonAttributes(request.header("x-amz-firehose-common-attributes"))
        // Every point gets these: their number multiplies the work, so it has the points' limit.
        if commonLabels.count > DecodeLimits.labelsPerPoint {
            return FirehoseResponse.make(
                status: 400, requestId: headerRequestId ?? "", timestampMs: nowMs,
                errorMessage: "X-Amz-Firehose-Common-Attributes has more than \(DecodeLimits.labelsPerPoint) attributes (the limit per data point)")
        }
        let decoder = FirehoseRequestDecoder(
            format: settings.recordFormat, commonLabels: commonLabels, observedTimeUnixNano: nowUnixNano())
        let delivery: FirehoseDelivery
        do {
            delivery = try decoder.decode(body: request.body)
        } catch {
            return FirehoseResponse.make(
                status: 400, requestId: error.requestId ?? headerRequestId ?? "", timestampMs: nowMs, errorMessage: error.message)
        }
        // Answers carry the header's id, as AWS's own endpoints and the OpenTelemetry receiver do:
        // it is the one Firehose matches the response against.
        let requestId = headerRequestId ?? delivery.requestId
        if let headerRequestId, headerRequestId != delivery.requestId {
            return FirehoseResponse.make(
                status: 400, requestId: headerRequestId, timestampMs: nowMs,
                errorMessage: "different request id in body and X-Amz-Firehose-Request-Id header")
        }

        if !delivery.rejections.isEmpty {
            record(delivery.rejections, refusing: settings.rejectMalformedRecords)
            if let over = delivery.rejections.first(where: { $0.reason == .limitExceeded }) {
                return FirehoseResponse.make(
                    status: 400, requestId: requestId, timestampMs: nowMs, errorMessage: "record over a limit: \(over)")
            }
            if settings.rejectMalformedRecords {
                let first = delivery.rejections[0]
                let more = delivery.rejections.count > 1 ? " (and \(delivery.rejections.count - 1) more)" : ""
                return FirehoseResponse.make(
                    status: 400, requestId: requestId, timestampMs: nowMs,
                    errorMessage: "malformed record: \(first)\(more)")
            }
        }

        for batch in Self.batches(delivery, itemsPerBatch: settings.maxPointsPerEmit) {
            switch sink.emit(batch) {
            case .ok: break
            case .busy(let retryAfter):
                return unavailable(requestId, "the collector's queue is full; retry later", retryAfter)
            case .closed(let retryAfter):
                return unavailable(requestId, "the collector is shutting down; retry later", retryAfter)
            case .invalid:
                return FirehoseResponse.make(
                    status: 500, requestId: requestId, timestampMs: nowMs,
                    errorMessage: "the collector refused the decoded points (a firehose plugin bug); retry later")
            }
        }
        return FirehoseResponse.make(status: 200, requestId: requestId, timestampMs: nowMs)
    }

    /// The delivery as the batches handed to `sink.emit`: points, then log records with the
    /// invocations, at most `itemsPerBatch` of each kind per batch.
    static func batches(_ delivery: FirehoseDelivery, itemsPerBatch n: Int) -> [TelemetryBatch] {
        func chunks<T>(_ items: [T]) -> [[T]] {
            if items.count <= n { return items.isEmpty ? [] : [items] }
            return stride(from: 0, to: items.count, by: n).map { Array(items[$0..<min($0 + n, items.count)]) }
        }
        var out = chunks(delivery.points).map { TelemetryBatch(points: $0) }
        let logs = chunks(delivery.logs)
        let invocations = chunks(delivery.invocations)
        for i in 0..<max(logs.count, invocations.count) {
            out.append(
                TelemetryBatch(logs: i < logs.count ? logs[i] : [], invocations: i < invocations.count ? invocations[i] : []))
        }
        return out
    }

    private func unavailable(_ requestId: String, _ message: String, _ retryAfterMs: UInt32) -> PluginResponse {
        // Every 503 says when to come back: the collector's hint in whole seconds, else one second.
        let headers = [(name: "Retry-After", value: String(max(1, (retryAfterMs + 999) / 1000)))]
        return FirehoseResponse.make(status: 503, requestId: requestId, timestampMs: nowMs, errorMessage: message, headers: headers)
    }

    /// The access key check, on the headers alone: the host calls it before reading the body, so a
    /// sender without the key holds no request slot while it uploads.
    public func authorize(_ request: PluginRequest) -> PluginResponse? {
        guard !keys.isEmpty, request.method == "POST" else { return nil }
        let presented = request.header("x-amz-firehose-access-key")
        if keys.accepts(presented) { return nil }
        let message = presented == nil ? "missing X-Amz-Firehose-Access-Key header" : "invalid firehose access key"
        return FirehoseResponse.make(
            status: 401, requestId: request.header("x-amz-firehose-request-id") ?? "", timestampMs: nowMs, errorMessage: message)
    }

    /// Errors the host found before `handle` (413 too large, 400 bad gzip, 415 encoding, 503
    /// shutting down), in Firehose's response format.
    public func reject(_ request: PluginRequest, status: Int, message: String) -> PluginResponse {
        FirehoseResponse.make(
            status: status, requestId: request.header("x-amz-firehose-request-id") ?? "", timestampMs: nowMs,
            errorMessage: message)
    }

    /// Counts every rejection by reason and logs the first of each kind.
    private func record(_ rejections: [RecordRejection], refusing: Bool) {
        var byReason: [RecordRejection.Reason: (count: UInt64, first: RecordRejection)] = [:]
        for r in rejections {
            if let seen = byReason[r.reason] { byReason[r.reason] = (seen.count + 1, seen.first) } else { byReason[r.reason] = (1, r) }
        }
        for reason in RecordRejection.Reason.allCases {
            guard let (count, first) = byReason[reason] else { continue }
            context.count("firehose_records_rejected", labels: [("reason", reason.rawValue)], by: count)
            let isNew = loggedReasons.withLock { $0.insert(reason).inserted }
            if isNew {
                context.log(
                    .warning,
                    "firehose receiver '\(context.instanceName)': "
                        + (refusing || reason == .limitExceeded ? "refusing requests (400) that hold malformed records" : "skipping malformed records")
                        + " (\(reason.rawValue)), e.g. \(first); "
                        + "further ones of this kind are only counted in firefly_plugin_firehose_records_rejected_total")
            }
        }
    }

    /// `X-Amz-Firehose-Common-Attributes: {"commonAttributes": {"k": "v", …}}` as labels. A header
    /// that does not parse is ignored (logged once), as the OpenTelemetry receiver does.
    private func commonAttributes(_ header: String?) -> [Label] {
        guard let header, !header.isEmpty else { return [] }
        if let labels = CommonAttributes.parse(header) { return labels }
        let isNew = loggedBadCommonAttributes.withLock { logged in
            defer { logged = true }
            return !logged
        }
        if isNew { context.log(.info, "firehose receiver '\(context.instanceName)': ignoring unreadable X-Amz-Firehose-Common-Attributes header") }
        return []
    }
}
