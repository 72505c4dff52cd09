import FireflyWire
import Testing

/// Runs `body` with a reader over a copy of `bytes` that lives as long as the call.
@discardableResult
func withReader<T>(_ bytes: [UInt8], _ body: (inout ProtobufReader) throws -> T) rethrows -> T {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
    defer { buffer.deallocate() }
    buffer.copyBytes(from: bytes)
    var r = ProtobufReader(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]))
    return try body(&r)
}

/// Expects `body` to throw a `ProtobufError` with `code` at `offset`, and returns it.
@discardableResult
func expectError(_ code: ProtobufError.Code, at offset: Int, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ProtobufError? {
    let e = #expect(throws: ProtobufError.self, sourceLocation: sourceLocation) { try body() }
    #expect(e?.code == code, sourceLocation: sourceLocation)
    #expect(e?.offset == offset, sourceLocation: sourceLocation)
    return e
}

@Suite struct ProtobufReaderTests {
    @Test func readsVarintsOfEveryLength() throws {
        try withReader([0x00, 0x01, 0x7F, 0x80, 0x01, 0x9B, 0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) { (r) throws in
            #expect(try r.readVarint() == 0)
            #expect(try r.readVarint() == 1)
            #expect(try r.readVarint() == 127)
            #expect(try r.readVarint() == 128)
            #expect(try r.readVarint() == 411)
            #expect(try r.readVarint() == UInt64.max)
            #expect(r.isAtEnd)
        }
    }

    @Test func refusesOverlongAndTruncatedVarints() throws {
        try withReader([UInt8](repeating: 0x80, count: 10) + [0x01]) { (r) throws in
            let e = expectError(.malformedVarint, at: 0) { _ = try r.readVarint() }
            #expect(e?.position == 9)
        }
        try withReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]) { (r) throws in
            expectError(.malformedVarint, at: 0) { _ = try r.readVarint() }
        }
        try withReader([0x05, 0x80, 0x80]) { (r) throws in
            _ = try? r.readVarint()
            let e = expectError(.truncated, at: 1) { _ = try r.readVarint() }
            #expect(e?.position == 3)
        }
    }

    @Test func readsFixedWidthValuesLittleEndian() throws {
        try withReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xAA, 0xBB, 0xCC, 0xDD]) { (r) throws in
            #expect(try r.readFixed64() == 0x0807_0605_0403_0201)
            #expect(try r.readFixed32() == 0xDDCC_BBAA)
        }
        try withReader([1, 2, 3]) { (r) throws in
            expectError(.truncated, at: 0) { _ = try r.readFixed64() }
            expectError(.truncated, at: 0) { _ = try r.readFixed32() }
        }
    }

    @Test func walksFieldsAndSkipsUnknownOnes() throws {
        // field 1 varint 150, field 2 string "hi", field 3 fixed64, field 4 fixed32, field 5 sub-message {1: 7}
        let bytes: [UInt8] = [
            0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69, 0x19, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x25, 1, 2, 3, 4, 0x2A, 0x02, 0x08, 0x07,
        ]
        try withReader(bytes) { (r) throws in
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
    }

    @Test func refusesGroupsWrongWireTypesAndOverrunningLengths() throws {
        try withReader([0x0B]) { (r) throws in  // field 1, wire type 3 (start group)
            let e = expectError(.invalidTag(field: 1, wire: 3), at: 0) { _ = try r.nextField() }
            #expect(e?.description == "unsupported wire type 3 at byte 0")
        }
        try withReader([0x00, 0x01]) { (r) throws in
            let e = expectError(.invalidTag(field: 0, wire: 0), at: 0) { _ = try r.nextField() }
            #expect(e?.description == "field number 0 at byte 0")
        }
        try withReader([0x0A, 0x01, 0x41]) { (r) throws in
            expectError(.wrongWireType(field: 1, expected: .fixed64, actual: .len), at: 1) {
                let (_, wire) = try r.nextField()!
                _ = try r.fixed64(wire, field: 1)
            }
        }
        try withReader([0x0A, 0x05, 0x41]) { (r) throws in
            let e = expectError(.lengthPastEnd(length: 5, remaining: 1), at: 1) {
                let (_, wire) = try r.nextField()!
                _ = try r.message(wire, field: 1)
            }
            #expect(e?.description == "truncated protobuf at byte 1")
        }
        try withReader([0x0A, 0x02, 0xC3, 0x28]) { (r) throws in
            expectError(.invalidUTF8, at: 2) {
                let (_, wire) = try r.nextField()!
                _ = try r.string(wire, field: 1)
            }
        }
        try withReader([0x0A, 0x02, 0xC3, 0x28]) { (r) throws in
            _ = try? r.readTag()
            #expect((try? r.readString()) == "\u{FFFD}(")
        }
    }

    @Test func readsPackedAndUnpackedRepeatedFields() throws {
        var w = ProtobufWriter()
        w.bytesField(1, [0x01, 0x96, 0x01, 0x03])  // packed varints 1, 150, 3
        w.varintField(1, 4)  // and one more unpacked
        w.lengthPrefix(2, 16)
        w.fixed64(7)
        w.fixed64(8)
        w.doubleField(3, 0.5)
        w.bytesField(3, [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        try withReader(w.bytes) { (r) throws in
            var varints: [UInt64] = []
            var fixed: [UInt64] = []
            var doubles: [Double] = []
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                switch field {
                case 1: try r.appendVarints(wire: wire, to: &varints)
                case 2: try r.appendFixed64s(wire: wire, to: &fixed)
                default: try r.appendDoubles(wire: wire, to: &doubles)
                }
            }
            #expect(varints == [1, 150, 3, 4])
            #expect(fixed == [7, 8])
            #expect(doubles == [0.5, 1.0])
        }
        try withReader([0x12, 0x03, 1, 2, 3]) { (r) throws in
            expectError(.packedFixed64Length, at: 2) {
                var out: [UInt64] = []
                let (_, wire) = try r.readTag()
                try r.appendFixed64s(wire: wire, to: &out)
            }
        }
    }

    @Test func keepsSubMessagesInsideTheirParent() throws {
        // A sub-message of length 2 whose content claims 5 more bytes: the child may not read the parent's tail.
        try withReader([0x0A, 0x02, 0x12, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05]) { (r) throws in
            let (_, wire) = try r.nextField()!
            var child = try r.message(wire, field: 1)
            #expect(child.end == 4)
            expectError(.lengthPastEnd(length: 5, remaining: 0), at: 3) {
                _ = try child.nextField()!
                _ = try child.readLengthDelimited()
            }
        }
    }

    @Test func splitsDelimitedStreamsAtTheCurrentOffset() throws {
        try withReader([0x02, 0xAA, 0xBB, 0x00, 0x01, 0xCC]) { (r) throws in
            let raw = UnsafeRawBufferPointer(start: r.base, count: r.end)
            #expect(try ProtobufReader.delimitedMessages(in: raw) == [1..<3, 4..<4, 5..<6])
        }
        try withReader([0x02, 0xAA, 0xBB, 0x03, 0x01]) { (r) throws in
            let raw = UnsafeRawBufferPointer(start: r.base, count: r.end)
            expectError(.lengthPastEnd(length: 3, remaining: 1), at: 3) { _ = try ProtobufReader.delimitedMessages(in: raw) }
        }
    }

    @Test func anEmptyBufferIsAnEmptyMessage() throws {
        let r = ProtobufReader(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(r.isAtEnd)
        var copy = r
        expectError(.truncated, at: 0) { _ = try copy.readVarint() }
    }
}
