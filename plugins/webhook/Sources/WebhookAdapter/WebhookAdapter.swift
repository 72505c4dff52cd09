public import FireflyModel
public import FireflyPluginKit
public import FireflyWire

/// Turns JSON webhook deliveries (GitHub, Vercel, Stripe, anything that POSTs JSON) into metric
/// points through a configured mapping. One instance per sender: `webhook/github`, `webhook/vercel`.
///
/// Strict by design: a request whose events do not fit the mapping (a required field missing or of
/// the wrong type) is refused whole with 400 and nothing is emitted, so a sender's retry after a
/// fix never duplicates the half that had passed.
public final class WebhookAdapter: AdapterPlugin {
    public static let pluginName = "webhook"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = [.metrics]
    public static let pluginDescription = "Maps JSON webhook payloads (object, array or NDJSON) to metric points"

    /// Media types accepted when a Content-Type is present (also any `application/*+json`).
    static let mediaTypes: Set<String> = [
        "application/json", "application/x-ndjson", "application/ndjson", "application/jsonl",
        "application/x-jsonlines", "application/jsonlines", "text/json",
    ]

    let settings: WebhookSettings
    public var path: String { settings.path }
    var auth: WebhookAuth { settings.auth }
    var metrics: [MetricMapping] { settings.metrics }
    private let context: PluginContext

    public var routes: [Route] { [Route("POST", path)] }

    public init(context: PluginContext, config: PluginConfig) throws {
        self.context = context
        settings = try WebhookSettings(instanceName: context.instanceName, config: config)
        if case .none = auth {
            context.log(.warning, "\(context.instanceName): no auth configured; anyone who can reach \(path) can post data")
        }
    }

    /// Credentials checked on the headers, before the host reads the body: a bearer token in full,
    /// a signature's headers (present, well formed, fresh); the signature itself needs the body.
    public func authorize(_ request: PluginRequest) -> PluginResponse? {
        guard request.method == "POST", let failure = auth.verifyHeaders(request, nowUnixNano: context.nowUnixNano()) else { return nil }
        context.log(.debug, "\(context.instanceName): refused a request from \(request.remoteAddress): \(failure.message)")
        context.count("requests", labels: [("status", "401")])
        return Self.error(401, failure.message)
    }

    public func handle(_ request: PluginRequest, sink: any TelemetrySink) -> PluginResponse {
        let response = answer(request, sink: sink)
        context.count("requests", labels: [("status", String(response.status))])
        return response
    }

    private func answer(_ request: PluginRequest, sink: any TelemetrySink) -> PluginResponse {
        guard request.method == "POST" else {
            return Self.error(405, "method \(request.method) not allowed; use POST", headers: [("Allow", "POST")])
        }
        let now = context.nowUnixNano()
        let receipt: ReplayReceipt?
        switch auth.verify(request, nowUnixNano: now) {
        case .success(let r): receipt = r
        case .failure(let failure):
            context.log(.debug, "\(context.instanceName): refused a request from \(request.remoteAddress): \(failure.message)")
            return Self.error(401, failure.message)
        }
        var accepted = false
        defer { receipt?.settle(accepted: accepted) }

        if let type = request.header("content-type"), !Self.isJSONMediaType(type) {
            return Self.error(415, "unsupported Content-Type '\(type)'; send application/json or application/x-ndjson")
        }
        let points: [MetricPoint]
        do {
            points = try self.points(body: request.body, receivedAt: now)
        } catch {
            return Self.badRequest(error)
        }
        if !points.isEmpty {
            switch sink.emit(TelemetryBatch(points: points)) {
            case .ok: break
            case .busy(let ms), .closed(let ms):
                let seconds = max(1, (UInt64(ms) + 999) / 1000)
                return Self.error(503, "collector is busy; retry later", headers: [("Retry-After", String(seconds))])
            case .invalid:
                return Self.error(500, "the collector refused the mapped points")
            }
            context.count("points", by: UInt64(points.count))
        }
        accepted = true
        return PluginResponse(status: 200, contentType: "application/json", body: Array("{\"accepted\":\(points.count)}".utf8))
    }

    /// Maps a whole body (one value, an array of events, or NDJSON) to points; any event that does
    /// not fit fails the whole body. Exposed for tests and tools that check a mapping on a sample.
    public func points(body: [UInt8], receivedAt: UInt64) throws(WebhookBodyError) -> [MetricPoint] {
        let values: [JSON]
        do {
            values = try JSON.parseSequence(body, maxDepth: 256)
        } catch {
            throw .syntax(error, Self.lineColumn(body, error.offset))
        }
        guard !values.isEmpty else { throw .empty }
        var events: [JSON] = []
        for value in values {
            if case .array(let elements) = value { events += elements } else { events.append(value) }
        }
        let single = values.count == 1 && events.count == 1 && !(values[0].isArray)
        var out: [MetricPoint] = []
        for (k, event) in events.enumerated() {
            let scope = Scope(event: event, path: single ? "$" : "$[\(k)]")
            for mapping in metrics {
                do {
                    try mapping.apply(to: scope, receivedAt: receivedAt, into: &out)
                } catch {
                    throw .mapping(error)
                }
            }
        }
        return out
    }

    public func reject(_ request: PluginRequest, status: Int, message: String) -> PluginResponse {
        Self.error(status, message)
    }

    static func isJSONMediaType(_ header: String) -> Bool {
        let media = header.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmed(keepingNewlines: true).lowercased()
        return media.isEmpty || mediaTypes.contains(media) || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }

    static func lineColumn(_ body: [UInt8], _ offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, body.count) where body[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }

    static func error(_ status: Int, _ message: String, headers: [(name: String, value: String)] = []) -> PluginResponse {
        PluginResponse(
            status: status, contentType: "application/json", headers: headers,
            body: Array(JSONText.object(["error": message]).utf8))
    }

    static func badRequest(_ error: WebhookBodyError) -> PluginResponse {
        let fields: [String: String]
        switch error {
        case .empty:
            fields = ["error": "empty body"]
        case .syntax(let e, let position):
            fields = ["error": "invalid JSON at line \(position.line), column \(position.column): \(e.detail)"]
        case .mapping(let failure):
            fields = ["error": failure.message, "field": failure.field, "path": failure.path]
        }
        return PluginResponse(status: 400, contentType: "application/json", body: Array(JSONText.object(fields).utf8))
    }
}

/// Why a body was refused with 400.
public enum WebhookBodyError: Error, Equatable, Sendable {
    case empty
    case syntax(JSONSyntaxError, (line: Int, column: Int))
    case mapping(MappingFailure)

    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.empty, .empty): true
        case (.syntax(let x, let p), .syntax(let y, let q)): x == y && p == q
        case (.mapping(let x), .mapping(let y)): x == y
        default: false
        }
    }
}

extension JSON {
    var isArray: Bool {
        if case .array = self { return true }
        return false
    }
}
