// A bounds-checked protobuf wire-format reader over borrowed bytes, for hand-written decoders.

/// Reads one message's bytes. Every read checks the remaining length first and throws
/// `ProtobufError` rather than reading past the end, so a truncated or hostile body can never
/// crash the collector.
///
/// Typical use reads tags until the end and dispatches on the field number, skipping the rest:
///
///     try ProtobufReader.read(bytes) { (r) throws(ProtobufError) in
///         while !r.isAtEnd {
///             let (field, wire) = try r.readTag()
///             switch (field, wire) {
///             case (1, 2): name = try r.readString()
///             case (2, 2): var sub = try r.readLengthDelimited(); …
///             default: try r.skip(wire)
///             }
///         }
///     }
///
/// It is a value over an unsafe buffer for speed: sub-messages are readers over the same bytes
/// (no copy), and callers keep the buffer alive for the reader's life (`read(_:_:)` or
/// `withUnsafeBytes` around the whole decode). Offsets in errors count from the buffer's start.
/// The hot methods are `@inlinable` so decoders in other modules get them inlined.
public struct ProtobufReader {
    public let base: UnsafeRawPointer?
    /// The next byte to read.
    public var position: Int
    /// One past the last byte of this message.
    public let end: Int

    /// A reader over `buffer[range]` (all of it by default).
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        let r = range ?? 0..<buffer.count
        precondition(r.lowerBound >= 0 && r.upperBound <= buffer.count, "range outside the buffer")
        base = buffer.baseAddress
        position = r.lowerBound
        end = r.upperBound
    }

    @inlinable
    init(base: UnsafeRawPointer?, position: Int, end: Int) {
        self.base = base
        self.position = position
        self.end = end
    }

    @inlinable
    public var isAtEnd: Bool { position >= end }

    // MARK: Tags and raw values

    /// The next field's number and wire type; throws on a field number or wire type that cannot occur.
    @inlinable @inline(__always)
    public mutating func readTag() throws(ProtobufError) -> (field: UInt32, wire: UInt8) {
        let start = position
        let tag = try readVarint()
        let wire = UInt8(truncatingIfNeeded: tag & 7)
        let field = tag >> 3
        guard ProtobufError.isValidField(field), wire <= 5, wire != 3, wire != 4 else {
            throw ProtobufError(.invalidTag(field: field, wire: wire), at: start, position: position)
        }
        return (UInt32(field), wire)
    }

    /// An unsigned varint (up to 10 bytes).
    @inlinable @inline(__always)
    public mutating func readVarint() throws(ProtobufError) -> UInt64 {
        // Fast path: one byte (tags, small lengths, enums).
        if let base, position < end {
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            if b < 0x80 {
                position += 1
                return UInt64(b)
            }
        }
        return try readLongVarint()
    }

    @inlinable @inline(__always)
    mutating func readLongVarint() throws(ProtobufError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let base, position < end else { throw ProtobufError(.truncated, at: start, position: position) }
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            if shift == 63 && b > 1 { throw ProtobufError(.malformedVarint, at: start, position: position - 1) }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// A little-endian 64-bit value (`fixed64`, `sfixed64`, `double` bits).
    @inlinable @inline(__always)
    public mutating func readFixed64() throws(ProtobufError) -> UInt64 {
        guard let base, end - position >= 8 else { throw ProtobufError(.truncated, at: position) }
        let v = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: v)
    }

    /// A little-endian 32-bit value (`fixed32`, `sfixed32`, `float` bits).
    @inlinable @inline(__always)
    public mutating func readFixed32() throws(ProtobufError) -> UInt32 {
        guard let base, end - position >= 4 else { throw ProtobufError(.truncated, at: position) }
        let v = base.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(littleEndian: v)
    }

    @inlinable @inline(__always)
    public mutating func readDouble() throws(ProtobufError) -> Double {
        Double(bitPattern: try readFixed64())
    }

    /// A length-delimited field's payload as a reader of its own.
    @inlinable @inline(__always)
    public mutating func readLengthDelimited() throws(ProtobufError) -> ProtobufReader {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw ProtobufError(.lengthPastEnd(length: length, remaining: end - position), at: start, position: position)
        }
        let sub = ProtobufReader(base: base, position: position, end: position + Int(length))
        position += Int(length)
        return sub
    }

    /// The byte range (in the buffer) of a length-delimited value, moving past it.
    @inlinable
    public mutating func readLengthDelimitedRange() throws(ProtobufError) -> Range<Int> {
        let sub = try readLengthDelimited()
        return sub.position..<sub.end
    }

    /// The remaining bytes of this reader as a buffer (valid while the underlying buffer lives).
    @inlinable
    public var remainingBytes: UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + position, count: end - position)
    }

    /// A string field's text; bytes that are not UTF-8 become U+FFFD.
    @inlinable @inline(__always)
    public mutating func readString() throws(ProtobufError) -> String {
        let sub = try readLengthDelimited()
        return String(decoding: sub.remainingBytes, as: UTF8.self)
    }

    /// A `bytes` field (copied).
    @inlinable @inline(__always)
    public mutating func readBytes() throws(ProtobufError) -> [UInt8] {
        Array(try readLengthDelimited().remainingBytes)
    }

    /// Skips a field of an unknown number (or a known number with an unexpected wire type).
    @inlinable @inline(__always)
    public mutating func skip(_ wire: UInt8) throws(ProtobufError) {
        switch wire {
        case 0: _ = try readVarint()
        case 1:
            guard end - position >= 8 else { throw ProtobufError(.truncated, at: position) }
            position += 8
        case 2: _ = try readLengthDelimited()
        case 5:
            guard end - position >= 4 else { throw ProtobufError(.truncated, at: position) }
            position += 4
        default: throw ProtobufError(.invalidTag(field: 0, wire: wire), at: position)
        }
    }

    // MARK: Repeated numeric fields: packed (LEN) and unpacked (one tag per element) both accepted.

    @inlinable
    public mutating func appendFixed64s(wire: UInt8, to out: inout [UInt64]) throws(ProtobufError) {
        if wire == ProtobufWireType.len.rawValue {
            var packed = try readLengthDelimited()
            guard (packed.end - packed.position) % 8 == 0 else {
                throw ProtobufError(.packedFixed64Length, at: packed.position)
            }
            out.reserveCapacity(out.count + (packed.end - packed.position) / 8)
            while !packed.isAtEnd { out.append(try packed.readFixed64()) }
        } else if wire == ProtobufWireType.fixed64.rawValue {
            out.append(try readFixed64())
        } else {
            try skip(wire)
        }
    }

    @inlinable
    public mutating func appendDoubles(wire: UInt8, to out: inout [Double]) throws(ProtobufError) {
        if wire == ProtobufWireType.len.rawValue {
            var packed = try readLengthDelimited()
            guard (packed.end - packed.position) % 8 == 0 else {
                throw ProtobufError(.packedDoubleLength, at: packed.position)
            }
            out.reserveCapacity(out.count + (packed.end - packed.position) / 8)
            while !packed.isAtEnd { out.append(try packed.readDouble()) }
        } else if wire == ProtobufWireType.fixed64.rawValue {
            out.append(try readDouble())
        } else {
            try skip(wire)
        }
    }

    @inlinable
    public mutating func appendVarints(wire: UInt8, to out: inout [UInt64]) throws(ProtobufError) {
        if wire == ProtobufWireType.len.rawValue {
            var packed = try readLengthDelimited()
            while !packed.isAtEnd { out.append(try packed.readVarint()) }
        } else if wire == ProtobufWireType.varint.rawValue {
            out.append(try readVarint())
        } else {
            try skip(wire)
        }
    }

    // MARK: Buffers and streams

    /// Runs `decode` with a reader over `bytes`, keeping the buffer alive for the reader's life.
    @inlinable
    public static func read<T, E: Error>(
        _ bytes: [UInt8], _ decode: (inout ProtobufReader) throws(E) -> T
    ) throws(E) -> T {
        let result: Result<T, E> = bytes.withUnsafeBytes { raw in
            var reader = ProtobufReader(raw)
            do throws(E) {
                return .success(try decode(&reader))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Splits a varint-length-delimited stream (`writeDelimitedTo` framing, as CloudWatch Metric
    /// Streams use for OpenTelemetry records) into the ranges of its messages. Each length is
    /// checked against the remaining bytes.
    public static func delimitedMessages(in buffer: UnsafeRawBufferPointer, range: Range<Int>? = nil) throws(ProtobufError) -> [Range<Int>] {
        var r = ProtobufReader(buffer, range: range)
        var out: [Range<Int>] = []
        while !r.isAtEnd { out.append(try r.readLengthDelimitedRange()) }
        return out
    }
}

extension Int32 {
    /// Zig-zag decoding of protobuf `sint32`.
    @inlinable
    public init(zigZag v: UInt64) {
        let u = UInt32(truncatingIfNeeded: v)
        self = Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
}
