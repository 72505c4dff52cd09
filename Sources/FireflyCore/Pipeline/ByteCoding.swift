import FireflyWire
/// Appends little-endian numbers, LEB128 varints and length-prefixed strings to a byte array.
public struct ByteWriter {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func varint(_ v: UInt64) {
        ProtobufWriter.appendVarint(v, to: &bytes)
    }

    public mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func double(_ d: Double) { u64(d.bitPattern) }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { lengthPrefixed(UnsafeRawBufferPointer($0)) }
    }

    public mutating func bytes(_ b: [UInt8]) {
        b.withUnsafeBytes { lengthPrefixed($0) }
    }

    /// A varint length, then the bytes.
    public mutating func lengthPrefixed(_ b: UnsafeRawBufferPointer) {
        varint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }
}

/// Reads what `ByteWriter` wrote, bounds-checked.
public struct ByteReader {
    let base: UnsafeRawBufferPointer
    var offset = 0

    public init(_ base: UnsafeRawBufferPointer) { self.base = base }

    public var isAtEnd: Bool { offset == base.count }

    @inline(__always) public mutating func byte() throws(RecordCodec.DecodeError) -> UInt8 {
        guard offset < base.count else { throw RecordCodec.DecodeError(description: "truncated record") }
        defer { offset += 1 }
        return base[offset]
    }

    public mutating func varint() throws(RecordCodec.DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw RecordCodec.DecodeError(description: "varint overflow") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A length or element count, sanity-checked against the bytes left.
    mutating func count() throws(RecordCodec.DecodeError) -> Int {
        let n = try varint()
        guard n <= UInt64(base.count - offset) else { throw RecordCodec.DecodeError(description: "count exceeds record") }
        return Int(n)
    }

    public mutating func u32() throws(RecordCodec.DecodeError) -> UInt32 {
        guard offset + 4 <= base.count else { throw RecordCodec.DecodeError(description: "truncated record") }
        defer { offset += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    public mutating func u64() throws(RecordCodec.DecodeError) -> UInt64 {
        guard offset + 8 <= base.count else { throw RecordCodec.DecodeError(description: "truncated record") }
        defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    public mutating func double() throws(RecordCodec.DecodeError) -> Double { Double(bitPattern: try u64()) }

    public mutating func string() throws(RecordCodec.DecodeError) -> String {
        let n = try count()
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: base[offset..<offset + n]), as: UTF8.self)
    }

    public mutating func byteArray() throws(RecordCodec.DecodeError) -> [UInt8] {
        let n = try count()
        defer { offset += n }
        return Array(base[offset..<offset + n])
    }
}
