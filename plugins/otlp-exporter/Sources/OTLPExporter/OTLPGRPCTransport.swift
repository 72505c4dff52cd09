// OTLP/gRPC: the Export methods of the three OTLP services, with the request already encoded.
import FireflyPluginKit
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One gRPC client per endpoint (HTTP/2, one connection each, reconnecting on its own). The
/// messages are the encoder's bytes, so the (de)serializers only pass bytes through.
final class OTLPGRPCTransport: OTLPTransport {
    private let settings: OTLPExporterSettings
    private let metadata: Metadata
    /// Per endpoint: the client and the task running its connections, made on first use.
    private let clients: Mutex<[Int: (client: GRPCClient<HTTP2ClientTransport.Posix>, running: Task<Void, Never>)]> =
        Mutex([:])

    init(settings: OTLPExporterSettings, userAgent: String) {
        self.settings = settings
        var metadata = Metadata()
        for (name, value) in settings.headers { metadata.addString(value, forKey: name.lowercased()) }
        metadata.addString(userAgent, forKey: "user-agent")
        self.metadata = metadata
    }

    func send(_ body: [UInt8], signal: OTLPSignal, to endpoint: Int) async -> OTLPAnswer {
        let client: GRPCClient<HTTP2ClientTransport.Posix>
        do {
            client = try self.client(endpoint)
        } catch {
            return .permanent(message: "cannot set up the gRPC connection to \(settings.endpoints[endpoint]): \(error)")
        }
        var options = CallOptions.defaults
        options.timeout = settings.timeout
        // A down endpoint fails the call at once (UNAVAILABLE, retried by the host) instead of
        // holding it until the deadline.
        options.waitForReady = false
        options.compression = settings.gzip ? .gzip : CompressionAlgorithm.none
        do {
            let response = try await client.unary(
                request: ClientRequest(message: body, metadata: metadata),
                descriptor: MethodDescriptor(fullyQualifiedService: signal.grpcService, method: "Export"),
                serializer: PassThroughSerializer(), deserializer: PassThroughDeserializer(), options: options
            ) { response in try response.message }
            let partial = PartialSuccess.decode(response)
            return .accepted(rejected: partial?.rejected ?? 0, message: partial?.message ?? "")
        } catch let error as RPCError {
            return .grpc(code: error.code.rawValue, message: error.message, retryAfter: Self.retryDelay(error.metadata))
        } catch {
            return .retryable(after: nil, message: "\(error)")
        }
    }

    /// The server's `google.rpc.RetryInfo`: inside `grpc-status-details-bin`, or on its own as
    /// `google.rpc.retryinfo-bin`.
    static func retryDelay(_ metadata: Metadata) -> Duration? {
        for details in metadata[binaryValues: "grpc-status-details-bin"] {
            if let delay = RPCStatus.retryDelay(statusDetails: details) { return delay }
        }
        for info in metadata[binaryValues: "google.rpc.retryinfo-bin"] {
            if let delay = RPCStatus.retryInfo(info) { return delay }
        }
        return nil
    }

    /// IP literals as themselves (a DNS target would offer the IP as the TLS server name, which
    /// TLS does not allow), names through DNS.
    static func resolvable(_ endpoint: OTLPExporterSettings.Endpoint) -> any ResolvableTarget {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, endpoint.host, &v4) == 1 { return .ipv4(address: endpoint.host, port: endpoint.port) }
        if inet_pton(AF_INET6, endpoint.host, &v6) == 1 { return .ipv6(address: endpoint.host, port: endpoint.port) }
        return .dns(host: endpoint.host, port: endpoint.port)
    }

    private func client(_ endpoint: Int) throws -> GRPCClient<HTTP2ClientTransport.Posix> {
        try clients.withLock { clients in
            if let existing = clients[endpoint] { return existing.client }
            let target = settings.endpoints[endpoint]
            let security: HTTP2ClientTransport.Posix.TransportSecurity
            if target.isTLS {
                security = .tls { tls in
                    if let caFile = settings.caFile {
                        tls.trustRoots = .certificates([.file(path: caFile, format: .pem)])
                    }
                    if settings.insecureSkipVerify { tls.serverCertificateVerification = .noVerification }
                }
            } else {
                security = .plaintext
            }
            let transport = try HTTP2ClientTransport.Posix(
                target: Self.resolvable(target), transportSecurity: security,
                config: .defaults { config in
                    config.compression.enabledAlgorithms = settings.gzip ? [.gzip] : []
                    config.backoff.max = .seconds(5)
                })
            let client = GRPCClient(transport: transport)
            let running = Task<Void, Never>.detached {
                // Returns when shut down; a transport failure surfaces on the calls as UNAVAILABLE.
                do {
                    try await client.runConnections()
                } catch {}
            }
            clients[endpoint] = (client, running)
            return client
        }
    }

    func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for (client, running) in all {
            client.beginGracefulShutdown()
            await running.value
        }
    }
}

/// The request is already an encoded `Export*ServiceRequest`.
struct PassThroughSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

/// The response is decoded by `PartialSuccess`.
struct PassThroughDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}
