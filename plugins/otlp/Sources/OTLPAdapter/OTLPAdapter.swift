// The `otlp` receiver: OTLP/HTTP and OTLP/gRPC traces, metrics and logs into the Firefly pipeline.
public import FireflyModel
import FireflyWire
public import FireflyPluginKit
import Synchronization

/// Receives OTLP/HTTP exports from OpenTelemetry SDKs, the ADOT Lambda layer and collectors.
///
/// Serves `POST /v1/traces`, `POST /v1/metrics` and `POST /v1/logs` (configurable) in
/// `application/x-protobuf` and `application/json`, answers per the OTLP/HTTP specification (200 +
/// `Export*ServiceResponse`, `partial_success` for dropped items, `google.rpc.Status` errors in the
/// request's encoding), and acknowledges only after the sink made the batch durable. Lambda
/// `platform.report` log records also become invocations (`PlatformReport`).
public final class OTLPAdapter: AdapterPlugin {
    public static let pluginName = "otlp"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = [.metrics, .traces, .logs]
    public static let pluginDescription = "OTLP receiver for traces, metrics and logs (HTTP protobuf/JSON and gRPC)"

    public let config: OTLPSettings
    private let context: PluginContext
    private let token: [UInt8]
    private let listener = Mutex<OTLPGRPCListener?>(nil)
    /// Memory for decoding protobuf traces, reused across requests.
    private let traceWorkspaces = TraceWorkspacePool()

    /// Threads that run `sink.emit` for gRPC calls (the HTTP path uses the host's workers).
    static let grpcEmitThreads = 16

    public init(context: PluginContext, config: PluginConfig) throws {
        self.context = context
        self.config = try OTLPSettings(config)
        token = Array(self.config.bearerToken.utf8)
        if token.isEmpty {
            context.log(.info, "otlp receiver '\(context.instanceName)' accepts unauthenticated requests (bearer_token is empty)")
        }
    }

    /// Starts the OTLP/gRPC listener (unless `grpc.enabled: false`); throws when the port cannot
    /// be bound, so the collector refuses to start with the reason.
    public func start(sink: any TelemetrySink) throws {
        guard config.grpc.enabled else { return }
        try listener.withLock { current in
            guard current == nil else { return }
            let emitter = BlockingEmitter(sink: sink, threads: Self.grpcEmitThreads)
            let exporter = OTLPGRPCExporter(
                token: token, retryAfterSeconds: config.retryAfterSeconds, context: context, emitter: emitter)
            do {
                current = try OTLPGRPCListener(settings: config.grpc, exporter: exporter, context: context)
            } catch {
                emitter.close()
                throw error
            }
            context.log(.info, "otlp receiver '\(context.instanceName)' serves OTLP/gRPC on \(config.grpc.host):\(current!.port)")
        }
    }

    /// Stops the gRPC server and waits until it has stopped and no emit is in flight.
    public func stop() {
        let running = listener.withLock { current -> OTLPGRPCListener? in
            defer { current = nil }
            return current
        }
        running?.stop()
    }

    /// The bound OTLP/gRPC port while started (the kernel's choice for `grpc.listen: host:0`).
    public var grpcPort: Int? { listener.withLock { $0?.port } }

    public var routes: [Route] {
        var r = [Route("POST", config.tracesPath), Route("POST", config.metricsPath)]
        if !config.logsPath.isEmpty { r.append(Route("POST", config.logsPath)) }
        return r
    }

    /// The bearer token check, on the headers alone: the host calls it before reading the body.
    public func authorize(_ request: PluginRequest) -> PluginResponse? {
        guard let answer = refusal(request) else { return nil }
        context.count("requests", labels: [("path", request.path), ("status", String(answer.status))])
        return answer
    }

    private func refusal(_ request: PluginRequest) -> PluginResponse? {
        if isAuthorized(request) { return nil }
        return OTLPResponses.status(
            401, .unauthenticated, "missing or invalid bearer token", OTLPEncoding(contentType: request.header("content-type")) ?? .json,
            headers: [(name: "WWW-Authenticate", value: "Bearer")])
    }

