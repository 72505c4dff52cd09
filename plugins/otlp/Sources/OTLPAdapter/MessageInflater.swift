// Bounded zlib decompression of one gRPC message: ends with an error on truncated or stalled input.
import CZlib

/// Inflates a whole gzip or deflate (zlib) message into at most `limit` bytes.
///
/// grpc-swift-nio-transport's own decompressor loops forever on a truncated message (zlib answers
/// "no progress" and it keeps growing its buffer); this one treats input that ends before the
/// compressed stream does, or a call that neither reads nor writes, as an error.
enum MessageInflater {
    enum Algorithm: UInt8, Sendable {
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

        /// 15-bit window; +16 selects the gzip wrapper, plain 15 the zlib wrapper gRPC's deflate uses.
        fileprivate var windowBits: Int32 { self == .gzip ? 15 + 16 : 15 }
    }

    enum Failure: Error, Equatable {
        case tooLarge(limit: Int)
        case invalid(String)
    }

    static func inflate(_ input: [UInt8], algorithm: Algorithm, limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, algorithm.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalid("cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return try input.withUnsafeBufferPointer { (source) throws(Failure) -> [UInt8] in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let before = stream.avail_in
                var rc: Int32 = Z_OK
                let produced = chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                if output.count + produced > limit { throw .tooLarge(limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                switch rc {
                case Z_STREAM_END:
                    return output
                case Z_OK, Z_BUF_ERROR:
                    if stream.avail_in == 0 && produced < chunk.count {
                        throw .invalid("truncated \(algorithm.name) data")
                    }
                    if produced == 0 && stream.avail_in == before {
                        throw .invalid("\(algorithm.name) data makes no progress")
                    }
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                    throw .invalid("invalid \(algorithm.name) data: \(message)")
                }
            }
        }
    }
}
