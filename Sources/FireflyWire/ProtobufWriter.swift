// A protobuf wire-format writer: OTLP requests and responses, remote-write, demo payloads.

/// Appends protobuf fields to a byte buffer. Sub-messages are written either with
/// `message(_:_:)`, which encodes the body first and then prefixes its length (simple; fine for
/// small messages), or — where throughput matters — by computing sizes first (`varintSize`,
/// `stringFieldSize`) and writing `lengthPrefix` then the body, so every byte is written once.
public struct ProtobufWriter: Sendable {
    public var bytes: [UInt8] = []

    @inlinable
    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    @inlinable @inline(__always)
    public mutating func varint(_ value: UInt64) {
        Self.appendVarint(value, to: &bytes)
    }

    /// LEB128: seven bits a byte, low first (protobuf's varint; the queue's record codec uses it too).
    @inlinable @inline(__always)
    public static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inlinable @inline(__always)
    public mutating func tag(_ field: UInt32, _ wire: ProtobufWireType) {
        varint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    /// uint32/uint64/enum; a negative int64 is written as its two's complement (10 bytes).
    @inlinable
    public mutating func varintField(_ field: UInt32, _ value: UInt64) {
        tag(field, .varint)
        varint(value)
    }

    @inlinable
    public mutating func int64Field(_ field: UInt32, _ value: Int64) {
        varintField(field, UInt64(bitPattern: value))
    }

    @inlinable
    public mutating func boolField(_ field: UInt32, _ value: Bool) {
        varintField(field, value ? 1 : 0)
    }

    @inlinable @inline(__always)
    public mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func fixed64Field(_ field: UInt32, _ value: UInt64) {
        tag(field, .fixed64)
        fixed64(value)
    }

    @inlinable
    public mutating func fixed32Field(_ field: UInt32, _ value: UInt32) {
        tag(field, .fixed32)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func doubleField(_ field: UInt32, _ value: Double) {
        fixed64Field(field, value.bitPattern)
    }

    @inlinable
    public mutating func bytesField(_ field: UInt32, _ value: some Collection<UInt8>) {
        lengthPrefix(field, value.count)
        bytes.append(contentsOf: value)
    }

    @inlinable
    public mutating func stringField(_ field: UInt32, _ value: String) {
        bytesField(field, value.utf8)
    }

    /// The tag and length of a length-delimited field whose `length` bytes the caller writes next.
    @inlinable @inline(__always)
    public mutating func lengthPrefix(_ field: UInt32, _ length: Int) {
        tag(field, .len)
        varint(UInt64(length))
    }

    @inlinable
    public mutating func message(_ field: UInt32, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        bytesField(field, inner.bytes)
    }

    /// `message` as the standard length-delimited stream framing (`writeDelimitedTo`): a varint
    /// length, then the bytes — what CloudWatch Metric Streams put in an OpenTelemetry record.
    @inlinable
    public mutating func delimited(_ message: [UInt8]) {
        varint(UInt64(message.count))
        bytes.append(contentsOf: message)
    }

    // MARK: Sizes

    /// Bytes the varint encoding of `v` takes.
    @inlinable @inline(__always)
    public static func varintSize(_ v: UInt64) -> Int {
        v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7
    }

    /// Bytes a length-delimited field of `length` bytes takes (field numbers below 16).
    @inlinable @inline(__always)
    public static func lengthDelimitedSize(_ length: Int) -> Int {
        1 + varintSize(UInt64(length)) + length
    }
}
