// COPY text and JSON encoding, byte for byte.
import FireflyModel
@testable import PostgresExporter
import Testing

@Suite struct RowEncoderTests {
    @Test func copyTextEscapesBackslashTabNewlineAndCarriageReturn() throws {
        var row = RowEncoder()
        try row.text("a\\b\tc\nd\re 'é'", field: "f")
        row.null()
        row.double(.nan)
        row.double(-.infinity)
        row.double(0.1)
        row.doubleArray([1, 2.5, .infinity])
        row.uintArray([0, UInt64.max])
        row.bool(true)
        row.endRow()
        #expect(String(decoding: row.bytes, as: UTF8.self) == "a\\\\b\\tc\\nd\\re 'é'\t\\N\tNaN\t-Infinity\t0.1\t{1.0,2.5,Infinity}\t{0,9223372036854775807}\tt\n")
    }

    @Test func jsonInsideCopyHasItsBackslashesDoubled() throws {
        var row = RowEncoder()
        row.beginJSONColumn()
        try row.jsonAttributes(
            [Attribute("q", .string("say \"hi\"\n")), Attribute("n", .double(.nan)), Attribute("q", .string("dup"))], field: "f")
        #expect(String(decoding: row.bytes, as: UTF8.self) == #"{"q":"say \\"hi\\"\\n","n":"NaN"}"#)
        var plain = RowEncoder(copyEscaping: false)
        try plain.jsonString("say \"hi\"\n\u{1}", field: "f")
        #expect(String(decoding: plain.bytes, as: UTF8.self) == #""say \"hi\"\n\u0001""#)
    }

    @Test func nulBytesAreRefusedWithTheFieldName() {
        var row = RowEncoder()
        #expect(throws: UnstorableValue(field: "name")) { try row.text("a\u{0}b", field: "name") }
        #expect(throws: UnstorableValue(field: "json")) { try row.jsonString("\u{0}", field: "json") }
    }

    @Test func bytesAreBase64() {
        #expect(Base64.encode([]) == "")
        #expect(Base64.encode([0]) == "AA==")
        #expect(Base64.encode([0, 1]) == "AAE=")
        #expect(Base64.encode([0, 1, 0xFE, 0xFF]) == "AAH+/w==")
        #expect(Base64.encode(Array("Man".utf8)) == "TWFu")
    }

    @Test func seriesKeysAreCanonicalJSON() throws {
        let point = MetricPoint(name: "Duration", namespace: "AWS/Lambda", kind: .summary, labels: [Label("b", "2"), Label("a", "\"1\"")], timeUnixNano: 1)
        #expect(try PreparedBatch.seriesKey(point) == #"["Duration","AWS/Lambda",["a","\"1\"","b","2"]]"#)
    }
}
