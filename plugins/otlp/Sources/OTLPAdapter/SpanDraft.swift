// The fields of one OTLP span as either decoder reads them, and the shared rules that turn them into a model Span.
package import FireflyModel

/// What one request decoded to: the telemetry kept, and how many items were rejected and why
/// (for `partial_success`).
package struct DecodeOutcome {
    package var batch = TelemetryBatch()
    var rejected = 0
    private(set) var firstProblem: String?

    mutating func reject(_ count: Int, _ reason: String) {
        guard count > 0 else { return }
        rejected += count
        if firstProblem == nil { firstProblem = reason }
    }

    /// `partial_success.error_message`: the first problem, and how many items were rejected in all.
    var problemSummary: String {
        guard let firstProblem else { return "" }
        return "\(rejected) rejected; first problem: \(firstProblem)"
    }
}

/// A resource's attributes with what every span and point under it needs, computed once.
struct ResourceContext {
    /// The resource attributes copied into metric labels (data point attributes win over them).
    static let labelKeys = ["service.name", "faas.name", "cloud.region", "cloud.account.id"]

    let attributes: [Attribute]
    let service: String
    let labels: [Label]

    init(attributes: [Attribute]) {
        self.attributes = attributes
        if case .string(let s)? = attributes[key: "service.name"] { service = s } else { service = "" }
        var labels: [Label] = []
        for key in Self.labelKeys {
            if let v = attributes[key: key] {
                let text = v.labelText
                if !text.isEmpty { labels.append(Label(key, text)) }
            }
        }
        self.labels = labels
    }
}

/// An instrumentation scope's name and version.
struct ScopeInfo {
    var name = ""
    var version = ""
}

/// One span's fields as decoded. Ids are nil when absent or malformed; `finish` applies the
/// validity rules (OTLP: trace id 16 bytes not all zero, span id 8 bytes not all zero, parent empty or 8 bytes).
struct SpanDraft {
    var traceID: TraceID?
    var spanID: SpanID?
    /// `.zero` for a root span (empty `parent_span_id`); nil when malformed.
    var parentSpanID: SpanID? = .zero
    var traceState = ""
    var name = ""
    var kind: UInt64 = 0
    var startTimeUnixNano: UInt64 = 0
    var endTimeUnixNano: UInt64 = 0
    var attributes: [Attribute] = []
    var events: [SpanEvent] = []
    var links: [SpanLink] = []
    var statusCode: UInt64 = 0
    var statusMessage = ""

    /// The model span, or the reason the span is rejected.
    func finish(resource: ResourceContext, scope: ScopeInfo) -> Result<Span, SpanRejection> {
        guard let traceID, traceID.isValid else { return .failure(SpanRejection(name: name, field: "trace_id")) }
        guard let spanID, spanID.isValid else { return .failure(SpanRejection(name: name, field: "span_id")) }
        guard let parentSpanID else { return .failure(SpanRejection(name: name, field: "parent_span_id")) }
        return .success(
            Span(
                traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, traceState: traceState,
                name: name, kind: SpanKind(rawValue: UInt32(clamping: kind)) ?? .unspecified,
                statusCode: StatusCode(rawValue: UInt32(clamping: statusCode)) ?? .unset, statusMessage: statusMessage,
                startTimeUnixNano: startTimeUnixNano, endTimeUnixNano: endTimeUnixNano,
                function: FunctionResolver.function(spanAttributes: attributes, resourceAttributes: resource.attributes),
                service: resource.service, scopeName: scope.name, scopeVersion: scope.version,
                attributes: attributes, resourceAttributes: resource.attributes, events: events, links: links))
    }
}

/// Why a span was dropped: an invalid id.
struct SpanRejection: Error {
    var name: String
    var field: String
    var description: String { "span '\(name)' has an invalid \(field)" }
}

/// One link's fields as decoded; a link whose ids are invalid is dropped (it points nowhere).
struct LinkDraft {
    var traceID: TraceID?
    var spanID: SpanID?
    var traceState = ""
    var attributes: [Attribute] = []

    var link: SpanLink? {
        guard let traceID, traceID.isValid, let spanID, spanID.isValid else { return nil }
        return SpanLink(traceID: traceID, spanID: spanID, traceState: traceState, attributes: attributes)
    }
}
