import Crypto
import FireflyModel
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Why a request was refused with 401. Messages name headers and windows, never secrets or tokens.
struct AuthFailure: Error, Equatable, Sendable {
    var message: String
}

/// The `auth:` section: who may post to this instance.
enum WebhookAuth: Sendable {
    case none
    case bearer(BearerAuth)
    case hmac(HMACAuth)

    init(config: PluginConfig?) {
        guard let config else {
            self = .none
            return
        }
        switch config.choice("type", ["none", "bearer", "hmac"], default: "none") {
        case "bearer": self = .bearer(BearerAuth(config: config))
        case "hmac": self = .hmac(HMACAuth(config: config))
        default: self = .none
        }
    }

    /// Checks the request; on success returns a receipt to settle once the outcome is known, so a
    /// signature is only remembered (replay protection) for requests that were actually accepted.
    func verify(_ request: PluginRequest, nowUnixNano: UInt64) -> Result<ReplayReceipt?, AuthFailure> {
        switch self {
        case .none: .success(nil)
        case .bearer(let bearer): bearer.verify(request).map { nil }
        case .hmac(let hmac): hmac.verify(request, nowUnixNano: nowUnixNano).map { $0 }
        }
    }

    /// What can be checked before the body is read: a bearer token in full; for signatures, that
    /// the signature (and timestamp) headers are there, well formed and fresh. nil when nothing is
    /// wrong yet.
    func verifyHeaders(_ request: PluginRequest, nowUnixNano: UInt64) -> AuthFailure? {
        switch self {
        case .none: nil
        case .bearer(let bearer): if case .failure(let f) = bearer.verify(request) { f } else { nil }
        case .hmac(let hmac): if case .failure(let f) = hmac.signedHeaders(request, nowUnixNano: nowUnixNano) { f } else { nil }
        }
    }
}

/// Compares in time independent of where the first difference is.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}

/// `Authorization: Bearer <token>` (or the whole value of a custom header such as `X-Api-Key`),
/// with several tokens for rotation.
struct BearerAuth: Sendable {
    var header: String
    /// SHA-256 of each accepted token: comparing digests keeps the comparison constant-time even
    /// when lengths differ, and keeps the token text out of memory dumps of this struct.
    var digests: [[UInt8]]

    init(config: PluginConfig) {
        header = config.string("header", default: "Authorization")
        var tokens = config.optionalString("token").map { [$0] } ?? []
        tokens += config.stringList("tokens", default: [])
        if tokens.isEmpty { config.problem("token", "required for type bearer (or tokens: [...] for rotation)") }
        for (i, t) in tokens.enumerated() where t.isEmpty {
            config.problem(i == 0 && config.has("token") ? "token" : "tokens", "must not be empty")
        }
        digests = tokens.map { Array(SHA256.hash(data: Array($0.utf8))) }
    }

    func verify(_ request: PluginRequest) -> Result<Void, AuthFailure> {
        guard var value = request.header(header) else { return .failure(AuthFailure(message: "missing \(header) header")) }
        if header.lowercased() == "authorization" {
            guard value.count > 7, value.prefix(7).lowercased() == "bearer " else {
                return .failure(AuthFailure(message: "expected Authorization: Bearer <token>"))
            }
            value = String(value.dropFirst(7)).trimmed(keepingNewlines: true)
        }
        let digest = Array(SHA256.hash(data: Array(value.utf8)))
        var ok = false
        for d in digests { ok = constantTimeEqual(d, digest) || ok }
        return ok ? .success(()) : .failure(AuthFailure(message: "invalid token"))
    }
}

/// A signature remembered while its request is processed; settle it with the outcome.
struct ReplayReceipt: Sendable {
    let cache: ReplayCache
    let key: [UInt8]

    /// Keeps the signature (accepted) or forgets it so the sender may retry (busy, bad request).
    func settle(accepted: Bool) {
        if !accepted { cache.forget(key) }
    }
}

