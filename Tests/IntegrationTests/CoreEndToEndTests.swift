import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// The collector as users run it: the real binary, real plugins through dlopen, HTTP on loopback.
@Suite(.serialized) struct CoreEndToEndTests {
    static let config = """
        server:
          listen: 127.0.0.1:0
          max_body_bytes: 67108864
        plugins:
          paths: [plugins]
        receivers:
          c-adapter:
        exporters:
          debug:
            path: out.jsonl
        pipelines:
          metrics: {receivers: [c-adapter], exporters: [debug]}
        """

    func debugRecords(_ ws: Workspace) throws -> [DebugRecord] {
        try jsonLines(ws.read("out.jsonl"), as: DebugRecord.self)
    }

    @Test func cAdapterToSwiftExporterRoundTripsOverHTTP() async throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config)
        let r = try await http("POST", server.baseURL + "/c-adapter", body: Data("cpu 1.5\nmemory_bytes 2048\n".utf8))
        #expect(r.status == 200)
        #expect(r.body == "accepted 2")
        #expect(try await eventually { try debugRecords(ws).count == 2 })
        let points = try debugRecords(ws).compactMap(\.point)
        #expect(points.map(\.name) == ["cpu", "memory_bytes"])  // so the allSatisfy below is over two points
        #expect(points.map(\.value) == [1.5, 2048])
        #expect(points.allSatisfy { $0.kind == .gauge && $0.labels == [Label("source", "c")] && $0.timeUnixNano > 1_700_000_000_000_000_000 })
        let bad = try await http("POST", server.baseURL + "/c-adapter", body: Data("no-value-here\n".utf8))
        #expect(bad.status == 400)
        #expect(server.stop() == 0)
        #expect(server.logText.contains("C adapter ready"))
    }

    /// One request slot, and a client that announces a body and stops sending: the idle timeout
    /// closes its connection and frees the slot, so the next sender is served.
    @Test func aStalledUploadIsClosedAndGivesItsRequestSlotBack() async throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        let config = Self.config.replacingOccurrences(
            of: "  max_body_bytes: 67108864\n", with: "  max_body_bytes: 67108864\n  worker_threads: 1\n  idle_timeout: 8s\n")
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        let stalled = try RawConnection(port: server.port)
        stalled.send("POST /c-adapter HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\nx 1\n")
        let metrics = server.baseURL + "/metrics"
        #expect(await eventually { (try? syncGet(metrics))?.contains("firefly_http_requests_in_flight 1") == true })
        let next = Task { try await http("POST", server.baseURL + "/c-adapter", body: Data("y 2\n".utf8)) }
        // The next request waits for the slot the stalled one holds, until the idle timeout frees it.
        #expect(await eventually { (try? syncGet(metrics))?.contains("firefly_http_requests_waiting 1") == true })
        let answer = try await next.value
        #expect(answer.status == 200)
        #expect(answer.body == "accepted 1")
        #expect(try await offThePool { stalled.closedByPeer(within: 10) })
        #expect(try await eventually { try debugRecords(ws).compactMap(\.point).map(\.name) == ["y"] })
    }

    /// A client that sends its body a byte at a time, never idle long enough for the idle timeout:
    /// the body timeout answers 408 and frees the one slot for the next sender.
    @Test func aTricklingUploadGets408AndGivesItsRequestSlotBack() async throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        let config = Self.config.replacingOccurrences(
            of: "  max_body_bytes: 67108864\n",
            with: "  max_body_bytes: 67108864\n  worker_threads: 1\n  idle_timeout: 5s\n  body_timeout: 1s\n")
        let server = try FireflyServer(workspace: ws, config: config)
        defer { server.stop() }
        let trickle = try RawConnection(port: server.port)
        trickle.send("POST /c-adapter HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
        let reply: String = try await offThePool {
            for _ in 0..<40 {  // 40 × 200 ms: well past the body timeout, each gap far below the idle timeout
                trickle.send("x")
                usleep(200_000)
                let text = trickle.received()
                if !text.isEmpty { return text }
            }
            return ""
        }
        #expect(reply.hasPrefix("HTTP/1.1 408"), "\(reply)")
        #expect(reply.contains("server.body_timeout"))
        let next = try await http("POST", server.baseURL + "/c-adapter", body: Data("y 2\n".utf8))
        #expect(next.status == 200)
        #expect(next.body == "accepted 1")
    }

    @Test func healthReadinessAndSelfMetricsMoveWithTraffic() async throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config)
        defer { server.stop() }
        #expect(try await http("GET", server.baseURL + "/healthz").status == 200)
        #expect(try await http("GET", server.baseURL + "/readyz").status == 200)
        let before = try await http("GET", server.baseURL + "/metrics").body
        #expect(!before.contains(#"firefly_http_requests_total{receiver="c-adapter",status="200"}"#))
        for _ in 0..<3 { _ = try await http("POST", server.baseURL + "/c-adapter", body: Data("x 1\n".utf8)) }
        #expect(try await eventually { try syncGet(server.baseURL + "/metrics").contains(#"firefly_exported_points_total{exporter="debug"} 3"#) })
        let after = try await http("GET", server.baseURL + "/metrics").body
        #expect(after.contains(#"firefly_http_requests_total{receiver="c-adapter",status="200"} 3"#))
        #expect(after.contains(#"firefly_points_accepted_total{receiver="c-adapter"} 3"#))
        #expect(after.contains(#"firefly_plugin_c_adapter_requests_total{instance="c-adapter",result="ok"} 3"#))
        #expect(after.contains("# TYPE firefly_export_duration_seconds histogram"))
        // Every metric has HELP text of its own (not its name repeated) and a TYPE.
        let lines = after.split(separator: "\n")
        let helps = lines.filter { $0.hasPrefix("# HELP ") }
        #expect(helps.count >= 10)
        for help in helps {
            let words = help.split(separator: " ", maxSplits: 3)
            #expect(words.count == 4 && words[3] != words[2], "no HELP text: \(help)")
            #expect(lines.contains { $0.hasPrefix("# TYPE \(words[2]) ") }, "no TYPE for \(words[2])")
        }
        #expect(try await http("GET", server.baseURL + "/nowhere").status == 404)
        #expect(try await http("GET", server.baseURL + "/c-adapter").status == 405)
    }

    @Test func oversizedBombsAndBrokenGzipAreRefusedAndTheProcessStaysSmall() async throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config)
        defer { server.stop() }
        // 70 MiB plain body: over the 64 MiB limit.
        let big = Data(count: 70 * 1024 * 1024)
        let r1 = try await http("POST", server.baseURL + "/c-adapter", body: big)
        #expect(r1.status == 413)
        #expect(r1.body.contains("exceeds 67108864 bytes"))
        // A gzip bomb: 1024 concatenated members of 1 MiB of zeros each inflate to 1 GiB.
        let member = try gzip(Data(count: 1 << 20))
        var bomb = Data()
        for _ in 0..<1024 { bomb.append(member) }
        #expect(bomb.count < 1_100_000)
        let r2 = try await http("POST", server.baseURL + "/c-adapter", body: bomb, headers: ["Content-Encoding": "gzip"])
        #expect(r2.status == 413)
        // Invalid gzip.
        let r3 = try await http("POST", server.baseURL + "/c-adapter", body: Data("definitely not gzip".utf8), headers: ["Content-Encoding": "gzip"])
        #expect(r3.status == 400)
        #expect(r3.body.contains("invalid gzip data"))
        // Unknown encoding.
        let r4 = try await http("POST", server.baseURL + "/c-adapter", body: Data("x 1".utf8), headers: ["Content-Encoding": "br"])
        #expect(r4.status == 415)
        // Still serving, and memory stayed bounded (the bomb never inflated past the limit).
        let ok = try await http("POST", server.baseURL + "/c-adapter", body: Data("after 1\n".utf8))
        #expect(ok.status == 200)
        #expect(server.isRunning)
        #expect(server.rssKiB < 400 * 1024, "RSS \(server.rssKiB) KiB")
    }

    @Test func checkReportsThreeDifferentMistakesWithPositions() throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        _ = try ws.write("bad.yaml", """
            server:
              listen: 127.0.0.1:0
              max_body_bites: 1024
            plugins:
              paths: [plugins]
            receivers:
              c-adapter:
            exporters:
              debug:
                plugin: debgu
            pipelines:
              metrics: {receivers: [c-adapter], exporters: [debug, postgres]}
            """)
        let r = try runFirefly(["check", "--config", "bad.yaml"], in: ws.path)
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("bad.yaml:3:3: error: server.max_body_bites: unknown key 'max_body_bites' (did you mean 'max_body_bytes'?)"))
        #expect(lines.contains("bad.yaml:10:13: error: exporters.debug.plugin: unknown plugin 'debgu' (did you mean 'debug'?); available exporters: debug"))
        #expect(lines.contains("bad.yaml:12:56: error: pipelines.metrics.exporters[1]: exporter 'postgres' is not defined under exporters:"))
        #expect(lines.last == "3 problems found")
    }

    @Test func checkReportsPluginValidationTogetherWithConfigProblems() throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        _ = try ws.write("bad.yaml", """
            plugins:
              paths: [plugins]
            receivers:
              c-adapter:
            exporters:
              debug:
                colour: blue
              nope:
                plugin: debgu
            pipelines:
              metrics: {receivers: [c-adapter], exporters: [debug, nope, postgres]}
            """)
        let r = try runFirefly(["check", "--config", "bad.yaml"], in: ws.path)
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").map(String.init) == [
            "bad.yaml:7:5: error: exporters.debug.colour: unknown key 'colour'",
            "bad.yaml:9:13: error: exporters.nope.plugin: unknown plugin 'debgu' (did you mean 'debug'?); available exporters: debug",
            "bad.yaml:11:62: error: pipelines.metrics.exporters[2]: exporter 'postgres' is not defined under exporters:",
            "3 problems found",
        ])
        let ok = try runFirefly(["check", "--config", "firefly.yaml"], in: ws.path)
        #expect(ok.status == 1)  // no firefly.yaml in the workspace
        #expect(ok.stderr.contains("cannot read 'firefly.yaml'"))
    }

    @Test func checkRefusesAPipelineOfASignalOneOfItsPluginsDoesNotHandle() throws {
        // The C adapter was built for ABI 1.0, before logs: it handles metrics and traces.
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin", "FireflyRemoteWritePlugin"])
        func config(_ pipelines: String) -> String {
            """
            plugins:
              paths: [plugins]
            receivers:
              c-adapter:
            exporters:
              debug:
              remote-write:
                url: http://127.0.0.1:9/api/v1/write
            pipelines:
            \(pipelines)
            """
        }
        _ = try ws.write("signals.yaml", config("""
              metrics: {receivers: [c-adapter], exporters: [debug, remote-write]}
              traces: {receivers: [c-adapter], exporters: [debug, remote-write]}
              logs: {receivers: [c-adapter], exporters: [debug]}
            """))
        let r = try runFirefly(["check", "--config", "signals.yaml"], in: ws.path)
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix("error: pipelines.traces.exporters: 'remote-write' (plugin remote-write) does not accept traces; it handles metrics") })
        #expect(lines.contains { $0.hasSuffix("error: pipelines.logs.receivers: 'c-adapter' (plugin c-adapter) does not emit logs; it handles metrics, traces") })
        #expect(lines.last == "2 problems found")
        // Without the two, the same plugins check out.
        _ = try ws.write("signals.yaml", config("""
              metrics: {receivers: [c-adapter], exporters: [debug, remote-write]}
              traces: {receivers: [c-adapter], exporters: [debug]}
            """))
        let ok = try runFirefly(["check", "--config", "signals.yaml"], in: ws.path)
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func pluginsCommandListsNameKindVersionABISignalsAndFile() throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin", "FireflyTestFutureABI"])
        _ = try ws.write("firefly.yaml", Self.config)
        let r = try runFirefly(["plugins"], in: ws.path)
        let lines = r.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first == ["NAME", "KIND", "VERSION", "ABI", "SIGNALS", "FILE"])
        // A plugin built before ABI 1.2 handles metrics and traces.
        #expect(lines.dropFirst().map { Array($0.prefix(5)) } == [
            ["c-adapter", "adapter", "1.0.0", "1.0", "metrics,traces"], ["debug", "exporter", "0.1.0", "1.2", "metrics,traces,logs"],
        ])
        #expect(r.stderr.contains("libFireflyTestFutureABI.so: built for plugin ABI 2.0, but this collector speaks ABI 1.2"))
        #expect(r.status == 1)
    }
}

