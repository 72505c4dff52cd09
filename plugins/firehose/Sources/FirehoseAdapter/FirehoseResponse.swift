import FireflyPluginKit

/// Firehose's response contract (wire-formats spec A.4): `application/json`, uncompressed,
/// `{"requestId": <echoed>, "timestamp": <integer epoch ms>}` plus `errorMessage` on failure.
/// Only an exact 200 counts as success; Firehose retries every other status except 413.
enum FirehoseResponse {
    /// Firehose truncates longer messages; keep ours under its 8192-character limit.
    static let maxErrorMessage = 8000

    static func make(
        status: Int, requestId: String, timestampMs: UInt64, errorMessage: String? = nil,
        headers: [(name: String, value: String)] = []
    ) -> PluginResponse {
        var body = "{\"requestId\":" + JSONText.quote(requestId) + ",\"timestamp\":" + String(timestampMs)
        if var errorMessage {
            if errorMessage.count > maxErrorMessage { errorMessage = String(errorMessage.prefix(maxErrorMessage)) + "…" }
            body += ",\"errorMessage\":" + JSONText.quote(errorMessage)
        }
        body += "}"
        return PluginResponse(status: status, contentType: "application/json", headers: headers, body: Array(body.utf8))
    }
}