/// Signatures seen within the replay window. Bounded: expired entries are dropped when it fills,
/// and beyond `capacity` the entries closest to expiry go first.
final class ReplayCache: Sendable {
    private let state = Mutex<[[UInt8]: UInt64]>([:])
    let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Records `key` until `expiresAt`; false when it is already there and unexpired.
    func insert(_ key: [UInt8], expiresAt: UInt64, now: UInt64) -> Bool {
        state.withLock { seen in
            if let until = seen[key], until >= now { return false }
            if seen.count >= capacity {
                seen = seen.filter { $0.value >= now }
                if seen.count >= capacity {
                    for (k, _) in seen.sorted(by: { $0.value < $1.value }).prefix(seen.count - capacity + 1) {
                        seen[k] = nil
                    }
                }
            }
            seen[key] = expiresAt
            return true
        }
    }

    func forget(_ key: [UInt8]) {
        _ = state.withLock { $0.removeValue(forKey: key) }
    }

    var count: Int { state.withLock { $0.count } }
}

/// HMAC signatures over the raw body (GitHub, Vercel, Stripe, Slack and similar schemes).
struct HMACAuth: Sendable {
    enum Algorithm: String, Sendable, CaseIterable { case sha256, sha1, sha512 }
    enum Encoding: String, Sendable, CaseIterable { case hex, base64 }
    enum Part: Sendable, Equatable {
        case literal([UInt8])
        case timestamp
        case body
    }

    var keys: [SymmetricKey]
    var algorithm: Algorithm
    var header: String
    var encoding: Encoding
    var prefix: String
    var timestampHeader: String?
    var timestampPrefix: String
    var payload: [Part]
    /// Replay window in nanoseconds.
    var maxAge: UInt64
    var replay: ReplayCache

    init(config c: PluginConfig) {
        var secrets = c.optionalString("secret").map { [$0] } ?? []
        secrets += c.stringList("secrets", default: [])
        if secrets.isEmpty { c.problem("secret", "required for type hmac (or secrets: [...] for rotation)") }
        if secrets.contains(where: \.isEmpty) { c.problem(c.has("secret") ? "secret" : "secrets", "must not be empty") }
        keys = secrets.map { SymmetricKey(data: Array($0.utf8)) }
        algorithm = Algorithm(rawValue: c.choice("algorithm", Algorithm.allCases.map(\.rawValue), default: "sha256")) ?? .sha256
        header = c.string("header", default: "X-Signature-256")
        encoding = Encoding(rawValue: c.choice("encoding", Encoding.allCases.map(\.rawValue), default: "hex")) ?? .hex
        prefix = c.string("prefix", default: "sha256=")
        timestampHeader = c.optionalString("timestamp_header")
        timestampPrefix = c.string("timestamp_prefix", default: "")
        if timestampHeader == nil && c.has("timestamp_prefix") {
            c.problem("timestamp_prefix", "only meaningful with timestamp_header")
        }
        let template = c.string("signed_payload", default: timestampHeader == nil ? "{body}" : "{timestamp}.{body}")
        payload = []
        switch Self.parseTemplate(template) {
        case .success(let parts):
            payload = parts
            if !parts.contains(.body) { c.problem("signed_payload", "must contain {body}") }
            if parts.contains(.timestamp) && timestampHeader == nil {
                c.problem("signed_payload", "uses {timestamp} but no timestamp_header is set")
            }
        case .failure(let problem):
            c.problem("signed_payload", problem.message)
        }
        let window = c.duration("max_age", default: .seconds(300)) ?? .seconds(300)
        let ns = window.components.seconds * 1_000_000_000 + window.components.attoseconds / 1_000_000_000
        maxAge = UInt64(max(ns, 0))
        if ns <= 0 { c.problem("max_age", "must be positive") }
        replay = ReplayCache()
    }

