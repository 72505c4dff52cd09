// Binary COPY rows and JSON, byte for byte.
import FireflyModel
import Foundation
@testable import PostgresExporter
import Testing

/// The columns of binary COPY rows: the bytes of each value, nil for NULL.
enum BinaryRows {
    static func decode(_ bytes: [UInt8]) -> [[[UInt8]?]] {
        var rows: [[[UInt8]?]] = []
        var i = 0
        func int(_ width: Int) -> Int64 {
            var v: Int64 = 0
            for _ in 0..<width {
                v = v << 8 | Int64(bytes[i])
                i += 1
            }
            // Sign-extend.
            let shift = Int64(64 - 8 * width)
            return (v << shift) >> shift
        }
        while i < bytes.count {
            let count = int(2)
            var row: [[UInt8]?] = []
            for _ in 0..<count {
                let length = Int(int(4))
                if length < 0 {
                    row.append(nil)
                } else {
                    row.append(Array(bytes[i..<i + length]))
                    i += length
                }
            }
            rows.append(row)
        }
        return rows
    }

    static func text(_ value: [UInt8]?) -> String? { value.map { String(decoding: $0, as: UTF8.self) } }

    static func bigEndian(_ v: Double) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (56 - 8 * UInt64($0))) }
    }

    static func integer(_ value: [UInt8]?) -> Int64? {
        value.map { $0.reduce(Int64(0)) { $0 << 8 | Int64($1) } }
    }
}

