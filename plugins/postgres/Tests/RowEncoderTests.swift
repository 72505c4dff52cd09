// COPY text and JSON encoding, byte for byte.
import FireflyModel
import Foundation
@testable import PostgresExporter
import Testing

@Suite struct RowEncoderTests {
    @Test func copyTextEscapesBackslashTabNewlineAndCarriageReturn() throws {
        var row = RowEncoder()
        row.text("a\\b\tc\nd\re 'é'")
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
        row.jsonAttributes(
            [Attribute("q", .string("say \"hi\"\n")), Attribute("n", .double(.nan)), Attribute("q", .string("dup"))])
        #expect(String(decoding: row.bytes, as: UTF8.self) == #"{"q":"say \\"hi\\"\\n","n":"NaN"}"#)
        var plain = RowEncoder(copyEscaping: false)
        plain.jsonString("say \"hi\"\n\u{1}")
        #expect(String(decoding: plain.bytes, as: UTF8.self) == #""say \"hi\"\n\u0001""#)
    }

    @Test func timestampsAreUTCWithMicrosecondsTruncatedAndZeroStartsAreNull() {
        var row = RowEncoder()
        row.timestamp(unixNano: 0)
        row.timestamp(unixNano: 1_700_000_000_123_456_789)
        row.timestamp(unixNano: 951_782_400_000_000_999)  // 2000-02-29, a leap day of a century year
        row.timestamp(unixNano: 4_102_444_799_999_999_999)  // the last microsecond of 2099
        row.timestamp(unixNano: UInt64.max)  // clamped to Int64.max, as the bigint column beside it
        row.optionalTimestamp(unixNano: 0)
        row.optionalTimestamp(unixNano: 1000)
        row.endRow()
        #expect(
            String(decoding: row.bytes, as: UTF8.self)
                == "1970-01-01 00:00:00.000000+00\t2023-11-14 22:13:20.123456+00\t2000-02-29 00:00:00.000000+00\t"
                + "2099-12-31 23:59:59.999999+00\t2262-04-11 23:47:16.854775+00\t\\N\t1970-01-01 00:00:00.000001+00\n")
    }

    @Test func timestampsAgreeWithFoundationsCalendarOverFiveCenturies() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Int64.random(in: 0...9_223_372_035, using: &generator)  // + 999 999 999 ns stays an Int64
            let micros = Int64.random(in: 0..<1_000_000, using: &generator)
            var row = RowEncoder()
            row.timestamp(unixNano: UInt64(seconds) * 1_000_000_000 + UInt64(micros) * 1000 + 999)
            let c = calendar.dateComponents(
                [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
            let expected = String(
                format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!,
                Int(micros))
            #expect(String(decoding: row.bytes, as: UTF8.self) == expected)
        }
    }

    @Test func nulCharactersBecomeTheReplacementCharacterInTextAndJSON() {
        var row = RowEncoder()
        row.text("a\u{0}b")
        row.beginJSONColumn()
        row.jsonAttributes([Attribute("k\u{0}", .string("v\u{0}")), Attribute("raw", .json(#"["x\u0000y",{"\u0000":"\ud800"}]"#))])
        row.endRow()
        #expect(String(decoding: row.bytes, as: UTF8.self)
            == "a\u{FFFD}b\t{\"k\u{FFFD}\":\"v\u{FFFD}\",\"raw\":[\"x\\\\ufffdy\",{\"\\\\ufffd\":\"\\\\ufffd\"}]}\n")
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
        #expect(PreparedBatch.seriesKey(point) == #"["Duration","AWS/Lambda",["a","\"1\"","b","2"]]"#)
    }
}