    public func handle(_ request: PluginRequest, sink: any TelemetrySink) -> PluginResponse {
        let encoding = OTLPEncoding(contentType: request.header("content-type"))
        let answer = respond(request, encoding: encoding, sink: sink)
        context.count("requests", labels: [("path", request.path), ("status", String(answer.status))])
        return answer
    }

    private func respond(_ request: PluginRequest, encoding: OTLPEncoding?, sink: any TelemetrySink) -> PluginResponse {
        // Errors before the encoding is known are answered in JSON (readable by people and clients).
        let errorEncoding = encoding ?? .json
        if let refusal = refusal(request) { return refusal }
        let signal: Signal
        switch request.path {
        case config.tracesPath: signal = .traces
        case config.metricsPath: signal = .metrics
        case config.logsPath where !config.logsPath.isEmpty: signal = .logs
        default:
            return OTLPResponses.status(404, .unimplemented, "no OTLP signal is served at \(request.path)", errorEncoding)
        }
        guard let encoding else {
            let given = request.header("content-type") ?? "none"
            return PluginResponse(
                status: 415, contentType: "text/plain; charset=utf-8",
                body: Array("415 unsupported media type '\(given)': send application/x-protobuf or application/json\n".utf8))
        }

        if signal == .traces, encoding == .protobuf { return respondTraces(request.body, sink: sink) }

        let outcome: DecodeOutcome
        do {
            outcome = try Self.decode(request.body, signal: signal, encoding: encoding)
        } catch {
            return undecodable(signal, encoding, error)
        }
        if !outcome.batch.isEmpty, let refusal = refusal(sink.emit(outcome.batch), signal: signal, encoding: encoding) {
            return refusal
        }
        return accepted(
            signal, encoding, kept: signal.kept(outcome.batch), invocations: outcome.batch.invocations.count, outcome: outcome)
    }

    /// Protobuf traces: decoded straight into a C batch (no Swift values) and emitted as such; the
    /// body and the workspace the batch was decoded into outlive the emit.
    private func respondTraces(_ body: [UInt8], sink: any TelemetrySink) -> PluginResponse {
        traceWorkspaces.withWorkspace { workspace in
            body.withUnsafeBytes { raw in
                let decoded: CTraceOutcome
                do throws(OTLPDecodeError) {
                    decoded = try TraceProtoDecoder.decode(raw, in: workspace)
                } catch {
                    return undecodable(.traces, .protobuf, error)
                }
                if decoded.spanCount > 0, let refusal = refusal(sink.emit(decoded.batch), signal: .traces, encoding: .protobuf) {
                    return refusal
                }
                return accepted(.traces, .protobuf, kept: decoded.spanCount, invocations: 0, outcome: decoded.problems)
            }
        }
    }

    /// 400 for a body that does not decode.
    private func undecodable(_ signal: Signal, _ encoding: OTLPEncoding, _ error: OTLPDecodeError) -> PluginResponse {
        let form = encoding == .protobuf ? "protobuf" : "JSON"
        return OTLPResponses.status(
            400, .invalidArgument, "cannot decode \(signal.requestName) (\(form)): \(error.message)", encoding)
    }

    /// The answer when the sink did not take the batch, nil when it did.
    private func refusal(_ status: EmitStatus, signal: Signal, encoding: OTLPEncoding) -> PluginResponse? {
        switch status {
        case .ok:
            return nil
        case .busy(let hint):
            let code: RPCCode = config.busyStatus == 429 ? .resourceExhausted : .unavailable
            return OTLPResponses.status(
                config.busyStatus, code, "the collector's queue is full; retry later", encoding,
                headers: [(name: "Retry-After", value: retryAfter(hint))])
        case .closed(let hint):
            return OTLPResponses.status(
                503, .unavailable, "the collector is shutting down; retry later", encoding,
                headers: [(name: "Retry-After", value: retryAfter(hint))])
        case .invalid:
            context.log(.error, "the collector rejected a decoded \(signal.rawValue) batch as invalid")
            return OTLPResponses.status(500, .internal, "the collector rejected the decoded batch", encoding)
        }
    }

