// Why protobuf bytes could not be read, and where.

/// Protobuf wire types (the low three bits of a tag) that proto3 messages use.
public enum ProtobufWireType: UInt8, Sendable {
    case varint = 0, fixed64 = 1, len = 2, fixed32 = 5
}

/// A protobuf message could not be read. `offset` is where the value that failed starts,
/// `position` where the reader stood when it noticed (both count from the buffer's start).
public struct ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: Equatable, Sendable {
        /// A varint or fixed-width value runs past the end of its message.
        case truncated
        /// A length-delimited value is longer than what is left of its message.
        case lengthPastEnd(length: UInt64, remaining: Int)
        /// A varint above 2⁶⁴ − 1.
        case malformedVarint
        /// Field number 0 or above 2²⁹ − 1, or wire type 3, 4 (groups), 6 or 7.
        case invalidTag(field: UInt64, wire: UInt8)
        /// A known field arrived with another wire type than its schema says.
        case wrongWireType(field: UInt32, expected: ProtobufWireType, actual: ProtobufWireType)
        /// A string field is not UTF-8.
        case invalidUTF8
        /// A packed `fixed64` or `double` field has a length that is not a multiple of 8.
        case packedFixed64Length, packedDoubleLength
    }

    public var code: Code
    public var offset: Int
    public var position: Int

    @inlinable
    public init(_ code: Code, at offset: Int, position: Int? = nil) {
        self.code = code
        self.offset = offset
        self.position = position ?? offset
    }

    /// Whether field number `field` can occur in a message.
    @inlinable
    public static func isValidField(_ field: UInt64) -> Bool { field != 0 && field <= 536_870_911 }

    public var description: String {
        switch code {
        case .truncated, .lengthPastEnd: "truncated protobuf at byte \(offset)"
        case .malformedVarint: "malformed varint at byte \(offset)"
        case .invalidTag(let field, let wire):
            ProtobufWireType(rawValue: wire) == nil
                ? "unsupported wire type \(wire) at byte \(offset)" : "field number \(field) at byte \(offset)"
        case .wrongWireType(let f, let e, let a): "field \(f) has wire type \(a.rawValue), expected \(e.rawValue), at byte \(position)"
        case .invalidUTF8: "string is not UTF-8 at byte \(offset)"
        case .packedFixed64Length: "packed fixed64 field length is not a multiple of 8"
        case .packedDoubleLength: "packed double field length is not a multiple of 8"
        }
    }
}
