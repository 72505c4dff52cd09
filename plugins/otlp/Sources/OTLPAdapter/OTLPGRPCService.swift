// OTLP/gRPC: the TraceService, MetricsService and LogsService Export methods, with hand-written (de)serializers.
import FireflyModel
import FireflyWire
import FireflyPluginKit
import CFireflyPlugin
public import GRPCCore
import NIOPosix

/// A decoded `Export*ServiceRequest`: what the HTTP path's decoder produces, ready to emit.
struct OTLPDecodedExport: Sendable {
    /// Metrics and logs (traces travel as `traces`).
    private var swiftBatch: TelemetryBatch
    /// Traces, decoded into a C batch.
    var traces: CTraceExport?
    /// Items dropped while decoding (reported in `partial_success`).
    var rejected: Int
    /// `partial_success.error_message` ("" when nothing was dropped).
    var problemSummary: String

    init(batch: TelemetryBatch = TelemetryBatch(), traces: CTraceExport? = nil, rejected: Int, problemSummary: String) {
        swiftBatch = batch
        self.traces = traces
        self.rejected = rejected
        self.problemSummary = problemSummary
    }

    /// The telemetry as Swift values (traces converted from their C batch: what the host stores).
    var batch: TelemetryBatch { traces?.telemetry ?? swiftBatch }

    /// Whether there is anything to emit.
    var isEmpty: Bool { traces.map { $0.spanCount == 0 } ?? swiftBatch.isEmpty }

    /// Invocations (from Lambda platform reports among log records).
    var invocationCount: Int { swiftBatch.invocations.count }

    /// The items kept.
    func kept(_ signal: Signal) -> Int { traces?.spanCount ?? signal.kept(swiftBatch) }

    /// Emits through `emitter`, the C batch for traces.
    func emit(_ emitter: BlockingEmitter) async -> EmitStatus {
        if let traces { await emitter.emit(traces) } else { await emitter.emit(swiftBatch) }
    }
}

/// A traces request decoded into a C batch, with what the batch points into: a copy of the
/// message and the arena. Immutable once made, so it may travel to the emitting thread.
final class CTraceExport: @unchecked Sendable {
    private let arena: CArena
    let batch: UnsafePointer<firefly_batch>
    let spanCount: Int
    let problems: DecodeOutcome

    init(message: [UInt8]) throws(OTLPDecodeError) {
        arena = CArena(chunkSize: 64 * 1024)
        let copy = arena.allocate(byteCount: max(message.count, 1), alignment: 1)
        message.withUnsafeBytes { if let base = $0.baseAddress, $0.count > 0 { copy.copyMemory(from: base, byteCount: $0.count) } }
        let decoded = try TraceProtoDecoder.decode(UnsafeRawBufferPointer(start: copy, count: message.count), into: arena)
        batch = decoded.batch
        spanCount = decoded.spanCount
        problems = decoded.problems
    }

    /// The spans as Swift values, converted from the C batch.
    var telemetry: TelemetryBatch {
        withBatch { (try? BatchBridge.telemetry(from: $0)) ?? TelemetryBatch() }
    }

    /// Calls `body` with the batch, keeping what it points into alive.
    func withBatch<T>(_ body: (UnsafePointer<firefly_batch>) -> T) -> T {
        withExtendedLifetime(arena) { body(batch) }
    }
}

/// An `Export*ServiceResponse` (both signals have the same layout: `partial_success` = field 1).
public struct OTLPExportResponse: Sendable, Equatable {
    public var rejected: Int
    public var errorMessage: String

    public init(rejected: Int = 0, errorMessage: String = "") {
        self.rejected = rejected
        self.errorMessage = errorMessage
    }
}

/// Request bytes → the Firefly model, through the plugin's own protobuf decoder. A malformed
/// message throws INVALID_ARGUMENT (the OTLP spec's "not retryable" answer for bad data).
///
/// It also enforces `grpc.max_message_bytes` on the (decompressed) message with a proper
/// RESOURCE_EXHAUSTED status: the transport's own limit, set higher as a backstop, resets the
/// stream instead, which clients see as a retryable UNAVAILABLE.
struct OTLPRequestDeserializer: MessageDeserializer {
    let signal: Signal
    let maxMessageBytes: Int

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> OTLPDecodedExport {
        // Inflating stops at the transport's backstop limit; the exact size is then checked here.
        let limit = OTLPGRPCListener.transportLimit(maxMessageBytes)
        let bytes = try serializedMessageBytes.withUnsafeBytes { raw in try Self.inflated(raw, limit: limit) }
        guard bytes.count <= maxMessageBytes else {
            throw RPCError(
                code: .resourceExhausted,
                message: "message of \(bytes.count) bytes exceeds grpc.max_message_bytes (\(maxMessageBytes))")
        }
        do {
            if signal == .traces {
                let traces = try CTraceExport(message: bytes)
                return OTLPDecodedExport(
                    traces: traces, rejected: traces.problems.rejected,
                    problemSummary: traces.problems.problemSummary)
            }
            let outcome = try OTLPAdapter.decode(bytes, signal: signal, encoding: .protobuf)
            return OTLPDecodedExport(batch: outcome.batch, rejected: outcome.rejected, problemSummary: outcome.problemSummary)
        } catch {
            throw RPCError(
                code: .invalidArgument,
                message: OTLPResponses.trimmed("cannot decode \(signal.requestName) (protobuf): \(error.message)"))
        }
    }

