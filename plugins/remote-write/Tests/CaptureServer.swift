// A tiny HTTP server on 127.0.0.1 that records requests and answers with a scripted response.
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Records every request (head and body) and answers each with the next scripted response
/// (the last one repeats).
final class CaptureServer: Sendable {
    struct Captured: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: String = ""
    }

    let requests = Mutex<[Captured]>([])
    let replies: Mutex<[Reply]>
    private let channel: Mutex<Channel?> = Mutex(nil)

    private let tls: NIOSSLContext?

    /// `tls`: serve HTTPS with this certificate and key (PEM files).
    init(replies: [Reply], tls: (cert: String, key: String)? = nil) throws {
        self.replies = Mutex(replies)
        if let tls {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.cert).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
            self.tls = try NIOSSLContext(configuration: configuration)
        } else {
            self.tls = nil
        }
    }

    convenience init(replies: [Reply]) {
        try! self.init(replies: replies, tls: nil)
    }

    var port: Int { channel.withLock { $0?.localAddress?.port ?? 0 } }
    var url: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)/api/v1/write" }

    func start() async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [tls] channel in
                do {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: self))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let ch = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = ch }
    }

    func stop() async {
        let ch = channel.withLock { $0 }
        try? await ch?.close()
    }

    fileprivate func nextReply() -> Reply {
        replies.withLock { list in list.count > 1 ? list.removeFirst() : list[0] }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: CaptureServer
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(server: CaptureServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                server.requests.withLock {
                    $0.append(Captured(method: "\(head.method)", uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body))
                }
                let reply = server.nextReply()
                var headers = HTTPHeaders(reply.headers)
                headers.add(name: "Content-Length", value: String(reply.body.utf8.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: reply.status), headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
