import CZlib

/// Streaming gzip decompression with a hard cap on the output size, so a small bomb that inflates
/// to gigabytes is refused after `limit` bytes instead of exhausting memory. Every call to `feed`
/// either consumes input or throws, so no input makes it loop; `finish` refuses a stream that
/// ended early.
final class GzipInflater {
    enum Failure: Error, Equatable {
        case tooLarge
        case invalid(String)
    }

    private var stream = z_stream()
    private let limit: Int
    private(set) var output: [UInt8] = []
    private var finished = false
    private var initialised = false

    init(limit: Int) throws(Failure) {
        self.limit = limit
        // 15 window bits + 16: gzip wrapper only.
        let rc = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw .invalid("cannot initialise zlib (\(rc))") }
        initialised = true
    }

    deinit {
        if initialised { inflateEnd(&stream) }
    }

    /// Feeds compressed bytes; appends what they inflate to.
    func feed(_ input: UnsafeRawBufferPointer) throws(Failure) {
        guard input.count > 0 else { return }
        var offset = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while offset < input.count {
            if finished {
                // Concatenated gzip members are one stream (RFC 1952 §2.2).
                guard inflateReset(&stream) == Z_OK else { throw .invalid("cannot reset zlib") }
                finished = false
            }
            let base = input.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = UInt32(input.count - offset)
            var rc: Int32 = Z_OK
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                if rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && produced == 0) {
                    let message = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                    throw .invalid("invalid gzip data: \(message)")
                }
                if output.count + produced > limit { throw .tooLarge }
                output.append(contentsOf: chunk[0..<produced])
                if rc == Z_STREAM_END {
                    finished = true
                    break
                }
                if produced == 0 { break }
            } while stream.avail_in > 0 || stream.avail_out == 0
            let consumed = input.count - Int(stream.avail_in) - offset
            offset += consumed
            if !finished {
                if stream.avail_in == 0 { break }
                // Input left, nothing read or written: another call would not move either.
                if consumed == 0 { throw .invalid("invalid gzip data: inflate makes no progress") }
            }
        }
    }

    /// Checks the stream ended cleanly (not truncated).
    func finish() throws(Failure) {
        guard finished else { throw .invalid("truncated gzip data") }
    }
}
