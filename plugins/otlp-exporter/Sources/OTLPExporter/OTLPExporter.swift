// The OTLP exporter plugin: batches → OTLP export requests over HTTP or gRPC, to one or several endpoints.
import FireflyOTLP
public import FireflyModel
public import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Sends one request and says what the answer means.
protocol OTLPTransport: Sendable {
    func send(_ body: [UInt8], signal: OTLPSignal, to endpoint: Int) async -> OTLPAnswer
    func shutdown() async
}

/// Sends metrics, traces and logs to any OTLP receiver: another Firefly (a gateway tier), an
/// OpenTelemetry Collector, Tempo, Jaeger, or a vendor's OTLP endpoint.
///
/// Delivery follows the OTLP specification: retryable answers (HTTP 429/502/503/504, gRPC
/// UNAVAILABLE and friends, network errors) go back to the host as `.retryable` with the delay
/// the receiver asked for; `partial_success` is logged and counted but not retried; anything else
/// is `.permanent` (the host dead-letters it). With several endpoints, items are spread by
/// `EndpointRing` (traces by trace id, metrics by series, logs by function). Requests an endpoint
/// already accepted are remembered (`DeliveredRequests`), so when the host retries a batch after
/// another part failed, only what is missing is sent again.
public final class OTLPExporter: ExporterPlugin {
    public static let pluginName = "otlp-exporter"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = .all
    public static let pluginDescription =
        "Sends metrics, traces and logs over OTLP (HTTP protobuf or gRPC) to a gateway or any OTLP backend"

    public let settings: OTLPExporterSettings
    private let context: PluginContext
    private let ring: EndpointRing
    private let transport: any OTLPTransport
    private let delivered = Mutex(DeliveredRequests())

    public init(context: PluginContext, config: PluginConfig) throws {
        self.context = context
        settings = try OTLPExporterSettings(config)
        ring = EndpointRing(settings.endpoints.map(\.description))
        let userAgent = "firefly/\(Self.pluginVersion)"
        switch settings.transport {
        case .httpProtobuf: transport = OTLPHTTPTransport(settings: settings, context: context, userAgent: userAgent)
        case .grpc: transport = OTLPGRPCTransport(settings: settings, userAgent: userAgent)
        }
    }

    /// The requests one batch becomes: per signal, one per endpoint that owns some of its items.
    struct Request: Sendable {
        var signal: OTLPSignal
        var endpoint: Int
        var items: Int
        var body: [UInt8]
    }

    /// Encodes `batch`, split over the endpoints. Invocations are not sent on their own (they
    /// travel as the log records they were read from).
    func requests(_ batch: TelemetryBatch) -> [Request] {
        var out: [Request] = []
        func add<Item>(_ signal: OTLPSignal, _ items: [Item], key: (Item) -> UInt64, encode: ([Item]) -> [UInt8]) {
            for (endpoint, share) in ring.partition(items, key: key).enumerated() where !share.isEmpty {
                out.append(Request(signal: signal, endpoint: endpoint, items: share.count, body: encode(share)))
            }
        }
        add(.traces, batch.spans, key: { EndpointRing.key($0.traceID) }, encode: OTLPRequestEncoder.traces)
        add(.metrics, batch.points, key: EndpointRing.key(series:), encode: OTLPRequestEncoder.metrics)
        add(.logs, batch.logs, key: EndpointRing.key(log:), encode: OTLPRequestEncoder.logs)
        return out
    }

    public func export(_ batch: TelemetryBatch) async -> ExportResult {
        let requests = requests(batch)
        if requests.isEmpty { return .ok }
        let results = await withTaskGroup(of: ExportResult.self, returning: [ExportResult].self) { group in
            for request in requests {
                group.addTask { await self.deliver(request) }
            }
            var all: [ExportResult] = []
            for await result in group { all.append(result) }
            return all
        }
        return .combining(results)
    }

    /// One request: skipped when this endpoint already accepted the same bytes, else sent.
    private func deliver(_ request: Request) async -> ExportResult {
        let digest = DeliveredRequests.Digest(endpoint: request.endpoint, signal: request.signal, body: request.body)
        if delivered.withLock({ $0.contains(digest) }) {
            context.count("otlp_exporter_requests_skipped", labels: [("signal", request.signal.rawValue)])
            return .ok
        }
        let endpoint = settings.endpoints[request.endpoint]
        let labels = [("signal", request.signal.rawValue), ("endpoint", endpoint.description)]
        switch await transport.send(request.body, signal: request.signal, to: request.endpoint) {
        case .accepted(let rejected, let message):
            delivered.withLock { $0.insert(digest) }
            context.count("otlp_exporter_items_sent", labels: labels, by: UInt64(request.items))
            context.count("otlp_exporter_requests", labels: labels + [("outcome", "ok")])
            if rejected > 0 || !message.isEmpty {
                // partial_success: the receiver has dropped these for good; retrying cannot help.
                context.count("otlp_exporter_items_rejected", labels: labels, by: UInt64(max(rejected, 0)))
                let what = "\(rejected) \(request.signal.itemName)"
                context.log(.warning, redact("\(endpoint) accepted \(request.signal.rawValue) with \(what) rejected: \(message)"))
            }
            return .ok
        case .retryable(let after, let message):
            context.count("otlp_exporter_requests", labels: labels + [("outcome", "retryable")])
            return .retryable(
                after: after,
                message: redact("OTLP \(request.signal.rawValue) export to \(endpoint) failed: \(message)"))
        case .permanent(let message):
            context.count("otlp_exporter_requests", labels: labels + [("outcome", "rejected")])
            context.count("otlp_exporter_items_dropped", labels: labels, by: UInt64(request.items))
            return .permanent(
                message: redact("OTLP \(request.signal.rawValue) export to \(endpoint) rejected: \(message)"))
        }
    }

    /// Removes header secrets (bearer tokens, API keys) from a message, whatever produced it.
    private func redact(_ message: String) -> String { Credentials.redact(message, settings.secrets) }

    public func shutdown() async {
        await transport.shutdown()
    }
}

/// The requests endpoints accepted recently, by digest: when the host retries a batch because one
/// part failed, the parts already delivered are not sent twice. Bounded (oldest forgotten first);
/// in memory only, so after a restart a replayed batch is sent again (at-least-once, as everywhere).
struct DeliveredRequests: Sendable {
    struct Digest: Hashable, Sendable {
        var endpoint: Int
        var signal: OTLPSignal
        var size: Int
        var hash: UInt64
        var check: UInt64

        /// Two independent 64-bit hashes and the size: a false "already sent" needs all three to collide.
        init(endpoint: Int, signal: OTLPSignal, body: [UInt8]) {
            self.endpoint = endpoint
            self.signal = signal
            size = body.count
            hash = EndpointRing.fnv1a(body)
            var h: UInt64 = 0x6a09_e667_f3bc_c908
            var i = 0
            body.withUnsafeBytes { raw in
                while i + 8 <= raw.count {
                    h = EndpointRing.mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    i += 8
                }
                while i < raw.count {
                    h = EndpointRing.mix(h ^ UInt64(raw[i]))
                    i += 1
                }
            }
            check = h
        }
    }

    static let capacity = 4096
    private var set: Set<Digest> = []
    private var order: [Digest] = []
    private var head = 0

    func contains(_ digest: Digest) -> Bool { set.contains(digest) }

    mutating func insert(_ digest: Digest) {
        guard set.insert(digest).inserted else { return }
        if order.count < Self.capacity {
            order.append(digest)
        } else {
            set.remove(order[head])
            order[head] = digest
            head = (head + 1) % Self.capacity
        }
    }
}
