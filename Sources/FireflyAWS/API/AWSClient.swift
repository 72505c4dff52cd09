// Signed JSON calls to AWS service endpoints over AsyncHTTPClient.
import AsyncHTTPClient
import FireflyWire
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import NIOCore
import NIOHTTP1

/// Sends SigV4-signed requests to one account and region. Answers other than 2xx become `AWSError`
/// with AWS's error code and message; throttling and server errors are retried a few times.
public struct AWSClient: Sendable {
    public let configuration: AWSConfiguration
    private let httpClient: HTTPClient
    private let now: @Sendable () -> Date

    public init(configuration: AWSConfiguration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.httpClient = HTTPClient.shared
        self.now = now
    }

    /// Response bodies larger than this are refused (AWS API answers are far smaller).
    static let maxResponseBytes = 16 * 1024 * 1024

    /// Calls `service`'s REST-JSON API and returns the response body. `path` is given unencoded
    /// segment by segment (`["2015-03-31", "functions", name, "configuration"]`) so names with
    /// reserved characters (`:` in ARNs) are encoded once on the wire and once more in the signature.
    public func call(
        service: String, method: String, path segments: [String], query: [(name: String, value: String)] = [], json body: [UInt8]? = nil
    ) async throws(AWSError) -> [UInt8] {
        let base = configuration.endpoint(for: service)
        guard let url = URLComponents(string: base), let host = url.host, let scheme = url.scheme else {
            throw AWSError(code: "InvalidEndpoint", message: "'\(base)' is not a URL")
        }
        let basePath = url.percentEncodedPath.hasSuffix("/") ? String(url.percentEncodedPath.dropLast()) : url.percentEncodedPath
        let path = basePath + "/" + segments.map { SigV4Signer.encode($0, keepingSlash: false) }.joined(separator: "/")
        let defaultPort = scheme == "https" ? 443 : 80
        let hostHeader = url.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        var headers: [(name: String, value: String)] = [("Host", hostHeader)]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let request = SigV4Signer.Request(method: method, path: path, query: query, headers: headers, body: body ?? [])
        let query = request.encodedQuery
        let target = "\(scheme)://\(hostHeader)\(path)\(query.isEmpty ? "" : "?" + query)"

        var attempt = 0
        while true {
            attempt += 1
            let signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: service)
            var http = HTTPClientRequest(url: target)
            http.method = HTTPMethod(rawValue: method)
            for (name, value) in headers + signer.sign(request, at: now()) { http.headers.add(name: name, value: value) }
            if let body { http.body = .bytes(ByteBuffer(bytes: body)) }
            let status: Int
            let bytes: [UInt8]
            let responseHeaders: HTTPHeaders
            do {
                let response = try await httpClient.execute(http, timeout: .seconds(60))
                status = Int(response.status.code)
                responseHeaders = response.headers
                bytes = Array((try await response.body.collect(upTo: Self.maxResponseBytes)).readableBytesView)
            } catch {
                throw AWSError(code: "RequestFailed", message: "\(method) \(base): \(error)")
            }
            if (200..<300).contains(status) { return bytes }
            let failure = AWSError(status: status, headers: responseHeaders, body: bytes)
            let retryable = status == 429 || status >= 500 || failure.code.contains("Throttl") || failure.code == "TooManyRequestsException"
            guard retryable, attempt < 4 else { throw failure }
            try? await Task.sleep(for: .milliseconds(250 << attempt))
        }
    }
}

/// An error answered by AWS (its code and message) or met on the way. Its text never holds
/// credentials: requests are described by method and endpoint only.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    /// AWS's error code (`ResourceNotFoundException`, `AccessDeniedException`) or Firefly's own
    /// (`RequestFailed`, `InvalidResponse`).
    public var code: String
    public var message: String
    public var status: Int?
    public var requestID: String?

    public init(code: String, message: String, status: Int? = nil, requestID: String? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.requestID = requestID
    }

    /// Reads the code from `X-Amzn-ErrorType` (`Code:http://…`) or the body's `__type` / `code` /
    /// `Type`, and the message from the body's `message` / `Message`.
    init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        let json = try? JSON.parse(body)
        func text(_ key: String) -> String? {
            if case .string(let value)? = json?[key] { return value }
            return nil
        }
        var code = headers.first(name: "x-amzn-ErrorType").map { String($0.split(separator: ":").first ?? "") }
        if code == nil || code == "" {
            code = text("__type").map { String($0.split(separator: "#").last ?? "") } ?? text("code") ?? text("Code")
        }
        let message = text("message") ?? text("Message") ?? text("errorMessage")
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        self.init(
            code: code ?? "HTTP\(status)", message: message ?? (text.isEmpty ? "(no message)" : text), status: status,
            requestID: headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id"))
    }

    public var description: String {
        var text = "\(code): \(message)"
        var details: [String] = []
        if let status { details.append("HTTP \(status)") }
        if let requestID { details.append("request id \(requestID)") }
        if !details.isEmpty { text += " (\(details.joined(separator: ", ")))" }
        return text
    }
}
