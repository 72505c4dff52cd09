// AWS Signature Version 4: the canonical request, the string to sign and the HMAC-SHA256 key chain.
import Crypto
import FireflyModel
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Signs requests the way AWS services check them (SigV4, header authentication, signed payload).
/// Pure and deterministic: the time is a parameter, so tests compare signatures with AWS's published
/// examples and with botocore for the same request, credentials and time.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request to sign: `path` as it goes on the wire (already percent-encoded once), `query`
    /// unencoded, `headers` as they will be sent (`host` included).
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)], body: [UInt8] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }

        /// The query string to send: the same encoding and order the signature covers.
        public var encodedQuery: String { SigV4Signer.canonicalQuery(query) }
    }

    /// The headers to add to `request` (`X-Amz-Date`, `X-Amz-Security-Token` when there is a session
    /// token, `Authorization`), signing them together with the request's own.
    public func sign(_ request: Request, at date: Date) -> [(name: String, value: String)] {
        let time = Self.timestamp(date)
        var added: [(name: String, value: String)] = [("X-Amz-Date", time)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        var signed = request
        signed.headers += added
        let (canonical, signedHeaders) = Self.canonicalRequest(signed)
        let scope = "\(time.prefix(8))/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(time)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonical.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: String(time.prefix(8)))))
        added.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// The canonical request and its signed-headers list.
    static func canonicalRequest(_ request: Request) -> (String, String) {
        var headers: [String: [String]] = [:]
        for (name, value) in request.headers {
            headers[name.lowercased(), default: []].append(value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
        }
        let names = headers.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let lines = [
            request.method.uppercased(),
            encode(removeDotSegments(request.path), keepingSlash: true),
            canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            hex(SHA256.hash(data: request.body)),
        ]
        return (lines.joined(separator: "\n"), signedHeaders)
    }

    /// `name=value` pairs, each side encoded, sorted by name then value, joined by `&`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (encode($0.name, keepingSlash: false), encode($0.value, keepingSlash: false)) }
            .sorted { a, b in
                a.0 == b.0 ? Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8)) : Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encodes every byte but the unreserved characters (and `/` in a path), upper-case hex.
    static func encode(_ text: String, keepingSlash: Bool) -> String {
        text.percentEncoded(keeping: keepingSlash ? "-_.~/" : "-_.~")
    }

    /// RFC 3986 dot-segment removal; AWS also wants empty segments (`//`) gone. "" → "/".
    static func removeDotSegments(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                if !segments.isEmpty { segments.removeLast() }
            } else {
                segments.append(segment)
            }
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return leading + segments.joined(separator: "/") + trailing
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