    /// The message itself, or, for a `CompressedMessage` from `GRPCCompressionGate`, what it
    /// inflates to within `limit` bytes.
    static func inflated(_ raw: UnsafeRawBufferPointer, limit: Int) throws(RPCError) -> [UInt8] {
        guard let (algorithm, start) = CompressedMessage.unwrap(raw) else { return Array(raw) }
        do throws(Inflater.Failure) {
            return try Inflater.inflate(Array(raw[start...]), format: algorithm.format, limit: limit)
        } catch {
            switch error {
            case .tooLarge(let limit):
                throw RPCError(
                    code: .resourceExhausted,
                    message: "\(algorithm.name) message inflates to more than \(limit) bytes, over grpc.max_message_bytes")
            case .invalid(let reason):
                throw RPCError(code: .invalidArgument, message: "cannot decompress the request message: \(reason)")
            }
        }
    }
}

/// `Export*ServiceResponse` → bytes (empty on full success, `partial_success` otherwise).
struct OTLPResponseSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: OTLPExportResponse) throws -> Bytes {
        Bytes(OTLPResponses.exportResponseProto(rejected: message.rejected, message: OTLPResponses.trimmed(message.errorMessage)))
    }
}

/// The fully qualified gRPC methods of OTLP (opentelemetry-proto `collector/*/v1/*_service.proto`).
public enum OTLPGRPCMethods {
    public static let traces = MethodDescriptor(
        fullyQualifiedService: "opentelemetry.proto.collector.trace.v1.TraceService", method: "Export")
    public static let metrics = MethodDescriptor(
        fullyQualifiedService: "opentelemetry.proto.collector.metrics.v1.MetricsService", method: "Export")
    public static let logs = MethodDescriptor(
        fullyQualifiedService: "opentelemetry.proto.collector.logs.v1.LogsService", method: "Export")
}

/// Runs `sink.emit` (which blocks until the batch is durable) on threads of its own, never on
/// the gRPC event loops or Swift's cooperative pool; `close()` waits for every emit in flight and
/// refuses new ones, so nothing reaches the sink after it returns.
final class BlockingEmitter: Sendable {
    private let sink: any TelemetrySink
    private let pool: NIOThreadPool

    init(sink: any TelemetrySink, threads: Int) {
        self.sink = sink
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    func emit(_ batch: TelemetryBatch) async -> EmitStatus {
        let sink = self.sink
        do {
            return try await pool.runIfActive { sink.emit(batch) }
        } catch {
            return .closed(retryAfterMilliseconds: 0)  // the pool was shut down: stopping
        }
    }

    func emit(_ traces: CTraceExport) async -> EmitStatus {
        let sink = self.sink
        do {
            return try await pool.runIfActive { traces.withBatch { sink.emit($0) } }
        } catch {
            return .closed(retryAfterMilliseconds: 0)  // the pool was shut down: stopping
        }
    }

    func close() {
        try? pool.syncShutdownGracefully()
    }
}

/// Answers one Export call: authentication, decoding (in the deserializer), emitting, counting.
final class OTLPGRPCExporter: Sendable {
    let token: [UInt8]
    let retryAfterSeconds: Int
    let context: PluginContext
    let emitter: BlockingEmitter

    init(token: [UInt8], retryAfterSeconds: Int, context: PluginContext, emitter: BlockingEmitter) {
        self.token = token
        self.retryAfterSeconds = retryAfterSeconds
        self.context = context
        self.emitter = emitter
    }

    func export(
        _ request: StreamingServerRequest<OTLPDecodedExport>, signal: Signal
    ) async throws -> StreamingServerResponse<OTLPExportResponse> {
        do {
            let response = try await answer(request, signal: signal)
            context.count("grpc_requests", labels: [("signal", signal.rawValue), ("code", "OK")])
            return StreamingServerResponse(single: ServerResponse(message: response))
        } catch let error as RPCError {
            context.count("grpc_requests", labels: [("signal", signal.rawValue), ("code", Self.name(error.code))])
            throw error
        }
    }

