// Truncated gzip on every route and protocol of `firefly serve` is an error within a second.
import FireflyTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct HostileGzipTests {
    static let token = "grpc-secret"

    static func config(grpcPort: Int) throws -> String {
        let mapping = try String(
            contentsOf: WebhookEndToEndTests.testdata.appendingPathComponent("github.config.json"), encoding: .utf8)
        let withPath = mapping.replacingOccurrences(of: "{\n  \"auth\"", with: "{\n  \"path\": \"/hooks/github\",\n  \"auth\"")
        let indented = withPath.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        return """
            server:
              listen: 127.0.0.1:0
            plugins:
              paths: [plugins]
            receivers:
              firehose:
                access_keys: ["fh-key"]
              otlp:
                bearer_token: "\(token)"
                grpc: {listen: 127.0.0.1:\(grpcPort)}
              webhook/github:
            \(indented)
            exporters:
              debug:
                path: out.jsonl
            pipelines:
              metrics: {receivers: [firehose, otlp, webhook/github], exporters: [debug]}
              traces: {receivers: [otlp], exporters: [debug]}
            """
    }

    /// A gzip stream cut in the middle of its deflate data (no trailer, no final block).
    static func truncatedGzip() throws -> Data {
        let text = Data((0..<2000).map { "{\"record\": \($0)}\n" }.joined().utf8)
        let whole = try gzip(text)
        return whole.prefix(whole.count / 2)
    }

    /// A zlib stream (gRPC's `deflate`) cut in the middle, made by Python's zlib module.
    static func truncatedDeflate() throws -> Data {
        let script = "import sys, zlib; d = zlib.compress(sys.stdin.buffer.read()); sys.stdout.buffer.write(d[:len(d) // 2])"
        let text = Data((0..<2000).map { "{\"record\": \($0)}\n" }.joined().utf8)
        let r = try run("/usr/bin/env", ["python3", "-c", script], input: text)
        #expect(r.status == 0 && r.output.count > 100, "\(r.stderr)")
        return r.output
    }

    /// One POST on a connection of its own (`Connection: close`): the status, the body, and the time
    /// from sending the request to the end of the answer.
    static func timedPost(port: Int, path: String, body: Data, headers: [String: String]) throws
        -> (elapsed: Duration, status: Int, body: String)
    {
        let connection = try RawConnection(port: port)
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let started = ContinuousClock.now
        guard connection.send(Data((head + "\r\n").utf8) + body), let answer = connection.readToEnd(within: 10) else {
            throw POSIXError(.ETIMEDOUT)
        }
        let elapsed = ContinuousClock.now - started
        let text = String(decoding: answer, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let responseBody = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (elapsed, status, responseBody)
    }

    @Test func truncatedGzipIsAnErrorWithinASecondOnEveryRouteAndService() async throws {
        let grpcPort = freePort()
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyOTLPPlugin", "FireflyWebhookPlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: try Self.config(grpcPort: grpcPort))
        defer { server.stop() }
        let truncated = try Self.truncatedGzip()
        // A first request warms the connection and the server, so that the times below are the answers'.
        #expect(try await http("GET", server.baseURL + "/metrics").status == 200)

        let routes: [(String, [String: String])] = [
            ("/firehose", ["X-Amz-Firehose-Access-Key": "fh-key", "X-Amz-Firehose-Request-Id": "r-1"]),
            ("/v1/traces", ["Authorization": "Bearer \(Self.token)", "Content-Type": "application/x-protobuf"]),
            ("/v1/metrics", ["Authorization": "Bearer \(Self.token)", "Content-Type": "application/x-protobuf"]),
            // A well-formed (wrong) signature passes the header check, so the body is read and inflated.
            ("/hooks/github", ["Content-Type": "application/json", "X-GitHub-Event": "workflow_run",
                               "X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)]),
        ]
        // Each answer must come within a second; on a loaded machine a single slow answer is tried
        // again (up to three times): a receiver that spins never answers at all.
        // The request is sent and timed on a thread of its own: the time is the server's answer, not
        // how long this test waited for one of Swift concurrency's threads to resume it.
        for (path, headers) in routes {
            var fastest = Duration.seconds(3600)
            for _ in 0..<3 where fastest >= .seconds(1) {
                let port = server.port
                let r = try await offThePool {
                    try Self.timedPost(port: port, path: path, body: truncated, headers: headers.merging(["Content-Encoding": "gzip"]) { $1 })
                }
                fastest = min(fastest, r.elapsed)
                #expect(r.status == 400, "\(path): \(r.status) \(r.body)")
                #expect(r.body.contains("gzip"), "\(path): \(r.body)")
            }
            #expect(fastest < .seconds(1), "\(path) answered after \(fastest)")
        }

        // Without the token (refused before the message is decompressed) and with it (decompressed,
        // refused as malformed), on every OTLP service, logs included (not served).
        let services = ["opentelemetry.proto.collector.trace.v1.TraceService", "opentelemetry.proto.collector.metrics.v1.MetricsService",
                        "opentelemetry.proto.collector.logs.v1.LogsService"]
        let messages = ["gzip": Array(truncated), "deflate": Array(try Self.truncatedDeflate())]
        for service in services {
            for authorization in [nil, "Bearer \(Self.token)"] {
                for (encoding, message) in messages {
                    var fastest = Duration.seconds(3600)
                    for _ in 0..<3 where fastest >= .seconds(1) {
                        // Timed on the thread that makes the call, as the HTTP requests above are.
                        let (outcome, elapsed) = try await offThePool { () throws -> (RawGRPCCall.Outcome, Duration) in
                            let started = ContinuousClock.now
                            let outcome = try RawGRPCCall.send(
                                port: grpcPort, path: "/\(service)/Export", authorization: authorization, encoding: encoding,
                                compressedMessage: message, timeout: 5)
                            return (outcome, ContinuousClock.now - started)
                        }
                        fastest = min(fastest, elapsed)
                        #expect(outcome == .answered, "\(service) \(encoding) token: \(authorization != nil): \(outcome)")
                    }
                    #expect(fastest < .seconds(1), "\(service) \(encoding) answered after \(fastest)")
                }
            }
        }

        // The collector still serves: a gzip OTLP/HTTP request and the Python SDK's gzip gRPC exports.
        let empty = try gzip(Data("{}".utf8))
        let ok = try await http("POST", server.baseURL + "/v1/traces", body: empty, headers: [
            "Authorization": "Bearer \(Self.token)", "Content-Type": "application/json", "Content-Encoding": "gzip",
        ])
        #expect(ok.status == 200, "\(ok.body)")
        let script = Build.packageRoot.appendingPathComponent("Tests/IntegrationTests/clients/otlp_grpc_client.py").path
        let client = try await offThePool { try run("/usr/bin/env", ["python3", script, "127.0.0.1:\(grpcPort)", Self.token, "gzip"]) }
        #expect(client.status == 0, "\(client.stderr)")

        // And stops promptly on SIGTERM (a spinning decompressor used to make it hang).
        let started = ContinuousClock.now
        let status = server.stop()
        #expect(status == 0, "\(server.logText)")
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}

/// One gRPC call written frame by frame over plain HTTP/2 (prior knowledge), so the request can
/// carry a message no real client would send: flagged compressed, with truncated data.
enum RawGRPCCall {
    enum Outcome: Equatable, Sendable {
        /// The server ended the stream with trailers (a gRPC status).
        case answered
        /// RST_STREAM or GOAWAY instead of a status.
        case reset
        case timedOut
        case connectionClosed
    }

    static func send(
        port: Int, path: String, authorization: String?, encoding: String, compressedMessage: [UInt8], timeout: Double
    ) throws -> Outcome {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return .connectionClosed }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        var headers: [(String, String)] = [
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1:\(port)"),
            ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-encoding", encoding),
        ]
        if let authorization { headers.append(("authorization", authorization)) }
        var block: [UInt8] = []
        for (name, value) in headers {  // literal header field without indexing, new name, no Huffman
            block.append(0)
            block += length(name.utf8.count) + Array(name.utf8)
            block += length(value.utf8.count) + Array(value.utf8)
        }
        var message: [UInt8] = [1] + withUnsafeBytes(of: UInt32(compressedMessage.count).bigEndian, Array.init)
        message += compressedMessage
        var out = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        out += frame(type: 4, flags: 0, stream: 0, [])  // SETTINGS
        out += frame(type: 1, flags: 0x4, stream: 1, block)  // HEADERS, END_HEADERS
        out += frame(type: 0, flags: 0x1, stream: 1, message)  // DATA, END_STREAM
        try write(fd, out)

        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while Date() < deadline {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return .connectionClosed }
            if n > 0 { received += chunk[0..<n] }
            while received.count >= 9 {
                let len = Int(received[0]) << 16 | Int(received[1]) << 8 | Int(received[2])
                guard received.count >= 9 + len else { break }
                let type = received[3], flags = received[4]
                let stream = (Int(received[5]) & 0x7F) << 24 | Int(received[6]) << 16 | Int(received[7]) << 8 | Int(received[8])
                received.removeFirst(9 + len)
                if type == 4, flags & 0x1 == 0 { try write(fd, frame(type: 4, flags: 0x1, stream: 0, [])) }
                if type == 1, stream == 1, flags & 0x1 != 0 { return .answered }
                if type == 3 && stream == 1 || type == 7 { return .reset }
            }
        }
        return .timedOut
    }

    private static func length(_ n: Int) -> [UInt8] {
        precondition(n < 127, "header too long for this client")
        return [UInt8(n)]
    }

    private static func frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags]
            + withUnsafeBytes(of: stream.bigEndian, Array.init) + payload
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
    }
}
