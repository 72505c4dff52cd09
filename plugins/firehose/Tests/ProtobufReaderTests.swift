import FireflyPluginKitTesting
import FirehoseAdapter
import Testing

@Suite struct ProtobufReaderTests {
    @Test func readsVarintsOfEveryLength() throws {
        var r = ProtobufReader([0x00, 0x01, 0x7F, 0x80, 0x01, 0x9B, 0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(try r.varint() == 0)
        #expect(try r.varint() == 1)
        #expect(try r.varint() == 127)
        #expect(try r.varint() == 128)
        #expect(try r.varint() == 411)
        #expect(try r.varint() == UInt64.max)
        #expect(r.isAtEnd)
    }

    @Test func refusesOverlongAndTruncatedVarints() {
        var tooLong = ProtobufReader([UInt8](repeating: 0x80, count: 10) + [0x01])
        #expect(throws: ProtobufError(.malformedVarint, at: 0)) { try tooLong.varint() }
        var overflow = ProtobufReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])
        #expect(throws: ProtobufError(.malformedVarint, at: 0)) { try overflow.varint() }
        var cut = ProtobufReader([0x05, 0x80, 0x80])
        _ = try? cut.varint()
        #expect(throws: ProtobufError(.truncated, at: 1)) { try cut.varint() }
    }

    @Test func readsFixedWidthValuesLittleEndian() throws {
        var r = ProtobufReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xAA, 0xBB, 0xCC, 0xDD])
        #expect(try r.fixed64() == 0x0807_0605_0403_0201)
        #expect(try r.fixed32() == 0xDDCC_BBAA)
        var short = ProtobufReader([1, 2, 3])
        #expect(throws: ProtobufError(.truncated, at: 0)) { try short.fixed64() }
    }

    @Test func walksFieldsAndSkipsUnknownOnes() throws {
        // field 1 varint 150, field 2 string "hi", field 3 fixed64, field 4 fixed32, field 5 sub-message {1: 7}
        let bytes: [UInt8] = [
            0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69, 0x19, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x25, 1, 2, 3, 4, 0x2A, 0x02, 0x08, 0x07,
        ]
        var r = ProtobufReader(bytes)
        var seen: [UInt32] = []
        var text = ""
        var double = 0.0
        var inner: UInt64 = 0
        while let (field, wire) = try r.nextField() {
            seen.append(field)
            switch field {
            case 2: text = try r.string(wire, field: 2)
            case 3: double = try r.double(wire, field: 3)
            case 5:
                var sub = try r.message(wire, field: 5)
                while let (f, w) = try sub.nextField() { if f == 1 { inner = try sub.uint64(w, field: 1) } else { try sub.skip(w) } }
            default: try r.skip(wire)
            }
        }
        #expect(seen == [1, 2, 3, 4, 5])
        #expect(text == "hi")
        #expect(double == 1.0)
        #expect(inner == 7)
    }

    @Test func refusesGroupsWrongWireTypesAndOverrunningLengths() {
        var group = ProtobufReader([0x0B])  // field 1, wire type 3 (start group)
        #expect(throws: ProtobufError(.unsupportedWireType(3), at: 0)) { try group.nextField() }
        var zero = ProtobufReader([0x00, 0x01])
        #expect(throws: ProtobufError(.invalidFieldNumber, at: 0)) { try zero.nextField() }
        var wrong = ProtobufReader([0x0A, 0x01, 0x41])
        #expect(throws: ProtobufError(.wrongWireType(field: 1, expected: .fixed64, actual: .lengthDelimited), at: 1)) {
            let (_, wire) = try wrong.nextField()!
            _ = try wrong.fixed64(wire, field: 1)
        }
        var overrun = ProtobufReader([0x0A, 0x05, 0x41])
        #expect(throws: ProtobufError(.truncated, at: 1)) {
            let (_, wire) = try overrun.nextField()!
            _ = try overrun.message(wire, field: 1)
        }
        var badUTF8 = ProtobufReader([0x0A, 0x02, 0xC3, 0x28])
        #expect(throws: ProtobufError(.invalidUTF8, at: 2)) {
            let (_, wire) = try badUTF8.nextField()!
            _ = try badUTF8.string(wire, field: 1)
        }
    }

    @Test func keepsSubMessagesInsideTheirParent() throws {
        // A sub-message of length 2 whose content claims 5 more bytes: the child may not read the parent's tail.
        var r = ProtobufReader([0x0A, 0x02, 0x12, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05])
        let (_, wire) = try r.nextField()!
        var child = try r.message(wire, field: 1)
        #expect(child.end == 4)
        #expect(throws: ProtobufError(.truncated, at: 3)) {
            let (_, w) = try child.nextField()!
            _ = try child.lengthDelimited()
            _ = w
        }
    }

    @Test func splitsDelimitedStreamsAtTheCurrentOffset() throws {
        let stream: [UInt8] = [0x02, 0xAA, 0xBB, 0x00, 0x01, 0xCC]
        #expect(try ProtobufReader.delimitedMessages(in: stream) == [1..<3, 4..<4, 5..<6])
        #expect(throws: ProtobufError(.truncated, at: 3)) { try ProtobufReader.delimitedMessages(in: [0x02, 0xAA, 0xBB, 0x03, 0x01]) }
    }
}
