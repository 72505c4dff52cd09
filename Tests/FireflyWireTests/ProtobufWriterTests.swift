import FireflyWire
import Testing

@Suite struct ProtobufWriterTests {
    @Test func varintsUseSevenBitGroupsLowFirst() {
        var w = ProtobufWriter()
        w.varint(411)
        #expect(w.bytes == [0x9B, 0x03])
        for v: UInt64 in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, UInt64.max] {
            var x = ProtobufWriter()
            x.varint(v)
            #expect(x.bytes.count == ProtobufWriter.varintSize(v), "\(v)")
        }
    }

    @Test func negativeInt64TakesTenBytes() {
        var w = ProtobufWriter()
        w.int64Field(3, -1)
        #expect(w.bytes == [0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test func fieldsSixteenAndUpNeedTwoTagBytes() {
        var w = ProtobufWriter()
        w.fixed32Field(16, 0x301)
        #expect(w.bytes == [0x85, 0x01, 0x01, 0x03, 0x00, 0x00])
    }

    @Test func nestedMessagesArePrefixedWithTheirLength() {
        var w = ProtobufWriter()
        w.message(1) { $0.stringField(1, "ab") }
        #expect(w.bytes == [0x0A, 0x04, 0x0A, 0x02, 0x61, 0x62])
        var sized = ProtobufWriter()
        sized.lengthPrefix(1, 4)
        sized.stringField(1, "ab")
        #expect(sized.bytes == w.bytes)
        #expect(ProtobufWriter.lengthDelimitedSize(4) == w.bytes.count)
    }

    @Test func whatItWritesReadsBack() throws {
        var w = ProtobufWriter()
        w.varintField(1, 150)
        w.doubleField(2, -2.5)
        w.stringField(3, "héllo")
        w.boolField(4, true)
        w.fixed64Field(5, 0x0102_0304_0506_0708)
        let bytes = w.bytes
        let values = try ProtobufReader.read(bytes) { (r) throws(ProtobufError) -> [String] in
            var out: [String] = []
            while let (field, wire) = try r.nextField() {
                switch field {
                case 1: out.append("\(try r.uint64(wire, field: 1))")
                case 2: out.append("\(try r.double(wire, field: 2))")
                case 3: out.append(try r.string(wire, field: 3))
                case 4: out.append("\(try r.bool(wire, field: 4))")
                case 5: out.append("\(try r.fixed64(wire, field: 5))")
                default: try r.skip(wire)
                }
            }
            return out
        }
        #expect(values == ["150", "-2.5", "héllo", "true", "\(0x0102_0304_0506_0708 as UInt64)"])
    }
}
