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
