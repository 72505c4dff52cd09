// A minimal protobuf writer: OTLP responses, google.rpc.Status bodies and benchmark payloads.

/// Appends protobuf fields to a byte buffer. Sub-messages are written with `message(_:_:)`, which
/// encodes the body first and then prefixes its length.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: UInt32, _ wire: WireType) {
        varint(UInt64(field) << 3 | UInt64(wire.rawValue))
    }

    mutating func varintField(_ field: UInt32, _ value: UInt64) {
        tag(field, .varint)
        varint(value)
    }

    mutating func fixed64Field(_ field: UInt32, _ value: UInt64) {
        tag(field, .fixed64)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func doubleField(_ field: UInt32, _ value: Double) {
        fixed64Field(field, value.bitPattern)
    }

    mutating func bytesField(_ field: UInt32, _ value: some Collection<UInt8>) {
        tag(field, .len)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func stringField(_ field: UInt32, _ value: String) {
        bytesField(field, Array(value.utf8))
    }

    mutating func message(_ field: UInt32, _ body: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        body(&inner)
        bytesField(field, inner.bytes)
    }
}
