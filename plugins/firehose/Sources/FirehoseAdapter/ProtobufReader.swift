/// Why protobuf bytes could not be read, and where.
public struct ProtobufError: Error, Equatable, CustomStringConvertible {
    public enum Code: Equatable, Sendable {
        /// A value runs past the end of its message.
        case truncated
        /// A varint longer than 10 bytes or above 2⁶⁴ − 1.
        case malformedVarint
        /// Wire types 3 and 4 (groups) and 6, 7 do not occur in the OpenTelemetry schemas.
        case unsupportedWireType(UInt8)
        /// Field number 0 is never valid.
        case invalidFieldNumber
        /// A known field arrived with another wire type than its schema says.
        case wrongWireType(field: UInt32, expected: ProtobufReader.WireType, actual: ProtobufReader.WireType)
        /// A string field is not UTF-8.
        case invalidUTF8
    }

    public var code: Code
    /// Byte offset in the buffer the reader was created with.
    public var offset: Int

    public init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String {
        switch code {
        case .truncated: "truncated protobuf at byte \(offset)"
        case .malformedVarint: "malformed varint at byte \(offset)"
        case .unsupportedWireType(let t): "unsupported wire type \(t) at byte \(offset)"
        case .invalidFieldNumber: "field number 0 at byte \(offset)"
        case .wrongWireType(let f, let e, let a): "field \(f) has wire type \(a.rawValue), expected \(e.rawValue), at byte \(offset)"
        case .invalidUTF8: "string is not UTF-8 at byte \(offset)"
        }
    }
}

/// A bounds-checked, allocation-free reader of protobuf wire format (proto3) over a byte array,
/// written by hand so adapters decode OpenTelemetry messages without generated code.
///
/// Typical use reads tags until the end and dispatches on the field number, skipping the rest:
///
///     var r = ProtobufReader(bytes)
///     while let (field, wire) = try r.nextField() {
///         switch field {
///         case 1: name = try r.string(wire, field: 1)
///         case 2: var sub = try r.message(wire, field: 2); …
///         default: try r.skip(wire)
///         }
///     }
///
/// Sub-messages are readers over the same storage (no copy). Every read checks its bounds and
/// throws `ProtobufError` instead of trapping, so hostile input cannot crash the collector.
public struct ProtobufReader: Sendable {
    public enum WireType: UInt8, Sendable {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    public let bytes: [UInt8]
    /// The next byte to read.
    public private(set) var position: Int
    /// One past the last byte of this message.
    public let end: Int

    /// A reader over `bytes[range]` (all of `bytes` by default).
    public init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        precondition(r.lowerBound >= 0 && r.upperBound <= bytes.count, "range outside the buffer")
        position = r.lowerBound
        end = r.upperBound
    }

    public var isAtEnd: Bool { position >= end }

    // MARK: Tags