    private func answer(_ request: StreamingServerRequest<OTLPDecodedExport>, signal: Signal) async throws -> OTLPExportResponse {
        var header: String?
        for value in request.metadata[stringValues: "authorization"] {
            header = value
            break
        }
        guard OTLPAdapter.isAuthorized(header: header, token: token) else {
            throw RPCError(code: .unauthenticated, message: "missing or invalid bearer token (send metadata 'authorization: Bearer <token>')")
        }
        // Reads the one request message; the deserializer decodes it (INVALID_ARGUMENT when malformed).
        let single = try await ServerRequest(stream: request)
        let decoded = single.message
        if !decoded.isEmpty {
            switch await decoded.emit(emitter) {
            case .ok:
                break
            case .busy(let hint):
                throw unavailable("the collector's queue is full; retry later", hint)
            case .closed(let hint):
                throw unavailable("the collector is shutting down; retry later", hint)
            case .invalid:
                context.log(.error, "the collector rejected a decoded \(signal.rawValue) batch as invalid")
                throw RPCError(code: .internalError, message: "the collector rejected the decoded batch")
            }
        }
        context.count("\(signal.unit)_accepted", by: UInt64(decoded.kept(signal)))
        if decoded.rejected > 0 { context.count("\(signal.unit)_rejected", by: UInt64(decoded.rejected)) }
        if decoded.invocationCount > 0 { context.count("invocations_accepted", by: UInt64(decoded.invocationCount)) }
        return OTLPExportResponse(rejected: decoded.rejected, errorMessage: decoded.problemSummary)
    }

    /// UNAVAILABLE (retryable per OTLP) with a `google.rpc.RetryInfo` delay: the sink's hint, else
    /// `retry_after_seconds`. Sent both inside `grpc-status-details-bin` (a `google.rpc.Status` with
    /// the RetryInfo as an `Any` detail — read by Go and Java clients and the OpenTelemetry
    /// Collector) and as `google.rpc.retryinfo-bin` (read by the OpenTelemetry Python SDK).
    private func unavailable(_ message: String, _ hintMilliseconds: UInt32) -> RPCError {
        let milliseconds = hintMilliseconds > 0 ? UInt64(hintMilliseconds) : UInt64(retryAfterSeconds) * 1000
        var metadata = Metadata()
        metadata.addBinary(Self.statusDetails(code: 14, message: message, retryAfterMilliseconds: milliseconds), forKey: "grpc-status-details-bin")
        metadata.addBinary(Self.retryInfo(milliseconds: milliseconds), forKey: "google.rpc.retryinfo-bin")
        return RPCError(code: .unavailable, message: message, metadata: metadata)
    }

    /// `google.rpc.RetryInfo {retry_delay (1): google.protobuf.Duration {seconds (1), nanos (2)}}`.
    static func retryInfo(milliseconds: UInt64) -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { d in
            let seconds = milliseconds / 1000, nanos = (milliseconds % 1000) * 1_000_000
            if seconds != 0 { d.varintField(1, seconds) }
            if nanos != 0 { d.varintField(2, nanos) }
        }
        return w.bytes
    }

    /// `google.rpc.Status {code (1), message (2), details (3): [Any {type_url (1), value (2)}]}`.
    static func statusDetails(code: UInt64, message: String, retryAfterMilliseconds: UInt64) -> [UInt8] {
        var w = ProtobufWriter()
        w.varintField(1, code)
        w.stringField(2, message)
        w.message(3) { any in
            any.stringField(1, "type.googleapis.com/google.rpc.RetryInfo")
            any.bytesField(2, retryInfo(milliseconds: retryAfterMilliseconds))
        }
        return w.bytes
    }

    static func name(_ code: RPCError.Code) -> String {
        switch code {
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .unauthenticated: return "UNAUTHENTICATED"
        case .unavailable: return "UNAVAILABLE"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .internalError: return "INTERNAL"
        case .cancelled: return "CANCELLED"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        default: return String(describing: code).uppercased()
        }
    }
}

/// The three OTLP services on one router.
struct OTLPGRPCService: RegistrableRPCService {
    let exporter: OTLPGRPCExporter
    let maxMessageBytes: Int

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        for (signal, method) in [
            (Signal.traces, OTLPGRPCMethods.traces), (.metrics, OTLPGRPCMethods.metrics), (.logs, OTLPGRPCMethods.logs),
        ] {
            let exporter = self.exporter
            router.registerHandler(
                forMethod: method, deserializer: OTLPRequestDeserializer(signal: signal, maxMessageBytes: maxMessageBytes), serializer: OTLPResponseSerializer()
            ) { request, _ in
                try await exporter.export(request, signal: signal)
            }
        }
    }
}
