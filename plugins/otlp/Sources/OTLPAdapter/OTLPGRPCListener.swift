// The OTLP/gRPC listener: binds its port synchronously (so `start` can fail cleanly) and runs a GRPCServer.
import Dispatch
import FireflyPluginKit
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the listener could not start (shown by the collector as "cannot start: ...").
public struct OTLPListenError: Error, CustomStringConvertible {
    public var description: String
}

/// IP literal checks for `grpc.listen`.
enum SocketAddressText {
    static func isIPv4(_ text: String) -> Bool {
        var a = in_addr()
        return inet_pton(AF_INET, text, &a) == 1
    }

    static func isIPv6(_ text: String) -> Bool {
        var a = in6_addr()
        return inet_pton(AF_INET6, text, &a) == 1
    }
}

/// A running OTLP/gRPC server. `stop()` returns only when the server has stopped and no emit is
/// in flight.
final class OTLPGRPCListener: Sendable {
    /// The bound port (the kernel's choice when configured as 0).
    let port: Int
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    private let serving: Task<Void, Never>
    private let finished: DispatchSemaphore
    private let emitter: BlockingEmitter

    /// Seconds `stop` waits for in-flight calls to finish before cancelling them.
    static let gracePeriodSeconds = 5

    init(settings: OTLPSettings.GRPCSettings, exporter: OTLPGRPCExporter, context: PluginContext) throws {
        let (fd, port) = try Self.bindListeningSocket(host: settings.host, port: settings.port, label: settings.listen)
        self.port = port
        emitter = exporter.emitter
        let config = HTTP2ServerTransport.Posix.Config.defaults { c in
            // gzip/deflate requests are not decompressed by the transport (its decompressor spins
            // on a truncated message): `GRPCCompressionGate`, first in every stream, hands them to
            // the deserializer, which inflates them within grpc.max_message_bytes after the token
            // check. The algorithms stay enabled for compressing responses. The transport's payload
            // limit is a backstop at twice the configured limit (it resets the stream); the
            // deserializer answers RESOURCE_EXHAUSTED at the configured limit itself.
            c.compression.enabledAlgorithms = [.gzip, .deflate]
            c.rpc.maxRequestPayloadSize = Self.transportLimit(settings.maxMessageBytes)
            c.channelDebuggingCallbacks.onAcceptHTTP2Stream = { channel in
                // Called on the stream's event loop while it is set up, before its first frame.
                channel.eventLoop.makeCompletedFuture(withResultOf: {
                    try channel.pipeline.syncOperations.addHandler(GRPCCompressionGate(), position: .first)
                })
            }
        }
        // The transport owns the descriptor from here on (it closes it when it stops).
        let transport = HTTP2ServerTransport.Posix(
            listeningSocketDescriptor: Int(fd), transportSecurity: .plaintext, config: config)
        let server = GRPCServer(transport: transport, services: [OTLPGRPCService(exporter: exporter, maxMessageBytes: settings.maxMessageBytes)])
        self.server = server
        self.transport = transport
        let finished = DispatchSemaphore(value: 0)
        self.finished = finished
        let name = context.instanceName
        serving = Task.detached {
            do {
                try await server.serve()
            } catch {
                context.log(.error, "otlp receiver '\(name)': the OTLP/gRPC server stopped with an error: \(error)")
            }
            finished.signal()
        }
    }

    static func transportLimit(_ configured: Int) -> Int { min(configured * 2, Int(UInt32.max)) }

    /// Graceful shutdown (GOAWAY, in-flight calls finish), cancelling after the grace period;
    /// then waits for every emit to return.
    func stop() {
        // A shutdown that overtakes `serve()` registering the listening socket trips an assertion in
        // NIO (seen with a start followed at once by a stop): wait until the transport listens, or
        // has failed to, first.
        let listening = DispatchSemaphore(value: 0)
        let transport = self.transport
        Task.detached {
            _ = try? await transport.listeningAddress
            listening.signal()
        }
        _ = listening.wait(timeout: .now() + .seconds(Self.gracePeriodSeconds))
        server.beginGracefulShutdown()
        if finished.wait(timeout: .now() + .seconds(Self.gracePeriodSeconds)) == .timedOut {
            serving.cancel()
            finished.wait()
        }
        emitter.close()
    }

    /// socket + bind + listen, so "address in use" is an error of `start` itself.
    static func bindListeningSocket(host: String, port: Int, label: String) throws -> (Int32, Int) {
        let v6 = host.contains(":")
        #if canImport(Darwin)
        let streamType = SOCK_STREAM
        #else
        let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #endif
        let fd = socket(v6 ? AF_INET6 : AF_INET, streamType, 0)
        guard fd >= 0 else { throw failure("socket", label) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET6, host, &a.sin6_addr) == 1 else {
                close(fd)
                throw OTLPListenError(description: "grpc.listen: '\(host)' is not an IPv6 address")
            }
            bound = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else {
                close(fd)
                throw OTLPListenError(description: "grpc.listen: '\(host)' is not an IPv4 address")
            }
            bound = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard bound == 0 else {
            let error = failure("bind", label)
            close(fd)
            throw error
        }
        guard listen(fd, 256) == 0 else {
            let error = failure("listen", label)
            close(fd)
            throw error
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        var actual = port
        if named == 0 {
            actual = withUnsafePointer(to: &storage) { p -> Int in
                if v6 {
                    return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                }
                return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        }
        return (fd, actual)
    }

    private static func failure(_ call: String, _ label: String) -> OTLPListenError {
        let code = errno
        let reason = String(cString: strerror(code))
        var text = "cannot listen for OTLP/gRPC on \(label) (\(call): \(reason))"
        if code == EADDRINUSE {
            text += "; another process uses the port: set grpc.listen to a free port, or grpc.enabled: false"
        }
        return OTLPListenError(description: text)
    }
}
