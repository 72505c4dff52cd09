// gzip compression (RFC 1952): Firehose bodies in the demo, OTLP export requests.
import CZlib

/// One-shot gzip (RFC 1952) of a buffer with zlib's deflate.
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public var code: Int32
        public var description: String { "zlib deflate failed with code \(code)" }
    }

    /// `level` 1 (fastest) … 9 (smallest); Firehose uses the default, 6.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper (header and CRC-32 trailer).
        var rc = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure(code: rc) }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        let written: Int = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                rc = deflate(&stream, Z_FINISH)
                return outBuf.count - Int(stream.avail_out)
            }
        }
        guard rc == Z_STREAM_END else { throw Failure(code: rc) }
        output.removeSubrange(written...)
        return output
    }
}
