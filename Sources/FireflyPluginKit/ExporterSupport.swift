// What exporters that send over HTTP share: one result for a batch sent in parts, and keeping
// credentials out of messages.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ExportResult {
    /// One result for the parts of a batch sent separately: all ok → ok; any retryable → retryable
    /// (with the longest wait asked for); else the rejections, joined.
    public static func combining(_ results: [ExportResult]) -> ExportResult {
        var retry: (after: Duration?, message: String)?
        var rejected: [String] = []
        for result in results {
            switch result {
            case .ok: break
            case .permanent(let message): rejected.append(message)
            case .retryable(let after, let message):
                if retry == nil || (after ?? .zero) > (retry?.after ?? .zero) { retry = (after, message) }
            }
        }
        if let retry { return .retryable(after: retry.after, message: retry.message) }
        return rejected.isEmpty ? .ok : .permanent(message: rejected.joined(separator: "; "))
    }
}

/// Credentials an exporter is configured with, kept out of every message it writes.
public enum Credentials {
    /// Headers whose values are secrets: `Authorization`, and any name with token, key, secret,
    /// password or cookie in it.
    public static func isSensitiveHeader(_ name: String) -> Bool {
        let n = name.lowercased()
        return n == "authorization" || n.contains("token") || n.contains("key") || n.contains("secret")
            || n.contains("password") || n.contains("cookie")
    }

    /// The URL without any `user:password@` part.
    public static func withoutUserInfo(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.user != nil || c.password != nil else { return url }
        c.user = nil
        c.password = nil
        return c.string ?? "<url>"
    }

    /// `message` with every one of `secrets` replaced by `<redacted>`.
    public static func redact(_ message: String, _ secrets: [String]) -> String {
        secrets.reduce(message) { $0.replacing($1, with: "<redacted>") }
    }
}
