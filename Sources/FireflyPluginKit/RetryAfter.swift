// Parses the Retry-After header: delay-seconds or an HTTP-date (shared by the HTTP exporters).
import Foundation

/// What an HTTP receiver asks for when it answers 429 or 503: every HTTP exporter reads it the same way.
public enum RetryAfter {
    /// The delay a `Retry-After` value asks for, relative to `nowUnixNano`; nil when absent or unreadable.
    public static func parse(_ value: String?, nowUnixNano: UInt64) -> Duration? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Int64(text) { return .seconds(max(0, seconds)) }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                let deltaMs = Int64(date.timeIntervalSince1970 * 1000) - Int64(nowUnixNano / 1_000_000)
                return .milliseconds(max(0, deltaMs))
            }
        }
        return nil
    }
}
