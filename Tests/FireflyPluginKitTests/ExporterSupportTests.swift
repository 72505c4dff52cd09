import FireflyPluginKit
import Testing

@Suite struct ExporterSupportTests {
    @Test func partsCombineIntoOneResult() {
        #expect(ExportResult.combining([.ok, .ok]) == .ok)
        #expect(ExportResult.combining([.ok, .permanent(message: "a"), .permanent(message: "b")]) == .permanent(message: "a; b"))
        // Any retryable part makes the batch retryable, with the longest wait a part asked for.
        #expect(
            ExportResult.combining([
                .permanent(message: "a"), .retryable(after: .seconds(2), message: "x"), .retryable(after: nil, message: "y"),
                .retryable(after: .seconds(5), message: "z"),
            ]) == .retryable(after: .seconds(5), message: "z"))
        #expect(ExportResult.combining([.retryable(after: nil, message: "y")]) == .retryable(after: nil, message: "y"))
    }

    @Test func credentialsStayOutOfMessages() {
        #expect(Credentials.isSensitiveHeader("Authorization") && Credentials.isSensitiveHeader("X-Api-Key"))
        #expect(!Credentials.isSensitiveHeader("Content-Type"))
        #expect(Credentials.withoutUserInfo("https://user:pw@example.com/push") == "https://example.com/push")
        #expect(Credentials.withoutUserInfo("https://example.com/push") == "https://example.com/push")
        #expect(Credentials.redact("token abc and abc", ["abc"]) == "token <redacted> and <redacted>")
    }
}

@Suite struct RetryAfterParseTests {
    /// 1994-11-06T08:49:37Z, RFC 9110's example date.
    static let example: UInt64 = 784_111_777

    @Test func delaySecondsAndTheThreeHTTPDateForms() {
        let now = (Self.example - 30) * 1_000_000_000
        #expect(RetryAfter.parse("120", nowUnixNano: now) == .seconds(120))
        #expect(RetryAfter.parse(" 5 ", nowUnixNano: now) == .seconds(5))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", nowUnixNano: now) == .milliseconds(30_000))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT", nowUnixNano: now) == .milliseconds(30_000))
        #expect(RetryAfter.parse("Sun Nov  6 08:49:37 1994", nowUnixNano: now) == .milliseconds(30_000))
    }

    @Test func pastDatesMeanNowAndNonsenseMeansNothing() {
        let later = (Self.example + 60) * 1_000_000_000
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", nowUnixNano: later) == .milliseconds(0))
        #expect(RetryAfter.parse("-3", nowUnixNano: later) == .seconds(0))
        #expect(RetryAfter.parse(nil, nowUnixNano: later) == nil)
        #expect(RetryAfter.parse("", nowUnixNano: later) == nil)
        #expect(RetryAfter.parse("soon", nowUnixNano: later) == nil)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 CET", nowUnixNano: later) == nil)
        #expect(RetryAfter.parse("Sun, 32 Nov 1994 08:49:37 GMT", nowUnixNano: later) == nil)
        #expect(RetryAfter.parse("Sun, 06 Foo 1994 08:49:37 GMT", nowUnixNano: later) == nil)
    }
}
