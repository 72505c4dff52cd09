// Bounded zlib/gzip decompression: one engine for request bodies, gRPC messages and Firehose records.
import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Inflates gzip (RFC 1952) or zlib-wrapped deflate (RFC 1950, what gRPC calls `deflate`) data
/// into at most `limit` bytes: a few hundred bytes of input can inflate to gigabytes, so output
/// past the limit is refused as soon as it appears. Every step either consumes input, produces
/// output or throws, so no input makes it loop; input that ends inside the stream is an error
/// (`truncated … data`). Concatenated gzip members are one stream (RFC 1952 §2.2); anything else
/// after the end of the stream is an error.
///
/// Use `inflate(_:format:limit:into:)` for a whole buffer, or an instance to `feed` a stream in
/// chunks and `finish` it.
public final class Inflater {
    public enum Format: Sendable {
        case gzip
        /// zlib-wrapped deflate.
        case zlib

        /// The name used in error messages (gRPC's name for the zlib format).
        public var name: String { self == .gzip ? "gzip" : "deflate" }

        /// 15-bit window; +16 selects the gzip wrapper, plain 15 the zlib wrapper.
        var windowBits: Int32 { self == .gzip ? 15 + 16 : 15 }
    }

    public enum Failure: Error, Equatable, Sendable {
        /// The output would exceed `limit` bytes.
        case tooLarge(limit: Int)
        case invalid(String)
    }

    /// Whether `bytes` starts with the gzip magic number (RFC 1952: 1f 8b).
    @inlinable
    public static func isGzip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let format: Format
    private let limit: Int
    /// Inflated bytes: the first `count` bytes of `buffer`.
    private var buffer = GrowableBytes()
    private var count = 0
    /// At the end of a stream (or member): more input must start a new gzip member.
    private var atStreamEnd = false

    public init(format: Format, limit: Int) throws(Failure) {
        self.format = format
        self.limit = limit
        // `stream` is stored only once zlib accepted it: an initializer that throws after every
        // stored property is set still runs `deinit`, which would free it a second time.
        let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        z.initialize(to: z_stream())
        let rc = inflateInit2_(z, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            z.deinitialize(count: 1)
            z.deallocate()
            throw .invalid("cannot initialise zlib (\(rc))")
        }
        stream = z
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        buffer.release()
    }

