// Schema-checked field reads: the wire type of a known field must be the one its schema says.

extension ProtobufReader {
    /// The next field's number and wire type, or nil at the end of the message.
    @inlinable
    public mutating func nextField() throws(ProtobufError) -> (field: UInt32, wire: ProtobufWireType)? {
        guard !isAtEnd else { return nil }
        let (field, wire) = try readTag()
        // `readTag` only lets wire types 0, 1, 2 and 5 through.
        return (field, ProtobufWireType(rawValue: wire) ?? .varint)
    }

    /// Skips the value of a field with wire type `wire`.
    @inlinable
    public mutating func skip(_ wire: ProtobufWireType) throws(ProtobufError) {
        try skip(wire.rawValue)
    }

    @inlinable @inline(__always)
    func check(_ wire: ProtobufWireType, _ expected: ProtobufWireType, _ field: UInt32) throws(ProtobufError) {
        guard wire == expected else {
            throw ProtobufError(.wrongWireType(field: field, expected: expected, actual: wire), at: position)
        }
    }

    @inlinable
    public mutating func uint64(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> UInt64 {
        try check(wire, .varint, field)
        return try readVarint()
    }

    /// `int64` / `int32` (two's complement varint).
    @inlinable
    public mutating func int64(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> Int64 {
        Int64(bitPattern: try uint64(wire, field: field))
    }

    @inlinable
    public mutating func bool(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> Bool {
        try uint64(wire, field: field) != 0
    }

    @inlinable
    public mutating func fixed64(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> UInt64 {
        try check(wire, .fixed64, field)
        return try readFixed64()
    }

    @inlinable
    public mutating func double(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> Double {
        Double(bitPattern: try fixed64(wire, field: field))
    }

    /// A UTF-8 string field; anything else is an error.
    @inlinable
    public mutating func string(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> String {
        try check(wire, .len, field)
        let sub = try readLengthDelimited()
        guard let s = String(validating: sub.remainingBytes, as: UTF8.self) else {
            throw ProtobufError(.invalidUTF8, at: sub.position)
        }
        return s
    }

    /// A `bytes` field (copied).
    @inlinable
    public mutating func bytes(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> [UInt8] {
        try check(wire, .len, field)
        return try readBytes()
    }

    /// A sub-message field: a reader over its bytes.
    @inlinable
    public mutating func message(_ wire: ProtobufWireType, field: UInt32) throws(ProtobufError) -> ProtobufReader {
        try check(wire, .len, field)
        return try readLengthDelimited()
    }
}
