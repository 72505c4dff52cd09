import FireflyModel
import Testing

@Suite struct TextTests {
    @Test func trimmingKeepsInnerSpaceAndOptionallyLineBreaks() {
        #expect(" \t a b \r\n".trimmed() == "a b")
        #expect(" a b \n".trimmed(keepingNewlines: true) == "a b \n")
        #expect("\u{00A0}x\u{2003}".trimmed() == "x")
        #expect("   ".trimmed() == "")
        #expect("".trimmed() == "")
    }

    @Test func percentEncodingRoundTrips() {
        #expect("otlp/prod".percentEncoded(keeping: "-_.") == "otlp%2Fprod")
        #expect("a-b_c.d".percentEncoded(keeping: "-_.") == "a-b_c.d")
        #expect("é".percentEncoded(keeping: "") == "%C3%A9")
        #expect("otlp%2Fprod".percentDecoded == "otlp/prod")
        #expect("p%40ss%3aword".percentDecoded == "p@ss:word")
        #expect("%C3%A9".percentDecoded == "é")
        // A bare %, a bad hex digit, bytes that are not UTF-8: not decodable.
        #expect("100%".percentDecoded == nil)
        #expect("%zz".percentDecoded == nil)
        #expect("%FF".percentDecoded == nil)
    }

    @Test func paddingNeverTruncates() {
        #expect("ab".padded(to: 4) == "ab  ")
        #expect("17".padded(to: 5, with: "0") == "17000")
        #expect("abcdef".padded(to: 3) == "abcdef")
    }

    @Test func cFormatIsPrintf() {
        #expect(cFormat("%.1f", 2.25) == "2.2")  // round half to even, as printf does
        #expect(cFormat("%.1f", 12.0) == "12.0")
        #expect(cFormat("%020llu.seg", UInt64(42)) == "00000000000000000042.seg")
        #expect(cFormat("%.12f", 0.0000166667) == "0.000016666700")
        let long = String(repeating: "x", count: 200)
        #expect(cFormat("%d:" + long, 7) == "7:" + long)
    }

    @Test func pathsJoinAndSplitLikeNSString() {
        #expect(PathText.join("/a", "b") == "/a/b")
        #expect(PathText.join("/a/", "b") == "/a/b")
        #expect(PathText.join("", "b") == "b")
        #expect(PathText.lastComponent("/a/b.yaml") == "b.yaml")
        #expect(PathText.lastComponent("b.yaml") == "b.yaml")
        #expect(PathText.lastComponent("/a/b/") == "b")
        #expect(PathText.lastComponent("/") == "/")
        #expect(PathText.directory("/a/b.yaml") == "/a")
        #expect(PathText.directory("/b") == "/")
        #expect(PathText.directory("b") == "")
        #expect(PathText.directory("a/b/") == "a")
    }
}
