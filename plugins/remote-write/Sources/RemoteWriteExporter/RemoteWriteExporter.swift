// The remote-write exporter plugin: points → Prometheus remote-write 1.0 requests.
public import FireflyModel
public import FireflyPluginKit
import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Sends metric points to any Prometheus remote-write 1.0 receiver (Prometheus with
/// `--web.enable-remote-write-receiver`, Mimir, VictoriaMetrics, Thanos receive). Spans are
/// ignored. Naming comes from `PrometheusNaming`, shared with the dashboards.
///
/// Delivery: the host retries a batch after `.retryable` (5xx, 429, network errors, honouring
/// `Retry-After`); a 4xx is `.permanent` and never retried. Series already accepted are
/// remembered (`HighWaterMarks`), so a retried or re-delivered batch sends only what is new.
public final class RemoteWriteExporter: ExporterPlugin {
    public static let pluginName = "remote-write"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = [.metrics]
    public static let pluginDescription = "Writes metrics to Prometheus, Mimir, VictoriaMetrics or Thanos via remote-write 1.0"

    public let config: RemoteWriteSettings
    private let context: PluginContext
    private let assembler: SeriesAssembler
    private let marks = Mutex(HighWaterMarks())
    private let client = Mutex<HTTPClient?>(nil)
    private let staticHeaders: [(String, String)]

    public init(context: PluginContext, config: PluginConfig) throws {
        self.context = context
        self.config = try RemoteWriteSettings(config)
        assembler = SeriesAssembler(
            externalLabels: self.config.externalLabels, maxSamplesPerRequest: self.config.maxSamplesPerRequest,
            shards: self.config.shards)
        var headers = self.config.headers
        if let auth = self.config.basicAuth {
            let token = Data("\(auth.username):\(auth.password)".utf8).base64EncodedString()
            headers.append(("Authorization", "Basic \(token)"))
        } else if let token = self.config.bearerToken {
            headers.append(("Authorization", "Bearer \(token)"))
        }
        headers += [
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
            ("User-Agent", "firefly/\(Self.pluginVersion)"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ]
        staticHeaders = headers
    }

    public func export(_ batch: TelemetryBatch) async -> ExportResult {
        if batch.points.isEmpty { return .ok }
        let plan = marks.withLock { marks in
            assembler.plan(batch.points) { marks[$0] }
        }
        if plan.outOfOrder > 0 {
            context.count("remote_write_samples_dropped", labels: [("reason", "out_of_order")], by: UInt64(plan.outOfOrder))
        }
        if plan.unsupported > 0 {
            context.count("remote_write_points_dropped", labels: [("reason", "unsupported")], by: UInt64(plan.unsupported))
        }
        let http: HTTPClient
        do {
            http = try httpClient()
        } catch {
            return .permanent(message: redact("cannot set up TLS for \(config.url): \(error)"))
        }
        let results = await withTaskGroup(of: ExportResult.self, returning: [ExportResult].self) { group in
            for requests in plan.shards where !requests.isEmpty {
                group.addTask { await self.send(requests, with: http) }
            }
            var all: [ExportResult] = []
            for await result in group { all.append(result) }
            return all
        }
        return .combining(results)
    }

    /// Sends one shard's requests in order. Stops at the first retryable failure: sending later
    /// samples of the same series first would make the retried ones out of order.
    private func send(_ requests: [[RemoteWriteSeries]], with http: HTTPClient) async -> ExportResult {
        var permanent: [String] = []
        for request in requests {
            let samples = request.reduce(0) { $0 + $1.samples.count }
            let body = Snappy.compress(WriteRequestEncoder.encode(request))
            switch await post(body, with: http) {
            case .ok:
                marks.withLock { $0.accept(request) }
                context.count("remote_write_samples_sent", by: UInt64(samples))
            case .permanent(let message):
                context.count("remote_write_samples_dropped", labels: [("reason", "rejected")], by: UInt64(samples))
                context.log(.warning, message)
                permanent.append(message)
            case .retryable(let after, let message):
                return .retryable(after: after, message: message)
            }
        }
        return permanent.isEmpty ? .ok : .permanent(message: permanent.joined(separator: "; "))
    }

    private func post(_ body: [UInt8], with http: HTTPClient) async -> ExportResult {
        var request = HTTPClientRequest(url: config.url)
        request.method = .POST
        for (name, value) in staticHeaders { request.headers.add(name: name, value: value) }
        request.body = .bytes(body)
        let timeout = TimeAmount.nanoseconds(
            config.timeout.components.seconds * 1_000_000_000 + config.timeout.components.attoseconds / 1_000_000_000)
        let status: UInt
        let retryAfter: String?
        let message: String
        do {
            let response = try await http.execute(request, timeout: timeout)
            status = response.status.code
            retryAfter = response.headers.first(name: "Retry-After")
            let bytes = try await response.body.collect(upTo: 64 * 1024)
            message = String(buffer: bytes).trimmed()
        } catch {
            context.count("remote_write_requests", labels: [("status", "error")])
            return .retryable(after: nil, message: redact("remote write to \(config.url) failed: \(error)"))
        }
        context.count("remote_write_requests", labels: [("status", String(status))])
        switch status {
        case 200..<300:
            return .ok
        case 429, 500..<600:
            let after = RetryAfter.parse(retryAfter, nowUnixNano: context.nowUnixNano())
            return .retryable(after: after, message: redact("remote write to \(config.url) got HTTP \(status): \(Self.clip(message))"))
        default:
            return .permanent(message: redact("remote write to \(config.url) rejected with HTTP \(status): \(Self.clip(message))"))
        }
    }

    static func clip(_ message: String) -> String {
        message.count > 1024 ? String(message.prefix(1024)) + "…" : message
    }

    /// Removes passwords and tokens from a message, whatever produced it.
    private func redact(_ message: String) -> String { Credentials.redact(message, config.secrets) }

    /// The HTTP client, made on first use (configuration checks must not open anything).
    private func httpClient() throws -> HTTPClient {
        try client.withLock { client in
            if let client { return client }
            var configuration = HTTPClient.Configuration()
            if config.caFile != nil || config.insecureSkipVerify {
                var tls = TLSConfiguration.makeClientConfiguration()
                if let caFile = config.caFile {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                }
                if config.insecureSkipVerify { tls.certificateVerification = .none }
                configuration.tlsConfiguration = tls
            }
            configuration.redirectConfiguration = .disallow
            // AHC keeps retrying a refused connection until the connect timeout, so this bounds
            // how long an export against a stopped receiver takes to come back retryable.
            let connectMs = min(config.timeout, .seconds(10)).components
            configuration.timeout = .init(connect: .milliseconds(connectMs.seconds * 1000 + connectMs.attoseconds / 1_000_000_000_000_000))
            let made = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            client = made
            return made
        }
    }

    public func shutdown() async {
        let made = client.withLock { client in
            defer { client = nil }
            return client
        }
        try? await made?.shutdown()
    }
}
