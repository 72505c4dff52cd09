// The remote-write exporter's configuration: decoded, validated and defaulted in one place.
public import FireflyModel
public import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything `exporters.<name>` may say for the remote-write plugin. See README.md for each key.
public struct RemoteWriteSettings: Sendable {
    public var url: String
    public var timeout: Duration = .seconds(30)
    public var maxSamplesPerRequest = 2000
    public var shards = 1
    public var headers: [(String, String)] = []
    public var basicAuth: (username: String, password: String)?
    public var bearerToken: String?
    public var caFile: String?
    public var insecureSkipVerify = false
    public var externalLabels: [Label] = []

    /// Headers remote-write itself defines; a user header may not replace them.
    public static let reservedHeaders: Set<String> = [
        "content-encoding", "content-type", "content-length", "user-agent", "x-prometheus-remote-write-version",
        "host", "transfer-encoding",
    ]

    public init(url: String) { self.url = url }

    /// Reads and validates every key, reporting all problems at once (and unknown keys).
    public init(_ config: PluginConfig) throws(PluginConfigError) {
        url = config.string("url", default: "")
        if url.isEmpty {
            config.problem("url", "is required (for Prometheus: http://127.0.0.1:9090/api/v1/write)")
        } else if let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        {
            if components.user != nil || components.password != nil {
                config.problem("url", "must not contain credentials; use basic_auth")
            }
        } else {
            config.problem("url", "must be an http:// or https:// URL with a host, not '\(Credentials.withoutUserInfo(url))'")
        }
        timeout = config.duration("timeout", default: .seconds(30)) ?? .seconds(30)
        if timeout <= .zero { config.problem("timeout", "must be greater than 0") }
        maxSamplesPerRequest = config.int("max_samples_per_request", default: 2000, range: 1...1_000_000)
        shards = config.int("shards", default: 1, range: 1...64)
        headers = config.stringMap("headers")
        for (name, _) in headers where Self.reservedHeaders.contains(name.lowercased()) {
            config.problem("headers.\(name)", "is set by remote-write itself and cannot be overridden")
        }
        if let auth = config.object("basic_auth") {
            let username = auth.string("username", default: "")
            let password = auth.string("password", default: "")
            if username.isEmpty { auth.problem("username", "is required") }
            basicAuth = (username, password)
        }
        bearerToken = config.optionalString("bearer_token")
        if bearerToken == "" { bearerToken = nil }
        if basicAuth != nil && bearerToken != nil {
            config.problem("bearer_token", "cannot be combined with basic_auth")
        }
        if (basicAuth != nil || bearerToken != nil), headers.contains(where: { $0.0.lowercased() == "authorization" }) {
            config.problem("headers.Authorization", "cannot be combined with basic_auth or bearer_token")
        }
        if let tls = config.object("tls") {
            caFile = tls.optionalString("ca_file")
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                tls.problem("ca_file", "cannot read '\(caFile)'")
            }
            insecureSkipVerify = tls.bool("insecure_skip_verify", default: false)
        }
        var labels: [Label] = []
        for (name, value) in config.stringMap("external_labels") {
            if PrometheusNaming.sanitizeLabelName(name) != name || name.hasPrefix("__") {
                config.problem("external_labels.\(name)", "is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no '__' prefix)")
            } else if !value.isEmpty {
                labels.append(Label(name, value))
            }
        }
        externalLabels = PrometheusNaming.canonicalLabels(labels)
        try config.finish()
    }

    /// The secrets that must never appear in a message.
    var secrets: [String] {
        var out: [String] = []
        if let p = basicAuth?.password, !p.isEmpty { out.append(p) }
        if let t = bearerToken { out.append(t) }
        for (name, value) in headers where !value.isEmpty && Credentials.isSensitiveHeader(name) { out.append(value) }
        return out
    }
}