func gzip(_ data: Data) throws -> Data {
    try run("/bin/gzip", ["-c", "-9"], input: data).output
}

func syncGet(_ url: String) throws -> String {
    let data = try Data(contentsOf: URL(string: url)!)
    return String(decoding: data, as: UTF8.self)
}

@Suite struct TLSEndToEndTests {
    @Test func servesHTTPSWhenCertificateAndKeyAreConfigured() throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin"])
        let gen = Process()
        gen.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        gen.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                         "-keyout", ws.path + "/key.pem", "-out", ws.path + "/cert.pem"]
        gen.standardError = FileHandle.nullDevice
        try gen.run()
        gen.waitUntilExit()
        #expect(gen.terminationStatus == 0)
        let server = try FireflyServer(workspace: ws, config: CoreEndToEndTests.config.replacingOccurrences(
            of: "  max_body_bytes: 67108864", with: "  max_body_bytes: 67108864\n  tls: {cert_file: cert.pem, key_file: key.pem}"))
        defer { server.stop() }
        let body = try run("/usr/bin/curl", ["-s", "--cacert", ws.path + "/cert.pem", "-X", "POST", "--data-binary", "tls 1",
                                             "https://127.0.0.1:\(server.port)/c-adapter"]).stdout
        #expect(body == "accepted 1")
    }
}

