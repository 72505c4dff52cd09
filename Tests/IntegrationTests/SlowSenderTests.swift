import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// Senders that upload slowly, with and without credentials, against a running `firefly serve`:
/// they must not hold the request slots an authenticated Firehose delivery needs.
@Suite(.serialized) struct SlowSenderTests {
    static func config(server extra: String = "") -> String {
        """
        server:
          listen: 127.0.0.1:0
          worker_threads: 2
          idle_timeout: 30s
        \(extra)
        plugins:
          paths: [plugins]
        receivers:
          firehose:
            access_keys: ["the-key"]
        exporters:
          debug:
            path: out.jsonl
        pipelines:
          metrics: {receivers: [firehose], exporters: [debug]}
        """
    }

    static let record = #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/Lambda","metric_name":"Invocations","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"max":1.0,"min":1.0,"sum":3.0,"count":3.0},"unit":"Count"}"#

    static func delivery(_ requestId: String) -> Data {
        let data = Data(record.utf8).base64EncodedString()
        return Data(#"{"requestId":"\#(requestId)","timestamp":1700000000000,"records":[{"data":"\#(data)"}]}"#.utf8)
    }

    /// Sends a whole request on a new connection and waits up to `timeout` seconds for the answer's
    /// status line: the status line and the seconds it took.
    static func exchange(port: Int, timeout: Double, _ request: String) -> (status: String, seconds: Double) {
        let started = Date()
        guard let c = try? RawConnection(port: port) else { return ("no connection", 0) }
        c.send(request)
        var reply = ""
        while Date().timeIntervalSince(started) < timeout, !reply.contains("\r\n") {
            reply += c.received()
            usleep(2_000)
        }
        let status = reply.split(separator: "\r\n").first.map { String($0.prefix(12)) } ?? "no answer"
        return (status, Date().timeIntervalSince(started))
    }

    /// Opens a connection that announces a large Firehose body and sends one byte of it.
    static func slowUpload(port: Int, key: String?) throws -> RawConnection {
        let c = try RawConnection(port: port)
        let keyHeader = key.map { "X-Amz-Firehose-Access-Key: \($0)\r\n" } ?? ""
        c.send("POST /firehose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\(keyHeader)Content-Length: 1000000\r\n\r\n{")
        return c
    }

    /// Sixteen uploads without the access key, each trickling its body: each gets its 401 on the
    /// headers, none takes a request slot, and a delivery with the key is answered at once.
    @Test func sixteenUnauthenticatedSlowUploadsDoNotDelayAnAuthenticatedDelivery() async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config())
        defer { server.stop() }
        let slow = try (0..<16).map { i in try Self.slowUpload(port: server.port, key: i.isMultiple(of: 2) ? nil : "a-wrong-key") }
        // Three deliveries with the key, timed on a thread of their own (the test process's shared
        // async threads may be busy with other tests): the fastest must not wait for the slow senders.
        let port = server.port
        let body = String(decoding: Self.delivery("good-1"), as: UTF8.self)
        let timings: [(status: String, seconds: Double)] = try await offThePool {
            (0..<3).map { _ in
                Self.exchange(port: port, timeout: 10, "POST /firehose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "X-Amz-Firehose-Request-Id: good-1\r\nX-Amz-Firehose-Access-Key: the-key\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            }
        }
        #expect(timings.map(\.status) == ["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200"], "\(timings)")
        #expect(timings.map(\.seconds).min()! < 1, "authenticated deliveries took \(timings.map(\.seconds)) s")
        // Every slow sender got its refusal without sending its body.
        let replies: [String] = try await offThePool {
            var replies = [String](repeating: "", count: slow.count)
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, replies.contains(where: { !$0.contains("\r\n\r\n") }) {
                for (i, c) in slow.enumerated() { replies[i] += c.received() }
                usleep(20_000)
            }
            return replies
        }
        #expect(replies.count == 16)
        for reply in replies {
            #expect(reply.hasPrefix("HTTP/1.1 401"), "\(reply.prefix(200))")
        }
        #expect(replies.filter { $0.contains("missing X-Amz-Firehose-Access-Key header") }.count == 8)
        #expect(replies.filter { $0.contains("invalid firehose access key") }.count == 8)
        let metrics = try await http("GET", server.baseURL + "/metrics").body
        #expect(metrics.contains(#"firefly_http_requests_total{receiver="firehose",status="401"} 16"#), "\(metrics)")
        #expect(metrics.contains("firefly_http_requests_waiting 0"))
    }

    /// A sender with the key that uploads slower than `server.body_min_rate` gets 408 once the
    /// grace has passed (long before `body_timeout`), and its slot serves the next delivery.
    @Test func anAuthenticatedUploadBelowTheMinimumRateGets408AfterTheGrace() async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let config = Self.config(server: "  worker_threads: 1\n  body_min_rate: 1000\n  body_rate_grace: 1s\n")
            .replacingOccurrences(of: "  worker_threads: 2\n", with: "")
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        let trickle = try Self.slowUpload(port: server.port, key: "the-key")
        let started = ContinuousClock.now
        let reply: String = try await offThePool {
            for _ in 0..<50 {  // 50 × 100 ms, 10 bytes/s: far below 1000 bytes/s, never idle
                trickle.send("x")
                usleep(100_000)
                let text = trickle.received()
                if !text.isEmpty { return text }
            }
            return ""
        }
        let took = ContinuousClock.now - started
        #expect(reply.hasPrefix("HTTP/1.1 408"), "\(reply)")
        #expect(reply.contains("server.body_min_rate"))
        #expect(took < .seconds(20), "408 after \(took)")  // body_timeout (300 s) is far off: the rate rule answered
        let next = try await http("POST", server.baseURL + "/firehose", body: Self.delivery("good-2"), headers: [
            "Content-Type": "application/json", "X-Amz-Firehose-Request-Id": "good-2", "X-Amz-Firehose-Access-Key": "the-key",
        ])
        #expect(next.status == 200)
        #expect(next.body.contains("good-2"))
    }
}


extension SlowSenderTests {
    /// A sender whose connection is reset while its request waits for a slot leaves the queue at once
    /// (one that only half-closes stays until `idle_timeout` closes its connection).
    @Test func aRequestWhoseSenderIsResetWhileWaitingStopsCounting() async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let config = Self.config().replacingOccurrences(of: "  worker_threads: 2\n", with: "  worker_threads: 1\n")
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        let holder = try Self.slowUpload(port: server.port, key: "the-key")
        let metrics = server.baseURL + "/metrics"
        #expect(await eventually { (try? syncGet(metrics))?.contains("firefly_http_requests_in_flight 1") == true })
        do {
            let leaver = try Self.slowUpload(port: server.port, key: "the-key")
            #expect(await eventually { (try? syncGet(metrics))?.contains("firefly_http_requests_waiting 1") == true })
            leaver.abortOnClose()
        }
        #expect(await eventually(3) { (try? syncGet(metrics))?.contains("firefly_http_requests_waiting 0") == true })
        _ = holder
    }
}
