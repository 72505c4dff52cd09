// The OTLP exporter's configuration: decoded, validated and defaulted in one place.
public import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything `exporters.<name>` may say for the OTLP exporter. See README.md for each key.
public struct OTLPExporterSettings: Sendable {
    /// OTLP's two transports, named as `OTEL_EXPORTER_OTLP_PROTOCOL` names them.
    public enum TransportProtocol: String, Sendable {
        case httpProtobuf = "http/protobuf"
        case grpc
    }

    /// One receiver: where requests go and whether the connection is TLS.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// `http` or `https`.
        public var scheme: String
        public var host: String
        public var port: Int
        /// The path prefix before `/v1/traces` etc. ("" for none; no trailing slash).
        public var path: String

        public var isTLS: Bool { scheme == "https" }
        /// The endpoint as written in reports and logs (also its identity on the hash ring).
        public var description: String { "\(scheme)://\(Self.hostText(host)):\(port)\(path)" }

        /// The URL of one signal's OTLP/HTTP path.
        public func url(_ signal: OTLPSignal) -> String { "\(description)\(signal.httpPath)" }

        static func hostText(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
    }

    public var endpoints: [Endpoint] = []
    public var transport: TransportProtocol = .httpProtobuf
    public var gzip = true
    public var headers: [(String, String)] = []
    public var timeout: Duration = .seconds(10)
    public var caFile: String?
    public var insecureSkipVerify = false

    /// Headers the exporter sets itself; a user header may not replace them.
    public static let reservedHeaders: Set<String> = [
        "content-encoding", "content-type", "content-length", "user-agent", "host", "transfer-encoding", "te",
        "grpc-encoding", "grpc-accept-encoding", "grpc-timeout",
    ]

    /// Reads and validates every key, reporting all problems at once (and unknown keys).
    public init(_ config: PluginConfig) throws(PluginConfigError) {
        transport =
            TransportProtocol(rawValue: config.choice("protocol", ["http/protobuf", "grpc"], default: "http/protobuf"))
            ?? .httpProtobuf
        let defaultPort = transport == .grpc ? 4317 : 4318
        var texts: [(key: String, text: String)] = []
        if let one = config.optionalString("endpoint") { texts.append(("endpoint", one)) }
        for (i, text) in config.stringList("endpoints", default: []).enumerated() {
            texts.append(("endpoints[\(i)]", text))
        }
        if config.has("endpoint") && config.has("endpoints") {
            config.problem("endpoints", "cannot be combined with endpoint (write every receiver under endpoints)")
        }
        if texts.isEmpty {
            config.problem("endpoint", "is required (for a Firefly gateway: http://gateway:\(defaultPort))")
        }
        for (key, text) in texts {
            switch Self.parseEndpoint(text, defaultPort: defaultPort) {
            case .success(let endpoint):
                if transport == .grpc, !endpoint.path.isEmpty {
                    config.problem(key, "a gRPC endpoint has no path, not '\(endpoint.path)'")
                } else if endpoints.contains(endpoint) {
                    config.problem(key, "'\(endpoint)' is listed twice")
                } else {
                    endpoints.append(endpoint)
                }
            case .failure(let problem):
                config.problem(key, problem.message)
            }
        }
        gzip = config.choice("compression", ["gzip", "none"], default: "gzip") == "gzip"
        timeout = config.duration("timeout", default: .seconds(10)) ?? .seconds(10)
        if timeout <= .zero { config.problem("timeout", "must be greater than 0") }
        headers = config.stringMap("headers")
        for (name, value) in headers {
            if Self.reservedHeaders.contains(name.lowercased()) {
                config.problem("headers.\(name)", "is set by the exporter itself and cannot be overridden")
            } else if name.isEmpty || !name.utf8.allSatisfy(Self.isTokenByte) {
                config.problem("headers.\(name)", "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~)")
            } else if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                config.problem("headers.\(name)", "must not contain line breaks or NUL")
            }
        }
        if let tls = config.object("tls") {
            caFile = tls.optionalString("ca_file")
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                tls.problem("ca_file", "cannot read '\(caFile)'")
            }
            insecureSkipVerify = tls.bool("insecure_skip_verify", default: false)
            if !endpoints.isEmpty, !endpoints.contains(where: \.isTLS) {
                tls.problem("", "is set but no endpoint is https://")
            }
        }
        try config.finish()
    }

    struct EndpointProblem: Error { var message: String }

    /// `http(s)://host[:port][/path]`; the port defaults to OTLP's (4318 HTTP, 4317 gRPC).
    static func parseEndpoint(_ text: String, defaultPort: Int) -> Result<Endpoint, EndpointProblem> {
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = c.host, !host.isEmpty
        else {
            return .failure(
                EndpointProblem(message: "must be an http:// or https:// URL with a host, not '\(Credentials.withoutUserInfo(text))'"))
        }
        if c.user != nil || c.password != nil {
            return .failure(
                EndpointProblem(
                    message: "must not contain credentials; send them in headers (Authorization: Bearer ${TOKEN})"))
        }
        if c.query != nil || c.fragment != nil {
            return .failure(EndpointProblem(message: "must not have a query or fragment"))
        }
        var path = c.path
        while path.hasSuffix("/") { path.removeLast() }
        for signal in OTLPSignal.allCases where path.hasSuffix(signal.httpPath) {
            return .failure(
                EndpointProblem(
                    message:
                        "is the receiver's base URL: leave out '\(signal.httpPath)' (the exporter adds each signal's path)"
                ))
        }
        let port = c.port ?? defaultPort
        guard (1...65535).contains(port) else {
            return .failure(EndpointProblem(message: "has port \(port) outside 1...65535"))
        }
        return .success(Endpoint(scheme: scheme, host: host, port: port, path: path))
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    /// The secrets that must never appear in a message: values of credential-like headers.
    var secrets: [String] {
        headers.filter { !$0.1.isEmpty && Credentials.isSensitiveHeader($0.0) }.flatMap { header -> [String] in
            // "Bearer abc" also hides "abc" alone.
            let parts = header.1.split(separator: " ", maxSplits: 1)
            return parts.count == 2 ? [header.1, String(parts[1])] : [header.1]
        }
    }
}
