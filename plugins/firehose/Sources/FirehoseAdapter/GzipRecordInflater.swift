// Bounded gzip inflation of one Firehose record (CloudWatch Logs subscriptions gzip their records).
import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Inflates a record made of one or more concatenated gzip members into a reusable buffer, refusing
/// output over a fixed limit (a few hundred bytes of gzip can inflate to gigabytes) and input that
/// ends inside a member, stalls, or continues with something other than another member.
enum GzipRecordInflater {
    enum Failure: Error, Equatable {
        case tooLarge(limit: Int)
        case invalid(String)
    }

    /// Whether `bytes` starts with the gzip magic number (RFC 1952: 1f 8b).
    static func isGzip(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// A buffer of `count` bytes starting with the first `keeping` bytes of `old` (memcpy/memset:
    /// growing element by element costs seconds for megabytes in a debug build).
    private static func grown(_ old: [UInt8], to count: Int, keeping: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            old.withUnsafeBufferPointer { src in
                if keeping > 0 { memcpy(out.baseAddress!, src.baseAddress!, keeping) }
            }
            memset(out.baseAddress! + keeping, 0, count - keeping)
            initialized = count
        }
    }

    /// Inflates `input` into `buffer[0..<n]` and returns n. `buffer` only grows (its bytes past n
    /// are leftovers), so one buffer serves every record of a request.
    static func inflate(
        _ input: UnsafeBufferPointer<UInt8>, into buffer: inout [UInt8], limit: Int
    ) throws(Failure) -> Int {
        guard let inputBase = input.baseAddress, input.count > 0 else { throw .invalid("empty gzip data") }
        var stream = z_stream()
        // 15 window bits + 16: the gzip wrapper only.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalid("cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: inputBase)
        stream.avail_in = UInt32(input.count)
        if buffer.count < 64 * 1024 { buffer = grown(buffer, to: Swift.min(64 * 1024, limit + 1), keeping: 0) }
        var produced = 0
        while true {
            if produced == buffer.count {
                guard buffer.count <= limit else { throw .tooLarge(limit: limit) }
                // Room for one byte over the limit, so that output reaching it is told apart from output exceeding it.
                buffer = grown(buffer, to: Swift.min(buffer.count * 2, limit + 1), keeping: produced)
            }
            let availableIn = stream.avail_in
            var rc: Int32 = Z_OK
            let written = buffer.withUnsafeMutableBufferPointer { out -> Int in
                let room = out.count - produced
                stream.next_out = out.baseAddress! + produced
                stream.avail_out = UInt32(room)
                rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                return room - Int(stream.avail_out)
            }
            produced += written
            if produced > limit { throw .tooLarge(limit: limit) }
            switch rc {
            case Z_STREAM_END:
                // Concatenated members are one stream (RFC 1952 §2.2): start over on the rest.
                let rest = Int(stream.avail_in)
                if rest == 0 { return produced }
                let next = input.count - rest
                guard rest >= 2, input[next] == 0x1F, input[next + 1] == 0x8B else {
                    throw .invalid("data after the end of the gzip stream at byte \(next)")
                }
                guard inflateReset(&stream) == Z_OK else { throw .invalid("cannot reset zlib") }
            case Z_OK, Z_BUF_ERROR:
                if stream.avail_in == 0 && stream.avail_out > 0 { throw .invalid("truncated gzip data") }
                if written == 0 && stream.avail_in == availableIn && stream.avail_out > 0 {
                    throw .invalid("gzip data makes no progress")
                }
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib code \(rc)"
                throw .invalid("invalid gzip data: \(message)")
            }
        }
    }
}
