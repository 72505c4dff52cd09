// A bounds-checked protobuf wire-format reader over borrowed bytes (OTLP's hand-written decoder).

/// Why a protobuf body could not be decoded; `message` is safe to return to the sender.
public struct OTLPDecodeError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Protobuf wire types (the low three bits of a tag).
enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, len = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// Reads one message's bytes. Every read checks the remaining length first and throws rather than
/// reading past the end, so a truncated or hostile body can never crash the collector.
///
/// It is a value over an unsafe buffer for speed: callers keep the buffer alive for the reader's life
/// (`withUnsafeBytes` around the whole decode).
struct ProtoReader {
    let base: UnsafeRawPointer?
    private(set) var position: Int
    let end: Int

    init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress
        position = 0
        end = buffer.count
    }

    private init(base: UnsafeRawPointer?, position: Int, end: Int) {
        self.base = base
        self.position = position
        self.end = end
    }

    var isAtEnd: Bool { position >= end }

    /// The next field's number and wire type; throws on a field number 0 or a wire type that cannot occur.
    @inline(__always)
    mutating func readTag() throws(OTLPDecodeError) -> (field: UInt32, wire: UInt8) {
        let tag = try readVarint()
        let wire = UInt8(truncatingIfNeeded: tag & 7)
        let field = tag >> 3
        guard field != 0, field <= 536_870_911 else { throw OTLPDecodeError("invalid field number \(field) at byte \(position)") }
        guard wire <= 5, wire != 3, wire != 4 else {
            throw OTLPDecodeError("invalid wire type \(wire) for field \(field) at byte \(position)")
        }
        return (UInt32(field), wire)
    }

    @inline(__always)
    mutating func readVarint() throws(OTLPDecodeError) -> UInt64 {
        guard let base else { throw truncated() }
        // Fast path: one byte (tags, small lengths, enums).
        if position < end {
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            if b < 0x80 {
                position += 1
                return UInt64(b)
            }
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw truncated() }
            let b = base.load(fromByteOffset: position, as: UInt8.self)
            position += 1
            if shift == 63 && b > 1 { throw OTLPDecodeError("varint overflows 64 bits at byte \(position - 1)") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always)
    mutating func readFixed64() throws(OTLPDecodeError) -> UInt64 {
        guard let base, end - position >= 8 else { throw truncated() }
        let v = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: v)
    }

    @inline(__always)
    mutating func readFixed32() throws(OTLPDecodeError) -> UInt32 {
        guard let base, end - position >= 4 else { throw truncated() }
        let v = base.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(littleEndian: v)
    }

    @inline(__always)
    mutating func readDouble() throws(OTLPDecodeError) -> Double {
        Double(bitPattern: try readFixed64())
    }

    /// A length-delimited field's payload as a reader of its own.
    @inline(__always)
    mutating func readLengthDelimited() throws(OTLPDecodeError) -> ProtoReader {
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw OTLPDecodeError("length \(length) at byte \(position) runs past the end of its message (\(end - position) bytes left)")
        }
        let sub = ProtoReader(base: base, position: position, end: position + Int(length))
        position += Int(length)
        return sub
    }

    /// The remaining bytes of this reader as a buffer (valid while the underlying buffer lives).
    var remainingBytes: UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + position, count: end - position)
    }

    @inline(__always)
    mutating func readString() throws(OTLPDecodeError) -> String {
        let sub = try readLengthDelimited()
        return String(decoding: sub.remainingBytes, as: UTF8.self)
    }

    @inline(__always)
    mutating func readBytes() throws(OTLPDecodeError) -> [UInt8] {
        Array(try readLengthDelimited().remainingBytes)
    }

    /// Skips a field of an unknown number (or a known number with an unexpected wire type).
    @inline(__always)
    mutating func skip(_ wire: UInt8) throws(OTLPDecodeError) {
        switch wire {
        case 0: _ = try readVarint()
        case 1:
            guard end - position >= 8 else { throw truncated() }
            position += 8
        case 2: _ = try readLengthDelimited()
        case 5:
            guard end - position >= 4 else { throw truncated() }
            position += 4
        default: throw OTLPDecodeError("invalid wire type \(wire) at byte \(position)")
        }
    }

    private func truncated() -> OTLPDecodeError {
        OTLPDecodeError("message truncated at byte \(position)")
    }

    // MARK: Repeated numeric fields: packed (LEN) and unpacked (one tag per element) both accepted.

    mutating func appendFixed64s(wire: UInt8, to out: inout [UInt64]) throws(OTLPDecodeError) {
        if wire == WireType.len.rawValue {
            var packed = try readLengthDelimited()
            guard (packed.end - packed.position) % 8 == 0 else { throw OTLPDecodeError("packed fixed64 field length is not a multiple of 8") }
            out.reserveCapacity(out.count + (packed.end - packed.position) / 8)
            while !packed.isAtEnd { out.append(try packed.readFixed64()) }
        } else if wire == WireType.fixed64.rawValue {
            out.append(try readFixed64())
        } else {
            try skip(wire)
        }
    }

    mutating func appendDoubles(wire: UInt8, to out: inout [Double]) throws(OTLPDecodeError) {
        if wire == WireType.len.rawValue {
            var packed = try readLengthDelimited()
            guard (packed.end - packed.position) % 8 == 0 else { throw OTLPDecodeError("packed double field length is not a multiple of 8") }
            out.reserveCapacity(out.count + (packed.end - packed.position) / 8)
            while !packed.isAtEnd { out.append(try packed.readDouble()) }
        } else if wire == WireType.fixed64.rawValue {
            out.append(try readDouble())
        } else {
            try skip(wire)
        }
    }

    mutating func appendVarints(wire: UInt8, to out: inout [UInt64]) throws(OTLPDecodeError) {
        if wire == WireType.len.rawValue {
            var packed = try readLengthDelimited()
            while !packed.isAtEnd { out.append(try packed.readVarint()) }
        } else if wire == WireType.varint.rawValue {
            out.append(try readVarint())
        } else {
            try skip(wire)
        }
    }
}

extension Int32 {
    /// Zig-zag decoding of protobuf `sint32`.
    init(zigZag v: UInt64) {
        let u = UInt32(truncatingIfNeeded: v)
        self = Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
}

extension ProtoReader {
    /// Runs `decode` with a reader over `bytes`, keeping the buffer alive for the reader's life.
    static func read<T>(
        _ bytes: [UInt8], _ decode: (inout ProtoReader) throws(OTLPDecodeError) -> T
    ) throws(OTLPDecodeError) -> T {
        let result: Result<T, OTLPDecodeError> = bytes.withUnsafeBytes { raw in
            var reader = ProtoReader(raw)
            do throws(OTLPDecodeError) {
                return .success(try decode(&reader))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
