// OTLP/HTTP with binary protobuf: POST <endpoint>/v1/<signal>, optionally gzip-compressed.
import AsyncHTTPClient
import FireflyPluginKit
import FireflyWire
import NIOCore
import NIOSSL
import Synchronization

/// Sends requests over HTTP/1.1 with AsyncHTTPClient (one client, connections pooled per endpoint).
final class OTLPHTTPTransport: OTLPTransport {
    private let settings: OTLPExporterSettings
    private let context: PluginContext
    private let client = Mutex<HTTPClient?>(nil)
    private let headers: [(String, String)]

    init(settings: OTLPExporterSettings, context: PluginContext, userAgent: String) {
        self.settings = settings
        self.context = context
        var headers = settings.headers
        headers.append(("Content-Type", "application/x-protobuf"))
        headers.append(("User-Agent", userAgent))
        if settings.gzip { headers.append(("Content-Encoding", "gzip")) }
        self.headers = headers
    }

    func send(_ body: [UInt8], signal: OTLPSignal, to endpoint: Int) async -> OTLPAnswer {
        let target = settings.endpoints[endpoint]
        let http: HTTPClient
        do {
            http = try httpClient()
        } catch {
            return .permanent(message: "cannot set up TLS for \(target): \(error)")
        }
        var request = HTTPClientRequest(url: target.url(signal))
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if settings.gzip {
            do {
                request.body = .bytes(try Gzip.compress(body, level: 6))
            } catch {
                return .permanent(message: "cannot gzip the request: \(error)")
            }
        } else {
            request.body = .bytes(body)
        }
        do {
            let response = try await http.execute(request, timeout: TimeAmount(settings.timeout))
            let retryAfter = RetryAfter.parse(
                response.headers.first(name: "Retry-After"), nowUnixNano: context.nowUnixNano())
            let bytes = try await response.body.collect(upTo: 4 << 20)
            return .http(
                status: response.status.code, retryAfter: retryAfter, body: Array(buffer: bytes), signal: signal)
        } catch {
            return .retryable(after: nil, message: "\(error)")
        }
    }

    /// The HTTP client, made on first use (configuration checks must not open anything).
    private func httpClient() throws -> HTTPClient {
        try client.withLock { client in
            if let client { return client }
            var configuration = HTTPClient.Configuration()
            if settings.caFile != nil || settings.insecureSkipVerify {
                var tls = TLSConfiguration.makeClientConfiguration()
                if let caFile = settings.caFile {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
                }
                if settings.insecureSkipVerify { tls.certificateVerification = .none }
                configuration.tlsConfiguration = tls
            }
            configuration.redirectConfiguration = .disallow
            // AHC keeps retrying a refused connection until the connect timeout: bound it so an
            // export to a stopped receiver comes back retryable soon.
            configuration.timeout = .init(connect: TimeAmount(min(settings.timeout, .seconds(10))))
            let made = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            client = made
            return made
        }
    }

    func shutdown() async {
        let made = client.withLock { client in
            defer { client = nil }
            return client
        }
        try? await made?.shutdown()
    }
}
