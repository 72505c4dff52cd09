// A minimal protobuf encoder: enough of the wire format to write OTLP requests by hand.

/// Appends protobuf fields to a byte buffer. Sub-messages are written with `message(_:_:)`, which
/// encodes the body first and then prefixes its length (messages here are small, so the copy is
/// cheaper than computing sizes twice).
public struct ProtobufWriter: Sendable {
    public enum WireType: UInt64, Sendable {
        case varint = 0, fixed64 = 1, len = 2, fixed32 = 5
    }

    public var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func tag(_ field: UInt32, _ wire: WireType) {
        varint(UInt64(field) << 3 | wire.rawValue)
    }

    /// uint32/uint64/enum/bool; a negative int64 is written as its two's complement (10 bytes).
    public mutating func varintField(_ field: UInt32, _ value: UInt64) {
        tag(field, .varint)
        varint(value)
    }

    public mutating func int64Field(_ field: UInt32, _ value: Int64) {
        varintField(field, UInt64(bitPattern: value))
    }

    public mutating func boolField(_ field: UInt32, _ value: Bool) {
        varintField(field, value ? 1 : 0)
    }

    public mutating func fixed64Field(_ field: UInt32, _ value: UInt64) {
        tag(field, .fixed64)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func fixed32Field(_ field: UInt32, _ value: UInt32) {
        tag(field, .fixed32)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func doubleField(_ field: UInt32, _ value: Double) {
        fixed64Field(field, value.bitPattern)
    }

    public mutating func bytesField(_ field: UInt32, _ value: some Collection<UInt8>) {
        tag(field, .len)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func stringField(_ field: UInt32, _ value: String) {
        bytesField(field, value.utf8)
    }

    public mutating func message(_ field: UInt32, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        bytesField(field, inner.bytes)
    }

    /// `message` as the standard length-delimited stream framing (`writeDelimitedTo`): a varint
    /// length, then the bytes — what CloudWatch Metric Streams put in an OpenTelemetry record.
    public mutating func delimited(_ message: [UInt8]) {
        varint(UInt64(message.count))
        bytes.append(contentsOf: message)
    }
}
