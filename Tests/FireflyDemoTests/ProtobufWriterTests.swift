import Testing
@testable import FireflyDemo

@Test func varintsUseSevenBitGroupsLowFirst() {
    var w = ProtobufWriter()
    w.varint(411)
    #expect(w.bytes == [0x9B, 0x03])
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
}