@Suite struct RowEncoderTests {
    @Test func binaryColumnsAreLengthPrefixedBigEndianValuesAndTextIsNotEscaped() throws {
        var row = RowEncoder()
        row.text("a\\b\tc\nd\re 'é'")
        row.null()
        row.double(.nan)
        row.double(-.infinity)
        row.double(0.1)
        row.int(-2)
        row.int16(-1)
        row.int32(Int32.max)
        row.bool(true)
        row.doubleArray([1, 2.5])
        row.uintArray([UInt64.max])
        row.doubleArray([])
        row.endRow()
        let rows = BinaryRows.decode(row.bytes)
        #expect(rows.count == 1)
        let c = rows[0]
        #expect(c.count == 12)
        #expect(BinaryRows.text(c[0]) == "a\\b\tc\nd\re 'é'")
        #expect(c[1] == nil)
        #expect(Double(bitPattern: UInt64(bitPattern: BinaryRows.integer(c[2])!)).isNaN)
        #expect(Double(bitPattern: UInt64(bitPattern: BinaryRows.integer(c[3])!)) == -.infinity)
        #expect(Double(bitPattern: UInt64(bitPattern: BinaryRows.integer(c[4])!)) == 0.1)
        #expect(c[5] == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE])
        #expect(c[6] == [0xFF, 0xFF])
        #expect(c[7] == [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(c[8] == [1])
        // One dimension, no NULLs, float8 (701), 2 elements from 1, then length + value per element.
        #expect(c[9] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x02, 0xBD, 0, 0, 0, 2, 0, 0, 0, 1]
            + [0, 0, 0, 8] + BinaryRows.bigEndian(1.0)
            + [0, 0, 0, 8] + BinaryRows.bigEndian(2.5))
        // bigint (20); clamped to Int64.max.
        #expect(c[10] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 8, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        // An empty array has no dimensions.
        #expect(c[11] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0xBD])
        // "PGCOPY\n\377\r\n\0", flags 0, header extension 0.
        #expect(RowEncoder.copyHeader == [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(RowEncoder.copyTrailer == [0xFF, 0xFF])
    }

    @Test func jsonColumnsAreVersionOneThenTheJSONText() throws {
        var row = RowEncoder()
        row.beginJSONColumn()
        row.jsonAttributes(
            [Attribute("q", .string("say \"hi\"\n")), Attribute("n", .double(.nan)), Attribute("q", .string("dup"))])
        row.int(1)
        row.endRow()
        let c = BinaryRows.decode(row.bytes)[0]
        #expect(c[0]?.first == 1)
        #expect(BinaryRows.text(c[0].map { Array($0.dropFirst()) }) == #"{"q":"say \"hi\"\n","n":"NaN"}"#)
        #expect(BinaryRows.integer(c[1]) == 1)
        var plain = RowEncoder()
        plain.jsonString("say \"hi\"\n\u{1}")
        #expect(String(decoding: plain.bytes, as: UTF8.self) == #""say \"hi\"\n\u0001""#)
    }

    @Test func timestampsAreMicrosecondsSince2000TruncatedAndZeroStartsAreNull() {
        #expect(RowEncoder.postgresMicros(unixNano: 946_684_800_000_000_000) == 0)
        #expect(RowEncoder.postgresMicros(unixNano: 0) == -946_684_800_000_000)
        #expect(RowEncoder.postgresMicros(unixNano: 1_700_000_000_123_456_789) == 1_700_000_000_123_456 - 946_684_800_000_000)
        // Clamped to Int64.max, as the bigint column beside it.
        #expect(RowEncoder.postgresMicros(unixNano: UInt64.max) == Int64.max / 1000 - 946_684_800_000_000)
        var row = RowEncoder()
        row.timestamp(unixNano: 946_684_800_000_001_999)
        row.optionalTimestamp(unixNano: 0)
        row.endRow()
        let c = BinaryRows.decode(row.bytes)[0]
        #expect(BinaryRows.integer(c[0]) == 1)
        #expect(c[1] == nil)
    }

    @Test func idsAreWrittenAsTheirHexDescription() {
        let trace = TraceID(high: 0x0af7_6519_16cd_43dd, low: 0x8448_eb21_1c80_319c)
        let span = SpanID(0x00f0_67aa_0ba9_02b7)
        var json = RowEncoder()
        json.jsonHex(trace)
        json.jsonHex(span)
        #expect(String(decoding: json.bytes, as: UTF8.self) == "\"\(trace)\"\"\(span)\"")
        var row = RowEncoder()
        row.hex(trace)
        row.hex(span)
        row.endRow()
        let c = BinaryRows.decode(row.bytes)[0]
        #expect(BinaryRows.text(c[0]) == "0af7651916cd43dd8448eb211c80319c" && BinaryRows.text(c[1]) == "00f067aa0ba902b7")
    }

    @Test func nulCharactersBecomeTheReplacementCharacterInTextAndJSON() {
        var row = RowEncoder()
        row.text("a\u{0}b")
        row.beginJSONColumn()
        row.jsonAttributes([Attribute("k\u{0}", .string("v\u{0}")), Attribute("raw", .json(#"["x\u0000y",{"\u0000":"\ud800"}]"#))])
        row.endRow()
        let c = BinaryRows.decode(row.bytes)[0]
        #expect(BinaryRows.text(c[0]) == "a\u{FFFD}b")
        #expect(BinaryRows.text(c[1].map { Array($0.dropFirst()) })
            == "{\"k\u{FFFD}\":\"v\u{FFFD}\",\"raw\":[\"x\\ufffdy\",{\"\\ufffd\":\"\\ufffd\"}]}")
    }

    @Test func jsonbSafeReplacesOnlyTheEscapesJsonbRefuses() {
        #expect(StorableText.jsonbSafe(#"{"a":"\u0000"}"#) == #"{"a":"\ufffd"}"#)
        #expect(StorableText.jsonbSafe(#"["\\u0000"]"#) == #"["\\u0000"]"#)  // an escaped backslash, then text
        #expect(StorableText.jsonbSafe(#"["\ud83d\ude00","\ude00","\ud83d","\ud83dx"]"#)
            == #"["\ud83d\ude00","\ufffd","\ufffd","\ufffdx"]"#)
        #expect(StorableText.jsonbSafe(#"["\u00e9\n\u12"]"#) == #"["\u00e9\n\u12"]"#)
    }

    @Test func overLongIndexedValuesAreCutAtACharacterWithAHashOfTheWhole() {
        #expect(StorableText.indexed("short") == "short")
        let exact = String(repeating: "a", count: StorableText.maximumIndexedBytes)
        #expect(StorableText.indexed(exact) == exact)
        let long = String(repeating: "é", count: 3000)  // 6 000 bytes, two per character
        let cut = StorableText.indexed(long)
        #expect(cut.utf8.count <= StorableText.maximumIndexedBytes)
        #expect(cut.utf8.count >= StorableText.maximumIndexedBytes - 20)
        #expect(cut.hasPrefix("éé"))
        #expect(cut.unicodeScalars.allSatisfy { $0 != "\u{FFFD}" })  // no character was split
        let other = StorableText.indexed(long + "x")
        #expect(other != cut)
        #expect(other.dropLast(16) == cut.dropLast(16))
        #expect(StorableText.indexed("a\u{0}b") == "a\u{FFFD}b")
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
        #expect(TableRows.seriesKey(point) == #"["Duration","AWS/Lambda",["a","\"1\"","b","2"]]"#)
    }
}
