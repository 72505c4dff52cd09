// Keeps compressed gRPC messages away from the transport's decompressor; the deserializer inflates them.
import NIOCore
import NIOHPACK
import NIOHTTP2
import FireflyWire

/// A `grpc-encoding` the OTLP receiver accepts (as sent in `CompressedMessage`).
enum GRPCCompression: UInt8, Sendable {
    case gzip = 1
    case deflate = 2

    init?(headerValue: String) {
        switch headerValue.lowercased() {
        case "gzip": self = .gzip
        case "deflate": self = .deflate
        default: return nil
        }
    }

    var name: String { self == .gzip ? "gzip" : "deflate" }

    /// gRPC's `deflate` is zlib-wrapped deflate.
    var format: Inflater.Format { self == .gzip ? .gzip : .zlib }
}

/// A compressed request message in transit from the gate to the deserializer: the gate rewrites a
/// compressed gRPC message (flag 1) into an uncompressed one (flag 0) whose payload is this marker,
/// the algorithm and the compressed bytes. A protobuf message never starts with a 0 byte (field
/// number 0 is invalid), so the marker cannot be mistaken for a real request.
enum CompressedMessage {
    static let marker: [UInt8] = [0x00, 0x46, 0x46, 0x5A]  // "\0FFZ"
    static let overhead = marker.count + 1

    static func header(_ algorithm: GRPCCompression) -> [UInt8] { marker + [algorithm.rawValue] }

    /// The algorithm and the offset of the compressed bytes when `bytes` carries the marker.
    static func unwrap(_ bytes: UnsafeRawBufferPointer) -> (GRPCCompression, Int)? {
        guard bytes.count >= overhead, zip(marker, bytes).allSatisfy({ $0 == $1 }) else { return nil }
        return GRPCCompression(rawValue: bytes[marker.count]).map { ($0, overhead) }
    }
}

/// Sits first in every HTTP/2 stream of the OTLP/gRPC listener. When a call declares
/// `grpc-encoding: gzip` or `deflate`, it removes that header (so the transport creates no
/// decompressor: grpc-swift-nio-transport's spins forever on a truncated message, before the
/// handler has even checked the bearer token) and rewrites each compressed message into a
/// `CompressedMessage`. `OTLPRequestDeserializer` then inflates it with `Inflater`, bounded
/// by `grpc.max_message_bytes`, after authentication. Messages are streamed through, never buffered
/// (only a split 5-byte message prefix is held back).
final class GRPCCompressionGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    private var sawHeaders = false
    private var algorithm: GRPCCompression?
    /// The bytes of a message prefix (flag + length) received so far.
    private var prefix: [UInt8] = []
    /// Bytes of the current message's payload still to pass through.
    private var remaining = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(var headers) where !sawHeaders:
            sawHeaders = true
            let values = headers.headers[canonicalForm: "grpc-encoding"]
            if values.count == 1, let algorithm = GRPCCompression(headerValue: String(values[0])) {
                self.algorithm = algorithm
                headers.headers.remove(name: "grpc-encoding")
                context.fireChannelRead(wrapInboundOut(.headers(headers)))
            } else {
                context.fireChannelRead(data)
            }
        case .data(var frame):
            guard let algorithm, case .byteBuffer(var buffer) = frame.data else {
                context.fireChannelRead(data)
                return
            }
            var out = context.channel.allocator.buffer(capacity: buffer.readableBytes + CompressedMessage.overhead + 5)
            rewrite(&buffer, into: &out, algorithm: algorithm)
            if frame.endStream {
                // A prefix cut short by the end of the stream: the transport reports it.
                out.writeBytes(prefix)
                prefix = []
            }
            guard out.readableBytes > 0 || frame.endStream else { return }
            frame.data = .byteBuffer(out)
            context.fireChannelRead(wrapInboundOut(.data(frame)))
        default:
            context.fireChannelRead(data)
        }
    }

    private func rewrite(_ buffer: inout ByteBuffer, into out: inout ByteBuffer, algorithm: GRPCCompression) {
        while buffer.readableBytes > 0 {
            if remaining > 0 {
                let n = min(remaining, buffer.readableBytes)
                out.writeImmutableBuffer(buffer.readSlice(length: n)!)
                remaining -= n
                continue
            }
            let n = min(5 - prefix.count, buffer.readableBytes)
            prefix += buffer.readBytes(length: n)!
            guard prefix.count == 5 else { continue }
            let length = prefix[1...4].reduce(0) { $0 << 8 | Int($1) }
            if prefix[0] == 1, length + CompressedMessage.overhead <= Int(UInt32.max) {
                out.writeInteger(UInt8(0))
                out.writeInteger(UInt32(length + CompressedMessage.overhead))
                out.writeBytes(CompressedMessage.header(algorithm))
            } else {
                out.writeBytes(prefix)  // uncompressed, or too long: the transport refuses it by length
            }
            remaining = length
            prefix = []
        }
    }
}