extension CoreEndToEndTests {
    /// Files in a plugin directory that the configuration does not use — a plugin built for another
    /// ABI, a file that is no plugin at all — are skipped with a warning; the collector serves.
    /// A used plugin that is missing still refuses, naming the files that failed to load.
    @Test func unusedBrokenPluginFilesAreSkippedWithAWarning() async throws {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter", "FireflyDebugPlugin", "FireflyTestFutureABI"])
        _ = try ws.write("plugins/libnotaplugin.so", "not an ELF file")
        let server = try FireflyServer(workspace: ws, config: Self.config)
        defer { server.stop() }
        let r = try await http("POST", server.baseURL + "/c-adapter", body: Data("cpu 1\n".utf8))
        #expect(r.status == 200)
        #expect(server.logText.contains("skipping \(ws.path)/plugins/libFireflyTestFutureABI.so: built for plugin ABI 2.0"), "\(server.logText)")
        #expect(server.logText.contains("skipping \(ws.path)/plugins/libnotaplugin.so: "))

        let missing = Self.config.replacingOccurrences(of: "  c-adapter:\n", with: "  c-adapter:\n  webhook:\n")
            .replacingOccurrences(of: "receivers: [c-adapter]", with: "receivers: [c-adapter, webhook]")
        let check = try runFirefly(["check", "--config", try ws.write("missing.yaml", missing)], in: ws.path)
        #expect(check.status != 0)
        #expect(check.stderr.contains("libnotaplugin.so"), "\(check.stderr)")
        #expect(check.stderr.contains("unknown plugin 'webhook'"), "\(check.stderr)")
    }
}
