// Why a request body could not be decoded, in the words OTLP clients get back.
import FireflyWire

/// Why a protobuf or JSON body could not be decoded; `message` is safe to return to the sender.
public struct OTLPDecodeError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension OTLPDecodeError {
    /// The wire library's protobuf error, worded as OTLP answers have always worded it.
    init(_ e: ProtobufError) {
        switch e.code {
        case .truncated: self.init("message truncated at byte \(e.position)")
        case .lengthPastEnd(let length, let remaining):
            self.init("length \(length) at byte \(e.position) runs past the end of its message (\(remaining) bytes left)")
        case .malformedVarint: self.init("varint overflows 64 bits at byte \(e.position)")
        case .invalidTag(let field, let wire):
            if ProtobufError.isValidField(field) {
                self.init("invalid wire type \(wire) for field \(field) at byte \(e.position)")
            } else {
                self.init("invalid field number \(field) at byte \(e.position)")
            }
        case .wrongWireType, .invalidUTF8, .packedFixed64Length, .packedDoubleLength: self.init(e.description)
        }
    }

    /// A JSON syntax error: where, and the short wording.
    init(_ e: JSONSyntaxError) {
        self.init("invalid JSON at byte \(e.offset): \(e.summary)")
    }

    /// Runs a decoder whose reads throw the wire library's errors and whose checks throw
    /// `OTLPDecodeError`, answering with an `OTLPDecodeError` either way.
    static func mapping<T>(_ body: () throws -> T) throws(OTLPDecodeError) -> T {
        do {
            return try body()
        } catch let e as OTLPDecodeError {
            throw e
        } catch let e as ProtobufError {
            throw OTLPDecodeError(e)
        } catch {
            throw OTLPDecodeError("\(error)")
        }
    }
}

extension JSON {
    /// Nesting limit for OTLP/JSON bodies (stack safety).
    static let maxDepth = 128

    /// Parses an OTLP/JSON body.
    static func parseOTLP(_ body: [UInt8]) throws(OTLPDecodeError) -> JSON {
        do {
            return try JSON.parse(body, maxDepth: maxDepth)
        } catch {
            throw OTLPDecodeError(error)
        }
    }
}
