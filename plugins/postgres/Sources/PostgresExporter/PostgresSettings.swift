// The postgres exporter's configuration: decoded from the instance's keys, validated all at once.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import FireflyPluginKit

/// How the exporter uses TLS, with libpq's meanings: `prefer` and `require` encrypt without checking
/// the server's certificate, `verify-full` checks it against the system trust roots and the host name.
public enum PostgresTLSMode: String, Sendable, CaseIterable {
    case disable
    case prefer
    case require
    case verifyFull = "verify-full"
}

/// Where to connect and as whom, parsed from a `postgres://` URL. The password never appears in
/// `description` or any message: use `redacted` to name the server.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Set when the URL names a unix socket directory with `?host=/dir`.
    public var unixSocketDirectory: String?
    public var unixSocketPath: String? {
        unixSocketDirectory.map { ($0.hasSuffix("/") ? $0 : $0 + "/") + ".s.PGSQL.\(port)" }
    }
    public var user: String
    public var password: String?
    public var database: String
    /// `sslmode` from the URL's query, when present.
    public var sslMode: PostgresTLSMode?

    /// The URL with the password replaced by `***`.
    public var redacted: String {
        let credentials = password == nil ? user : "\(user):***"
        if let unixSocketDirectory {
            return "postgres://\(credentials)@:\(port)/\(database)?host=\(unixSocketDirectory)"
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(credentials)@\(hostPart):\(port)/\(database)"
    }

    public var description: String { redacted }

    /// Parses `postgres://user[:password]@host[:port]/database[?sslmode=…&host=/socket/dir]`
    /// (`postgresql://` too); the error text never contains the password.
    public static func parse(_ text: String) -> Result<PostgresURL, URLProblem> {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else {
            return .failure(URLProblem("expected postgres://user[:password]@host[:port]/database"))
        }
        let user = components.percentEncodedUser.flatMap { $0.percentDecoded } ?? ""
        guard !user.isEmpty else { return .failure(URLProblem("names no user (postgres://USER@host/database)")) }
        let password = components.percentEncodedPassword.flatMap { $0.percentDecoded }
        var database = String(components.path.drop { $0 == "/" })
        if database.isEmpty { database = user }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { return .failure(URLProblem("port must be between 1 and 65535")) }
        var url = PostgresURL(
            host: components.host ?? "", port: port, unixSocketDirectory: nil, user: user, password: password,
            database: database, sslMode: nil)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = PostgresTLSMode(rawValue: item.value ?? "") else {
                    return .failure(URLProblem("sslmode must be one of disable, prefer, require, verify-full"))
                }
                url.sslMode = mode
            case "host":
                guard let dir = item.value, dir.hasPrefix("/") else {
                    return .failure(URLProblem("?host= must be an absolute unix socket directory"))
                }
                url.unixSocketDirectory = dir
            default:
                return .failure(URLProblem("unknown URL parameter '\(item.name)' (known: sslmode, host)"))
            }
        }
        if url.host.isEmpty && url.unixSocketPath == nil {
            return .failure(URLProblem("names no host (postgres://user@HOST:port/database)"))
        }
        return .success(url)
    }

    public struct URLProblem: Error, Equatable {
        public var message: String
        init(_ message: String) { self.message = message }
    }
}

/// Every key of a `postgres` exporter instance, with its default.
public struct PostgresSettings: Sendable, Equatable {
    public var url: PostgresURL
    public var poolSize: Int = 4
    public var tls: PostgresTLSMode = .prefer
    /// Schema holding Firefly's tables; a plain lower-case SQL identifier.
    public var schema: String = "firefly"
    /// Rows older than this are deleted (TimescaleDB retention policy, or periodic DELETE); nil keeps all.
    public var retention: Duration?
    public var connectTimeout: Duration = .seconds(10)
    /// How many days after today the exporter keeps daily partitions ready for (plain PostgreSQL).
    public var partitionsAhead: Int = 7

    public init(url: PostgresURL) { self.url = url }

    /// Reads and validates the configuration, reporting every problem at once.
    public init(_ config: PluginConfig) throws {
        let text = config.optionalString("url")
        let poolSize = config.int("pool_size", default: 4, range: 1...100)
        let tls = config.has("tls") ? config.choice("tls", PostgresTLSMode.allCases.map(\.rawValue), default: "prefer") : nil
        let schema = config.string("schema", default: "firefly")
        let connectTimeout = config.duration("connect_timeout", default: .seconds(10)) ?? .seconds(10)
        let partitionsAhead = config.int("partitions_ahead", default: 7, range: 0...366)
        var retention: Duration?
        switch config.value("retention") {
        case nil, .string("none")?: retention = nil
        case .string(let s)?:
            if let d = PluginConfig.parseDuration(s), d >= .seconds(3600) {
                retention = d
            } else {
                config.problem("retention", "expected none or a duration of at least 1h, such as 30d or 12h")
            }
        default: config.problem("retention", "expected none or a duration such as 30d")
        }
        if !Self.isPlainIdentifier(schema) {
            config.problem("schema", "must be a lower-case SQL identifier (letters, digits, _; at most 63 bytes), not '\(schema)'")
        }
        if connectTimeout < .milliseconds(100) { config.problem("connect_timeout", "must be at least 100ms") }
        var url: PostgresURL?
        if let text {
            switch PostgresURL.parse(text) {
            case .success(let parsed): url = parsed
            case .failure(let problem): config.problem("url", problem.message)
            }
        } else {
            config.problem("url", "is required, e.g. postgres://firefly@127.0.0.1:54329/firefly")
        }
        if let url, let sslMode = url.sslMode, let tls, tls != sslMode.rawValue {
            config.problem("tls", "is '\(tls)' but the url says sslmode=\(sslMode.rawValue); keep one")
        }
        try config.finish()
        guard let url else { throw PluginConfigError(problems: ["url: is required"]) }
        self.url = url
        self.poolSize = poolSize
        self.tls = tls.flatMap(PostgresTLSMode.init(rawValue:)) ?? url.sslMode ?? .prefer
        self.schema = schema
        self.retention = retention
        self.connectTimeout = connectTimeout
        self.partitionsAhead = partitionsAhead
    }

    static func isPlainIdentifier(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, bytes.count <= 63, first == UInt8(ascii: "_") || (97...122).contains(first) else {
            return false
        }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || (97...122).contains($0) || (48...57).contains($0) }
    }
}
