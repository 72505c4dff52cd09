// What firefly.yaml says about the firehose receiver that a generated stack delivers to.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyYAML

/// The firehose receiver's `path` and where its access key comes from, read from firefly.yaml's
/// text as written (before `${VAR}` expansion), so the template command can tell the user which
/// environment variable holds the key without ever reading or printing the key itself.
public struct ReceiverDefaults: Sendable, Equatable {
    /// The receiver instance (`firehose`, `firehose/prod`).
    public var receiver: String?
    public var path: String = "/firehose"
    /// The environment variable of the first `access_keys` entry written as `${NAME}` / `${NAME:-…}`.
    public var accessKeyVariable: String?
    /// Whether `access_keys` lists a key written literally in the file.
    public var hasLiteralAccessKey = false

    public init() {}

    /// Reads the first receiver whose `plugin` is `firehose`; a file without one gives the defaults.
    /// Malformed YAML is an error: `firefly check` reports the details.
    public static func read(yaml text: String) throws -> ReceiverDefaults {
        var defaults = ReceiverDefaults()
        guard let root = try YAMLDocument.compose(text), let receivers = root["receivers"]?.mapping else { return defaults }
        for (key, value) in receivers {
            guard let name = key.string, let settings = value.mapping, settings["plugin"]?.string == "firehose" else { continue }
            defaults.receiver = name
            if let path = settings["path"]?.string, path.hasPrefix("/") { defaults.path = path }
            for entry in settings["access_keys"]?.sequence?.items ?? [] {
                guard let keyText = entry.string, !keyText.isEmpty else { continue }
                if let match = keyText.wholeMatch(of: /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/) {
                    if defaults.accessKeyVariable == nil { defaults.accessKeyVariable = String(match.1) }
                } else {
                    defaults.hasLiteralAccessKey = true
                }
            }
            break
        }
        return defaults
    }

    /// `endpoint` with this receiver's path when it has none (`https://host` → `https://host/firehose`).
    public func endpointURL(_ endpoint: String) -> String {
        guard let url = URLComponents(string: endpoint), url.host != nil, url.query == nil, url.fragment == nil, url.path.isEmpty || url.path == "/" else { return endpoint }
        var trimmed = endpoint
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed + path
    }
}
