import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// Answers every HTTP request of the collector: the built-in `/healthz`, `/readyz` and `/metrics`,
/// and the receivers' routes (exact method + path). Adapters run on the worker thread pool, never on
/// an event loop, because `handle` blocks until the queue has stored the data.
struct CollectorResponder: HTTPResponder {
    typealias Context = CollectorRequestContext

    struct RouteKey: Hashable {
        var method: String
        var path: String
    }

    static let builtInPaths: Set<String> = ["/healthz", "/readyz", "/metrics"]

    let routes: [RouteKey: ReceiverInstance]
    let knownPaths: [String: ReceiverInstance]
    let maxBodyBytes: Int
    let bodyPace: BodyPace
    let threadPool: NIOThreadPool
    /// As many requests as there are worker threads read their bodies and run at once.
    let gate: RequestGate
    let metrics: SelfMetrics
    let state: ServerState
    let logger: Logger

    init(
        receivers: [ReceiverInstance], maxBodyBytes: Int, bodyPace: BodyPace, threadPool: NIOThreadPool, threadPoolSize: Int,
        metrics: SelfMetrics, state: ServerState, logger: Logger
    ) {
        var routes: [RouteKey: ReceiverInstance] = [:]
        var known: [String: ReceiverInstance] = [:]
        for a in receivers {
            for r in a.routes {
                routes[RouteKey(method: r.method, path: r.path)] = a
                known[r.path] = a
            }
        }
        self.routes = routes
        self.knownPaths = known
        self.maxBodyBytes = maxBodyBytes
        self.bodyPace = bodyPace
        self.threadPool = threadPool
        let gate = RequestGate(limit: threadPoolSize)
        self.gate = gate
        metrics.gauge(SelfMetricCatalog.httpInFlight.name) { Double(gate.counts.inFlight) }
        metrics.gauge(SelfMetricCatalog.httpWaiting.name) { Double(gate.counts.waiting) }
        self.metrics = metrics
        self.state = state
        self.logger = logger
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let method = request.method.rawValue
        if Self.builtInPaths.contains(path) {
            return builtIn(path: path, method: method)
        }
        guard let receiver = routes[RouteKey(method: method, path: path)] else {
            if let owner = knownPaths[path] {
                // In the adapter's own protocol, with the `Allow` header RFC 9110 requires on 405.
                let allowed = routes.keys.filter { $0.path == path }.map(\.method).sorted()
                let request = PluginRequest(
                    method: method, path: path, query: request.uri.query ?? "",
                    headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) }, remoteAddress: context.remoteAddress)
                var answer = owner.reject(request, status: 405, message: "method \(method) not allowed on \(path); use \(allowed.joined(separator: ", "))")
                answer.headers.removeAll { $0.name.lowercased() == "allow" }
                answer.headers.append((name: "Allow", value: allowed.joined(separator: ", ")))
                metrics.increment(SelfMetricCatalog.httpRequests.name, [("receiver", owner.name), ("status", "405")])
                return Self.response(answer)
            }
            return Self.plain(.notFound, "no receiver serves \(path)\n")
        }
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        var pluginRequest = PluginRequest(
            method: method, path: path, query: request.uri.query ?? "", headers: headers,
            remoteAddress: context.remoteAddress)
        // Credentials in the headers are checked before the body is read and before a request slot is
        // taken: a sender without them gets its answer at once and holds nothing while it uploads.
        if let refusal = receiver.authorize(pluginRequest) {
            metrics.increment(SelfMetricCatalog.httpRequests.name, [("receiver", receiver.name), ("status", String(refusal.status))])
            return Self.response(refusal)
        }
        let answer: PluginResponse
        do {
            let closed = context.channel.closeFuture
            answer = try await gate.withSlot(abandoned: { leave in closed.whenComplete { _ in leave() } }) {
                pluginRequest.body = try await BodyReader.read(request, limit: maxBodyBytes, pace: bodyPace)
                let incoming = pluginRequest
                return try await threadPool.runIfActive { receiver.handle(incoming) }
            }
        } catch let failure as BodyReader.Failure {
            let (status, message): (Int, String) =
                switch failure {
                case .tooLarge(let limit): (413, "request body exceeds \(limit) bytes (server.max_body_bytes), compressed or decompressed")
                case .badEncoding(let m): (400, m)
                case .unsupportedEncoding(let e): (415, "unsupported Content-Encoding '\(e)'; use gzip or identity")
                case .tooSlow(let reason): (408, reason)
                }
            answer = receiver.reject(pluginRequest, status: status, message: message)
        } catch is CancellationError {
            // The sender closed the connection while its request waited for a slot: nobody to answer.
            return Self.plain(.serviceUnavailable, "the connection closed before the request was served\n")
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            var refusal = receiver.reject(pluginRequest, status: 503, message: "the collector is shutting down")
            // Every 503 tells the sender when to come back (the receivers' READMEs promise it).
            if !refusal.headers.contains(where: { $0.name.lowercased() == "retry-after" }) {
                refusal.headers.append((name: "Retry-After", value: "1"))
            }
            answer = refusal
        }
        metrics.increment(SelfMetricCatalog.httpRequests.name, [("receiver", receiver.name), ("status", String(answer.status))])
        return Self.response(answer)
    }

    private func builtIn(path: String, method: String) -> Response {
        guard method == "GET" || method == "HEAD" else { return Self.plain(.methodNotAllowed, "use GET\n") }
        switch path {
        case "/healthz": return Self.plain(.ok, "ok\n")
        case "/readyz": return state.isReady ? Self.plain(.ok, "ready\n") : Self.plain(.serviceUnavailable, "not ready\n")
        default:
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func response(_ answer: PluginResponse) -> Response {
        var headers = HTTPFields()
        if !answer.contentType.isEmpty { headers[.contentType] = answer.contentType }
        for h in answer.headers {
            if let name = HTTPField.Name(h.name) { headers.append(HTTPField(name: name, value: h.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// Hummingbird's per-request context, keeping the connection: a request waiting for a slot notices
/// its sender leaving, and receivers see who sent a request.
struct CollectorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// `ip:port` of the sender (`[ipv6]:port`), "" when unknown.
    var remoteAddress: String {
        guard let address = channel.remoteAddress, let ip = address.ipAddress, let port = address.port else { return "" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// Readiness, shared between the server and the pipeline.
final class ServerState: Sendable {
    private let ready = Atomic(false)

    var isReady: Bool { ready.load(ordering: .acquiring) }
    func setReady(_ value: Bool) { ready.store(value, ordering: .releasing) }
}