    static func parseTemplate(_ text: String) -> Result<[Part], AuthFailure> {
        var parts: [Part] = []
        var literal: [UInt8] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            literal += Array(rest[..<open].utf8)
            guard let close = rest[open...].firstIndex(of: "}") else {
                return .failure(AuthFailure(message: "unterminated '{' (placeholders: {timestamp}, {body})"))
            }
            let name = rest[rest.index(after: open)..<close]
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = []
            switch name {
            case "timestamp": parts.append(.timestamp)
            case "body": parts.append(.body)
            default: return .failure(AuthFailure(message: "unknown placeholder {\(name)} (known: {timestamp}, {body})"))
            }
            rest = rest[rest.index(after: close)...]
        }
        literal += Array(rest.utf8)
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return .success(parts)
    }

    /// The comma- or space-separated elements of a header that start with `prefix`, prefix removed.
    static func elements(_ value: String, prefix: String) -> [Substring] {
        value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
            .filter { $0.hasPrefix(prefix) }
            .map { $0.dropFirst(prefix.count) }
    }

    func verify(_ request: PluginRequest, nowUnixNano now: UInt64) -> Result<ReplayReceipt?, AuthFailure> {
        let signed: SignedHeaders
        switch signedHeaders(request, nowUnixNano: now) {
        case .success(let s): signed = s
        case .failure(let f): return .failure(f)
        }
        var matched: [UInt8]?
        for key in keys {
            let expected = mac(key: key, timestamp: signed.timestamp, body: request.body)
            for candidate in signed.candidates where constantTimeEqual(expected, candidate) { matched = expected }
        }
        guard let matched else { return .failure(AuthFailure(message: "signature does not match")) }
        guard replay.insert(matched, expiresAt: signed.expiresAt, now: now) else {
            return .failure(AuthFailure(message: "replayed request: this signature was already accepted"))
        }
        return .success(ReplayReceipt(cache: replay, key: matched))
    }

    /// The signature headers of a request: the timestamp signed with the body, when the replay
    /// memory forgets the signature, and the presented signatures.
    struct SignedHeaders {
        var timestamp: String
        var expiresAt: UInt64
        var candidates: [[UInt8]]
    }

    /// Everything about the signature that the headers alone tell: present, well formed, fresh.
    func signedHeaders(_ request: PluginRequest, nowUnixNano now: UInt64) -> Result<SignedHeaders, AuthFailure> {
        var timestampText = ""
        var expiresAt = now &+ maxAge
        if let timestampHeader {
            guard let value = request.header(timestampHeader) else {
                return .failure(AuthFailure(message: "missing \(timestampHeader) header"))
            }
            guard let text = Self.elements(value, prefix: timestampPrefix).first,
                !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = UInt64(text),
                seconds < UInt64.max / 1_000_000_000
            else { return .failure(AuthFailure(message: "invalid timestamp in \(timestampHeader)")) }
            let t = seconds * 1_000_000_000
            let age = t > now ? t - now : now - t
            if age > maxAge {
                return .failure(AuthFailure(message: "timestamp outside the \(maxAge / 1_000_000_000)s window"))
            }
            timestampText = String(text)
            expiresAt = t &+ maxAge
        }
        guard let value = request.header(header) else { return .failure(AuthFailure(message: "missing \(header) header")) }
        let candidates = Self.elements(value, prefix: prefix).compactMap(decode)
        guard !candidates.isEmpty else {
            return .failure(AuthFailure(message: "malformed \(header) header (expected \(prefix)<\(encoding.rawValue)>)"))
        }
        return .success(SignedHeaders(timestamp: timestampText, expiresAt: expiresAt, candidates: candidates))
    }

    private func decode(_ text: Substring) -> [UInt8]? {
        switch encoding {
        case .hex: Hex.decode(String(text))
        case .base64: Data(base64Encoded: String(text)).map { Array($0) }
        }
    }

    func mac(key: SymmetricKey, timestamp: String, body: [UInt8]) -> [UInt8] {
        switch algorithm {
        case .sha256: mac(HMAC<SHA256>(key: key), timestamp: timestamp, body: body)
        case .sha1: mac(HMAC<Insecure.SHA1>(key: key), timestamp: timestamp, body: body)
        case .sha512: mac(HMAC<SHA512>(key: key), timestamp: timestamp, body: body)
        }
    }

    private func mac<H>(_ hmac: HMAC<H>, timestamp: String, body: [UInt8]) -> [UInt8] {
        var hmac = hmac
        for part in payload {
            switch part {
            case .literal(let bytes): hmac.update(data: bytes)
            case .timestamp: hmac.update(data: Array(timestamp.utf8))
            case .body: hmac.update(data: body)
            }
        }
        return Array(hmac.finalize())
    }
}