    /// The bytes inflated so far.
    public var output: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            if count > 0 { out.baseAddress!.update(from: buffer.base!, count: count) }
            initialized = count
        }
    }

    /// Feeds compressed bytes; inflates what they hold.
    public func feed(_ input: UnsafeRawBufferPointer) throws(Failure) {
        guard input.count > 0 else { return }
        try Self.run(stream, input, format: format, limit: limit, into: &buffer, count: &count, atStreamEnd: &atStreamEnd)
    }

    /// Checks the stream ended cleanly (not truncated).
    public func finish() throws(Failure) {
        guard atStreamEnd else { throw .invalid("truncated \(format.name) data") }
    }

    /// Inflates all of `input` into `buffer[0..<n]` and returns n. `buffer` only grows (its bytes
    /// past n are leftovers), so one buffer can serve many inputs.
    public static func inflate(
        _ input: UnsafeRawBufferPointer, format: Format, limit: Int, into buffer: inout [UInt8]
    ) throws(Failure) -> Int {
        var stream = z_stream()
        var count = 0
        var atStreamEnd = false
        // zlib keeps the stream's address: init, inflate and end all inside one pointer scope.
        try withUnsafeMutablePointer(to: &stream) { (s) throws(Failure) in
            guard inflateInit2_(s, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw .invalid("cannot initialise zlib")
            }
            defer { inflateEnd(s) }
            try run(s, input, format: format, limit: limit, into: &buffer, count: &count, atStreamEnd: &atStreamEnd)
        }
        guard atStreamEnd else { throw .invalid("truncated \(format.name) data") }
        return count
    }

    /// `inflate(_:format:limit:into:)` into a new array.
    public static func inflate(_ input: [UInt8], format: Format, limit: Int) throws(Failure) -> [UInt8] {
        var buffer: [UInt8] = []
        let result: Result<Int, Failure> = input.withUnsafeBytes { raw in
            do throws(Failure) {
                return .success(try inflate(raw, format: format, limit: limit, into: &buffer))
            } catch {
                return .failure(error)
            }
        }
        buffer.removeSubrange(try result.get()...)
        return buffer
    }

    /// Inflates `input` onto `buffer[count...]` until the input is used up. `atStreamEnd` says
    /// whether the last byte consumed ended the stream.
    private static func run(
        _ stream: UnsafeMutablePointer<z_stream>, _ input: UnsafeRawBufferPointer, format: Format, limit: Int,
        into buffer: inout some InflateOutput, count produced: inout Int, atStreamEnd: inout Bool
    ) throws(Failure) {
        guard let inputBase = input.baseAddress, input.count > 0 else { return }
        if atStreamEnd {
            try startMember(stream, input, at: 0, format: format)
            atStreamEnd = false
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBase.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        let initial = Swift.min(64 * 1024, limit + 1)
        if buffer.size < initial { buffer.grow(to: initial, keeping: produced) }
        while true {
            if produced == buffer.size {
                guard buffer.size <= limit else { throw .tooLarge(limit: limit) }
                // Room for one byte over the limit, so that output reaching it is told apart from output exceeding it.
                buffer.grow(to: Swift.min(buffer.size * 2, limit + 1), keeping: produced)
            }
            let availableIn = stream.pointee.avail_in
            var rc: Int32 = Z_OK
            let written = buffer.withSpace(from: produced) { out, room -> Int in
                stream.pointee.next_out = out
                stream.pointee.avail_out = UInt32(room)
                rc = CZlib.inflate(stream, Z_NO_FLUSH)
                return room - Int(stream.pointee.avail_out)
            }
            produced += written
            if produced > limit { throw .tooLarge(limit: limit) }
            switch rc {
            case Z_STREAM_END:
                let rest = Int(stream.pointee.avail_in)
                if rest == 0 {
                    atStreamEnd = true
                    return
                }
                try startMember(stream, input, at: input.count - rest, format: format)
            case Z_OK, Z_BUF_ERROR:
                // All input read and room left: the stream goes on in input not given yet.
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                if written == 0 && stream.pointee.avail_in == availableIn && stream.pointee.avail_out > 0 {
                    throw .invalid("\(format.name) data makes no progress")
                }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib code \(rc)"
                throw .invalid("invalid \(format.name) data: \(message)")
            }
        }
    }

    /// After the end of a stream, more input must be another gzip member: reset for it.
    private static func startMember(
        _ stream: UnsafeMutablePointer<z_stream>, _ input: UnsafeRawBufferPointer, at next: Int, format: Format
    ) throws(Failure) {
        guard format == .gzip, input[next] == 0x1F, next + 1 == input.count || input[next + 1] == 0x8B else {
            throw .invalid("data after the end of the \(format.name) stream at byte \(next)")
        }
        guard inflateReset(stream) == Z_OK else { throw .invalid("cannot reset zlib") }
    }
}

/// Where `Inflater.run` writes: room for `size` bytes that grows on demand.
private protocol InflateOutput {
    var size: Int { get }
    /// At least `count` bytes of room, the first `keeping` of them kept.
    mutating func grow(to count: Int, keeping: Int)
    /// `body` gets the room from byte `offset` on and its size.
    mutating func withSpace<R>(from offset: Int, _ body: (UnsafeMutablePointer<UInt8>, Int) -> R) -> R
}

/// A caller's array, reused across inputs (its bytes past the output are leftovers).
extension [UInt8]: InflateOutput {
    fileprivate var size: Int { count }

    /// A new array of `count` bytes (no element by element growth: that costs seconds for
    /// megabytes in a debug build).
    fileprivate mutating func grow(to count: Int, keeping: Int) {
        let old = self
        self = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            old.withUnsafeBufferPointer { src in
                if keeping > 0 { out.baseAddress!.update(from: src.baseAddress!, count: keeping) }
            }
            (out.baseAddress! + keeping).initialize(repeating: 0, count: count - keeping)
            initialized = count
        }
    }

    fileprivate mutating func withSpace<R>(from offset: Int, _ body: (UnsafeMutablePointer<UInt8>, Int) -> R) -> R {
        withUnsafeMutableBufferPointer { body($0.baseAddress! + offset, $0.count - offset) }
    }
}

/// The streaming inflater's own buffer, grown with `realloc`: a large one is remapped rather than
/// copied, and no byte is written before zlib writes it, so a request body costs its inflated
/// size in memory and one copy (`Inflater.output`), not the doublings' zeroed pages and copies.
private struct GrowableBytes: InflateOutput {
    private(set) var base: UnsafeMutablePointer<UInt8>?
    private(set) var size = 0

    mutating func grow(to count: Int, keeping: Int) {
        guard let grown = realloc(base, count) else { fatalError("out of memory growing an inflate buffer to \(count) bytes") }
        base = grown.assumingMemoryBound(to: UInt8.self)
        size = count
    }

    mutating func withSpace<R>(from offset: Int, _ body: (UnsafeMutablePointer<UInt8>, Int) -> R) -> R {
        body(base! + offset, size - offset)
    }

    mutating func release() {
        free(base)
        base = nil
        size = 0
    }
}