    /// The next field's number and wire type, or nil at the end of the message.
    public mutating func nextField() throws(ProtobufError) -> (field: UInt32, wire: WireType)? {
        guard position < end else { return nil }
        let at = position
        let key = try varint()
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw ProtobufError(.unsupportedWireType(UInt8(key & 7)), at: at)
        }
        let field = key >> 3
        guard field != 0, field <= UInt64(UInt32.max >> 3) else { throw ProtobufError(.invalidFieldNumber, at: at) }
        return (UInt32(field), wire)
    }

    /// Skips the value of a field with wire type `wire`.
    public mutating func skip(_ wire: WireType) throws(ProtobufError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try lengthDelimited()
        }
    }

    // MARK: Raw values

    /// An unsigned varint (up to 10 bytes).
    public mutating func varint() throws(ProtobufError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ProtobufError(.truncated, at: start) }
            let b = bytes[position]
            position += 1
            if shift == 63 && b > 1 { throw ProtobufError(.malformedVarint, at: start) }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw ProtobufError(.malformedVarint, at: start) }
        }
    }

    /// A little-endian 64-bit value (`fixed64`, `sfixed64`, `double` bits).
    public mutating func fixed64() throws(ProtobufError) -> UInt64 {
        guard end - position >= 8 else { throw ProtobufError(.truncated, at: position) }
        var v: UInt64 = 0
        for k in (0..<8).reversed() { v = v << 8 | UInt64(bytes[position + k]) }
        position += 8
        return v
    }

    /// A little-endian 32-bit value (`fixed32`, `sfixed32`, `float` bits).
    public mutating func fixed32() throws(ProtobufError) -> UInt32 {
        guard end - position >= 4 else { throw ProtobufError(.truncated, at: position) }
        var v: UInt32 = 0
        for k in (0..<4).reversed() { v = v << 8 | UInt32(bytes[position + k]) }
        position += 4
        return v
    }

    /// The byte range of a length-delimited value, moving past it.
    public mutating func lengthDelimited() throws(ProtobufError) -> Range<Int> {
        let at = position
        let length = try varint()
        guard length <= UInt64(end - position) else { throw ProtobufError(.truncated, at: at) }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    private mutating func advance(_ n: Int) throws(ProtobufError) {
        guard end - position >= n else { throw ProtobufError(.truncated, at: position) }
        position += n
    }

    // MARK: Typed fields (check the wire type against the schema)

    @inline(__always)
    private func check(_ wire: WireType, _ expected: WireType, _ field: UInt32) throws(ProtobufError) {
        guard wire == expected else {
            throw ProtobufError(.wrongWireType(field: field, expected: expected, actual: wire), at: position)
        }
    }

    public mutating func uint64(_ wire: WireType, field: UInt32) throws(ProtobufError) -> UInt64 {
        try check(wire, .varint, field)
        return try varint()
    }

    /// `int64` / `int32` (two's complement varint).
    public mutating func int64(_ wire: WireType, field: UInt32) throws(ProtobufError) -> Int64 {
        Int64(bitPattern: try uint64(wire, field: field))
    }

    public mutating func bool(_ wire: WireType, field: UInt32) throws(ProtobufError) -> Bool {
        try uint64(wire, field: field) != 0
    }

    public mutating func fixed64(_ wire: WireType, field: UInt32) throws(ProtobufError) -> UInt64 {
        try check(wire, .fixed64, field)
        return try fixed64()
    }

    public mutating func double(_ wire: WireType, field: UInt32) throws(ProtobufError) -> Double {
        Double(bitPattern: try fixed64(wire, field: field))
    }

    /// A UTF-8 string field.
    public mutating func string(_ wire: WireType, field: UInt32) throws(ProtobufError) -> String {
        try check(wire, .lengthDelimited, field)
        let range = try lengthDelimited()
        guard let s = bytes.withUnsafeBufferPointer({ String(validating: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self) })
        else { throw ProtobufError(.invalidUTF8, at: range.lowerBound) }
        return s
    }

    /// A `bytes` field (copied).
    public mutating func bytes(_ wire: WireType, field: UInt32) throws(ProtobufError) -> [UInt8] {
        try check(wire, .lengthDelimited, field)
        return Array(bytes[try lengthDelimited()])
    }

    /// A sub-message field: a reader over its bytes.
    public mutating func message(_ wire: WireType, field: UInt32) throws(ProtobufError) -> ProtobufReader {
        try check(wire, .lengthDelimited, field)
        return ProtobufReader(bytes, range: try lengthDelimited())
    }

    // MARK: Streams

    /// Splits a varint-length-delimited stream (`writeDelimitedTo` framing, as CloudWatch Metric
    /// Streams use for OpenTelemetry records) into the ranges of its messages. The varint is read
    /// at the current offset every time and each length is checked against the remaining bytes.
    public static func delimitedMessages(in bytes: [UInt8], range: Range<Int>? = nil) throws(ProtobufError) -> [Range<Int>] {
        var r = ProtobufReader(bytes, range: range)
        var out: [Range<Int>] = []
        while !r.isAtEnd { out.append(try r.lengthDelimited()) }
        return out
    }
}
