import FireflyWire
import Testing

@Suite struct JSONTests {
    @Test func numbersKeepTheirText() throws {
        let v = try JSON.parse(Array(#"{"ns": 1700000000123456789, "big": 18446744073709551615, "x": -1.50e+3}"#.utf8))
        #expect(v["ns"] == .number("1700000000123456789"))
        #expect(v["big"] == .number("18446744073709551615"))
        #expect(v["x"] == .number("-1.50e+3"))
    }

    @Test func membersKeepTheirOrderAndTheLastDuplicateWins() throws {
        let v = try JSON.parse(Array(#"{"b": 1, "a": 2, "b": 3}"#.utf8))
        guard case .object(let members) = v else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "b"])
        #expect(v["b"] == .number("3"))
        #expect(v["missing"] == nil)
    }

    @Test func sequencesAreNewlineDelimited() throws {
        #expect(try JSON.parseSequence(Array("{\"a\":1}\n[2]\r\n \"x\"\n".utf8)) == [.object([(key: "a", value: .number("1"))]), .array([.number("2")]), .string("x")])
        #expect(try JSON.parseSequence([]) == [])
        let e = #expect(throws: JSONSyntaxError.self) { try JSON.parseSequence(Array(#"{"v": 1} {"v": 2}"#.utf8)) }
        #expect(e == JSONSyntaxError(.valuesNotSeparated, at: 9))
        #expect(e?.detail == "expected a newline or the end of the body after a value")
    }

    /// The offsets and both wordings of the errors receivers return.
    @Test(arguments: [
        (#"{"v": 1"#, 7, "unexpected end of input", "unexpected end of body inside an object"),
        (#"{"v": 2,}"#, 8, "unexpected character", "expected a string key"),
        (#"{"v": 01}"#, 7, "invalid number", "invalid number: leading zero"),
        (#"{"v": NaN}"#, 6, "unexpected character", "unexpected character 'N'"),
        ("{\"v\": \"a\u{01}\"}", 8, "unescaped control character in string", "control character in a string"),
        (#"{"v": "\ud800"}"#, 13, "invalid unicode escape or UTF-8", "unpaired surrogate in a string"),
        (#"{'v': 1}"#, 1, "unexpected character", "expected a string key"),
        (#"{"resourceSpans": [}"#, 19, "unexpected character", "unexpected character '}'"),
        (#"[1 2]"#, 3, "unexpected character", "expected ',' or ']' in an array"),
        (#"{"a" 1}"#, 5, "unexpected character", "expected ':' after an object key"),
        (#"[1.]"#, 3, "invalid number", "invalid number: digits expected after '.'"),
        (#"[1e]"#, 3, "invalid number", "invalid number: digits expected in the exponent"),
        (#"["\x"]"#, 2, "invalid escape sequence", "invalid escape in a string"),
        (#"["\u12G4"]"#, 6, "invalid escape sequence", "invalid \\u escape"),
        (#"[tru]"#, 1, "unexpected character", "invalid literal"),
        (#"["abc"#, 5, "unexpected end of input", "unterminated string"),
        ("[1] x", 4, "data after the JSON value", "unexpected data after the JSON value"),
        ("", 0, "unexpected end of input", "unexpected end of body"),
    ])
    func errorsSayWhatAndWhere(text: String, offset: Int, summary: String, detail: String) {
        let e = #expect(throws: JSONSyntaxError.self) { try JSON.parse(Array(text.utf8)) }
        #expect(e?.offset == offset)
        #expect(e?.summary == summary)
        #expect(e?.detail == detail)
        #expect(e?.description == "\(summary) at byte \(offset)")
    }

    @Test func nestingIsBounded() {
        let deep = Array((String(repeating: "[", count: 129) + String(repeating: "]", count: 129)).utf8)
        let e = #expect(throws: JSONSyntaxError.self) { try JSON.parse(deep, maxDepth: 128) }
        #expect(e?.reason == .tooDeep(limit: 128))
        #expect(e?.detail == "nesting deeper than 128 levels")
        #expect(throws: Never.self) { try JSON.parse(Array(deep.dropFirst().dropLast()), maxDepth: 128) }
    }

    @Test func invalidUTF8IsRefused() {
        let e = #expect(throws: JSONSyntaxError.self) { try JSON.parse([0x22, 0x61, 0xC3, 0x28, 0x22]) }
        #expect(e?.reason == .invalidUTF8)
    }

    @Test func theScannerReadsNumbersExactly() throws {
        for text in ["0", "-0", "1", "0.1", "1e22", "1e23", "9007199254740993", "123456789012345678901234567890", "2.2250738585072014e-308",
            "4.9e-324", "1.7976931348623157e308", "0.30000000000000004", "-12.5e-3"]
        {
            let v = try JSONScanner.withScanner(Array(text.utf8)) { (s) throws(JSONSyntaxError) in try s.readNumber() }
            #expect(v.bitPattern == Double(text)!.bitPattern, "\(text)")
        }
        #expect(throws: JSONSyntaxError.self) { try JSONScanner.withScanner(Array("1e400".utf8)) { (s) throws(JSONSyntaxError) in try s.readNumber() } }
    }
}