    /// Counts what was kept and rejected and answers 200 (with `partial_success` when items were rejected).
    private func accepted(
        _ signal: Signal, _ encoding: OTLPEncoding, kept: Int, invocations: Int, outcome: DecodeOutcome
    ) -> PluginResponse {
        context.count("\(signal.unit)_accepted", by: UInt64(kept))
        if outcome.rejected > 0 { context.count("\(signal.unit)_rejected", by: UInt64(outcome.rejected)) }
        if invocations > 0 { context.count("invocations_accepted", by: UInt64(invocations)) }
        return OTLPResponses.success(encoding, signal: signal, rejected: outcome.rejected, message: outcome.problemSummary)
    }

    /// Errors the host found before `handle` (413, bad gzip, unknown Content-Encoding, shutting
    /// down) as a `google.rpc.Status` in the request's encoding.
    public func reject(_ request: PluginRequest, status: Int, message: String) -> PluginResponse {
        let encoding = OTLPEncoding(contentType: request.header("content-type")) ?? .json
        let code: RPCCode
        var headers: [(name: String, value: String)] = []
        switch status {
        case 429:
            code = .resourceExhausted
            headers.append((name: "Retry-After", value: String(config.retryAfterSeconds)))
        case 503:
            code = .unavailable
            headers.append((name: "Retry-After", value: String(config.retryAfterSeconds)))
        case 500...: code = .internal
        default: code = .invalidArgument
        }
        return OTLPResponses.status(status, code, message, encoding, headers: headers)
    }

    /// Decodes a request body of either signal and encoding.
    static func decode(_ body: [UInt8], signal: Signal, encoding: OTLPEncoding) throws(OTLPDecodeError) -> DecodeOutcome {
        switch (signal, encoding) {
        case (.traces, .protobuf): return try TraceProtoDecoder.decode(body)
        case (.traces, .json): return try JSONDecoders.traces(body)
        case (.metrics, .protobuf): return try MetricsProtoDecoder.decode(body)
        case (.metrics, .json): return try JSONDecoders.metrics(body)
        case (.logs, .protobuf): return try LogsProtoDecoder.decode(body)
        case (.logs, .json): return try JSONDecoders.logs(body)
        }
    }

    /// The sink's hint rounded up to whole seconds, or `retry_after_seconds` when it gives none.
    private func retryAfter(_ milliseconds: UInt32) -> String {
        guard milliseconds > 0 else { return String(config.retryAfterSeconds) }
        return String((UInt64(milliseconds) + 999) / 1000)
    }

    /// `Authorization: Bearer <token>` compared in constant time (no early exit on the first
    /// differing byte, so response timing does not reveal how much of a guess was right).
    private func isAuthorized(_ request: PluginRequest) -> Bool {
        Self.isAuthorized(header: request.header("authorization"), token: token)
    }

    /// The bearer check shared by OTLP/HTTP (`Authorization` header) and OTLP/gRPC
    /// (`authorization` metadata); an empty token accepts everything.
    static func isAuthorized(header: String?, token: [UInt8]) -> Bool {
        guard !token.isEmpty else { return true }
        guard let header else { return false }
        let utf8 = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard utf8.count >= scheme.count,
            zip(utf8.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 || $0 == $1 })
        else { return false }
        var presented = utf8.dropFirst(scheme.count)
        while presented.first == UInt8(ascii: " ") { presented = presented.dropFirst() }
        return Self.constantTimeEqual(Array(presented), token)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        // Always walk the expected token's length so the time does not depend on the guess's length.
        for i in 0..<b.count {
            let x = i < a.count ? a[i] : ~b[i]
            diff |= x ^ b[i]
        }
        return diff == 0
    }
}
