// OTLP/gRPC: a real grpc-swift 2 client (HTTP/2 over loopback) against the receiver's own listener.
import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import OTLPAdapter
import Testing

/// Request bytes as they are (the fixtures are already serialized protobuf).
struct RawSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

/// Response bytes as they are, to compare with hand-written protobuf.
struct RawDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// An adapter whose gRPC listener runs on a kernel-chosen loopback port for the test's duration.
final class RunningAdapter {
    let adapter: OTLPAdapter
    let port: Int

    init(_ config: [String: JSONValue] = [:], sink: any TelemetrySink) throws {
        var all = config
        if all["grpc"] == nil { all["grpc"] = .object(["listen": .string("127.0.0.1:0")]) }
        adapter = try makeAdapter(all)
        try adapter.start(sink: sink)
        port = try #require(adapter.grpcPort)
    }

    /// Stops the adapter on a thread of its own and returns at once. `OTLPAdapter.stop()` blocks
    /// until the gRPC server's tasks end, and those run on Swift concurrency's shared threads: a test
    /// blocking one of them while another test blocks the other (a subprocess, a database call)
    /// would wait forever.
    func stop() {
        let adapter = self.adapter
        Thread.detachNewThread { adapter.stop() }
    }

    /// Stops the adapter on a thread of its own and waits until it has stopped.
    func stopped() async {
        let adapter = self.adapter
        await Timing.onItsOwnThread { adapter.stop() }
    }

    /// One unary Export call; returns the response bytes or throws the RPCError.
    func call(
        _ method: MethodDescriptor, _ body: [UInt8], metadata: Metadata = [:], gzip: Bool = false
    ) async throws -> [UInt8] {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext,
            config: .defaults { $0.compression.enabledAlgorithms = .all })
        return try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            // Generous: these tests check what arrives, not how fast, and at the start of `make test`
            // dozens of collectors, databases and clients share two cores with this in-process server.
            options.timeout = .seconds(60)
            options.waitForReady = false  // fail fast (UNAVAILABLE) when nothing listens
            if gzip { options.compression = .gzip }
            return try await client.unary(
                request: ClientRequest(message: body, metadata: metadata), descriptor: method,
                serializer: RawSerializer(), deserializer: RawDeserializer(), options: options
            ) { try $0.message }
        }
    }

    /// The RPCError a call fails with (nil when it succeeds).
    func failure(_ method: MethodDescriptor, _ body: [UInt8], metadata: Metadata = [:]) async -> RPCError? {
        do {
            _ = try await call(method, body, metadata: metadata)
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            Issue.record("not an RPCError: \(error)")
            return nil
        }
    }
}

func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = text.startIndex
    while i < text.endIndex {
        let j = text.index(i, offsetBy: 2)
        out.append(UInt8(text[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// The batch the OTLP/HTTP path produces for the same protobuf bytes.
func httpBatch(_ path: String, _ body: [UInt8]) throws -> TelemetryBatch {
    let sink = RecordingSink()
    let response = try makeAdapter().handle(post(path, body), sink: sink)
    #expect(response.status == 200)
    return sink.batches.first ?? TelemetryBatch()
}

@Suite(.serialized) struct GRPCTests {
    @Test func tracesArriveExactlyAsOverHTTP() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let body = try fixture.bytes("traces.pb")
        let response = try await server.call(OTLPGRPCMethods.traces, body)
        #expect(response.isEmpty)  // ExportTraceServiceResponse without partial_success
        #expect(sink.batches.count == 1)
        let batch = try #require(sink.batches.first)
        expectSpansEqual(batch.spans, try fixture.expected("traces").spans)
        #expect(batch == (try httpBatch("/v1/traces", body)))
        #expect(batch.spans.map(\.name) == ["GET /cart", "SELECT cart", "compute", "consume"])
    }

    @Test func metricsArriveExactlyAsOverHTTP() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let body = try fixture.bytes("metrics.pb")
        let response = try await server.call(OTLPGRPCMethods.metrics, body)
        #expect(response.isEmpty)
        let batch = try #require(sink.batches.first)
        expectPointsEqual(batch.points, try fixture.expected("metrics").points)
        #expect(batch == (try httpBatch("/v1/metrics", body)))
        #expect(batch.points.map(\.kind) == [.gauge, .gauge, .cumulativeSum, .deltaSum, .histogram, .histogram, .summary])
    }

    @Test func gzipCompressedRequestsAreDecompressed() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let body = try fixture.bytes("traces.pb")
        _ = try await server.call(OTLPGRPCMethods.traces, body, gzip: true)
        _ = try await server.call(OTLPGRPCMethods.metrics, try fixture.bytes("metrics.pb"), gzip: true)
        #expect(sink.batches.count == 2)
        expectSpansEqual(sink.batches.first?.spans ?? [], try fixture.expected("traces").spans)
        expectPointsEqual(sink.batches.last?.points ?? [], try fixture.expected("metrics").points)
    }

    @Test func droppedSpansAreReportedAsPartialSuccess() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let response = try await server.call(OTLPGRPCMethods.traces, try fixture.bytes("traces_partial.pb"))
        let message = "2 rejected; first problem: span 'bad-trace' has an invalid trace_id"
        // ExportTraceServiceResponse{partial_success (1) {rejected_spans (1): 2, error_message (2)}}
        let inner: [UInt8] = [0x08, 0x02, 0x12, UInt8(message.utf8.count)] + Array(message.utf8)
        #expect(response == [0x0A, UInt8(inner.count)] + inner)
        expectSpansEqual(sink.batches.first?.spans ?? [], try fixture.expected("traces_partial").spans)
    }

    @Test func anEmptyRequestIsAcknowledgedWithoutEmitting() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        #expect(try await server.call(OTLPGRPCMethods.metrics, []) == [])
        #expect(sink.batches.isEmpty)
    }

    @Test func malformedProtobufIsInvalidArgument() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let wireType = try #require(await server.failure(OTLPGRPCMethods.traces, [0x0B]))
        #expect(wireType.code == .invalidArgument)
        #expect(wireType.message == "cannot decode ExportTraceServiceRequest (protobuf): invalid wire type 3 for field 1 at byte 1")
        let truncated = try #require(await server.failure(OTLPGRPCMethods.metrics, [0x0A, 0x05, 0x01]))
        #expect(truncated.code == .invalidArgument)
        #expect(
            truncated.message
                == "cannot decode ExportMetricsServiceRequest (protobuf): length 5 at byte 2 runs past the end of its message (1 bytes left)")
        #expect(sink.batches.isEmpty)
    }

    @Test func theBearerTokenIsRequiredInTheMetadata() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(
            ["bearer_token": .string("s3cret"), "grpc": .object(["listen": .string("127.0.0.1:0")])], sink: sink)
        defer { server.stop() }
        let body = try fixture.bytes("traces.pb")
        let missing = try #require(await server.failure(OTLPGRPCMethods.traces, body))
        #expect(missing.code == .unauthenticated)
        #expect(missing.message == "missing or invalid bearer token (send metadata 'authorization: Bearer <token>')")
        let wrong = try #require(await server.failure(OTLPGRPCMethods.traces, body, metadata: ["authorization": "Bearer s3cre"]))
        #expect(wrong.code == .unauthenticated)
        // Unauthenticated garbage is refused before it is decoded.
        let garbage = try #require(await server.failure(OTLPGRPCMethods.traces, [0x0B]))
        #expect(garbage.code == .unauthenticated)
        #expect(sink.batches.isEmpty)
        _ = try await server.call(OTLPGRPCMethods.traces, body, metadata: ["authorization": "Bearer s3cret"])
        #expect(sink.batches.count == 1)
    }

    @Test func aBusyQueueIsUnavailableWithRetryInfo() async throws {
        let sink = RecordingSink(answer: .busy(retryAfterMilliseconds: 1500))
        let server = try RunningAdapter(sink: sink)
        defer { server.stop() }
        let error = try #require(await server.failure(OTLPGRPCMethods.traces, try fixture.bytes("traces.pb")))
        #expect(error.code == .unavailable)
        #expect(error.message == "the collector's queue is full; retry later")
        // Both byte strings were produced by the official Python classes (google.rpc.error_details_pb2,
        // google.rpc.status_pb2; `d.Pack(retry_info)` for the Any), not by Firefly's writer:
        // RetryInfo{retry_delay: Duration{seconds: 1, nanos: 500000000}}
        #expect(Array(error.metadata[binaryValues: "google.rpc.retryinfo-bin"]) == [hex("0a0808011080cab5ee01")])
        // Status{code: 14, message, details: [Any(RetryInfo)]}
        #expect(
            Array(error.metadata[binaryValues: "grpc-status-details-bin"]) == [
                hex(
                    "080e122a74686520636f6c6c6563746f7227732071756575652069732066756c6c3b207265747279206c617465721a360a28"
                        + "747970652e676f6f676c65617069732e636f6d2f676f6f676c652e7270632e5265747279496e666f120a0a0808011080cab5ee01")
            ])
        #expect(sink.batches.count == 1)  // it was offered, and refused
    }

    @Test func aClosingCollectorIsUnavailableWithTheConfiguredDelay() async throws {
        let sink = RecordingSink(answer: .closed(retryAfterMilliseconds: 0))
        let server = try RunningAdapter(
            ["retry_after_seconds": .number(7), "grpc": .object(["listen": .string("127.0.0.1:0")])], sink: sink)
        defer { server.stop() }
        let error = try #require(await server.failure(OTLPGRPCMethods.metrics, try fixture.bytes("metrics.pb")))
        #expect(error.code == .unavailable)
        #expect(error.message == "the collector is shutting down; retry later")
        #expect(Array(error.metadata[binaryValues: "google.rpc.retryinfo-bin"]) == [hex("0a020807")])  // Python RetryInfo, 7 s
    }

    @Test func anInvalidBatchIsInternal() async throws {
        let server = try RunningAdapter(sink: RecordingSink(answer: .invalid))
        defer { server.stop() }
        let error = try #require(await server.failure(OTLPGRPCMethods.traces, try fixture.bytes("traces.pb")))
        #expect(error.code == .internalError)
        #expect(error.message == "the collector rejected the decoded batch")
    }

    @Test func otherMethodsAreUnimplemented() async throws {
        let server = try RunningAdapter(sink: RecordingSink())
        defer { server.stop() }
        let profiles = MethodDescriptor(
            fullyQualifiedService: "opentelemetry.proto.collector.profiles.v1development.ProfilesService", method: "Export")
        let error = try #require(await server.failure(profiles, []))
        #expect(error.code == .unimplemented)
    }

    @Test func messagesOverTheLimitAreResourceExhausted() async throws {
        let sink = RecordingSink()
        let body = try fixture.bytes("traces.pb")
        #expect(body.count == 1147)
        let server = try RunningAdapter(
            ["grpc": .object(["listen": .string("127.0.0.1:0"), "max_message_bytes": .number(1024)])], sink: sink)
        defer { server.stop() }
        let error = try #require(await server.failure(OTLPGRPCMethods.traces, body))
        #expect(error.code == .resourceExhausted)
        #expect(error.message == "message of 1147 bytes exceeds grpc.max_message_bytes (1024)")
        // The limit applies after decompression: gzip makes the wire message smaller, not acceptable.
        do {
            _ = try await server.call(OTLPGRPCMethods.traces, body, gzip: true)
            Issue.record("a compressed message over the limit was accepted")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.message == "message of 1147 bytes exceeds grpc.max_message_bytes (1024)")
        }
        // Beyond twice the limit the transport itself resets the stream (clients see UNAVAILABLE).
        let huge = try #require(await server.failure(OTLPGRPCMethods.traces, body + body))
        #expect(huge.code == .unavailable)
        #expect(sink.batches.isEmpty)
        // Under the limit is fine.
        _ = try await server.call(OTLPGRPCMethods.metrics, try fixture.bytes("metrics.pb"))
        #expect(sink.batches.count == 1)
    }

    @Test func aTakenPortMakesStartFail() throws {
        let first = try RunningAdapter(sink: RecordingSink())
        defer { first.stop() }
        let second = try makeAdapter(["grpc": .object(["listen": .string("127.0.0.1:\(first.port)")])])
        #expect {
            try second.start(sink: RecordingSink())
        } throws: { error in
            "\(error)" == "cannot listen for OTLP/gRPC on 127.0.0.1:\(first.port) (bind: Address already in use); "
                + "another process uses the port: set grpc.listen to a free port, or grpc.enabled: false"
        }
        #expect(second.grpcPort == nil)
    }

    @Test func afterStopNothingIsServedOrEmitted() async throws {
        let sink = RecordingSink()
        let server = try RunningAdapter(sink: sink)
        _ = try await server.call(OTLPGRPCMethods.traces, try fixture.bytes("traces.pb"))
        await server.stopped()
        #expect(server.adapter.grpcPort == nil)
        let error = await server.failure(OTLPGRPCMethods.traces, try fixture.bytes("traces.pb"))
        #expect(error?.code == .unavailable)
        #expect(sink.batches.count == 1)
        // The port is free again: a restart binds it.
        let again = try makeAdapter(["grpc": .object(["listen": .string("127.0.0.1:\(server.port)")])])
        try again.start(sink: sink)
        #expect(again.grpcPort == server.port)
        await Timing.onItsOwnThread { again.stop() }
    }

    @Test func grpcCanBeDisabled() throws {
        let adapter = try makeAdapter(["grpc": .object(["enabled": .bool(false)])])
        try adapter.start(sink: RecordingSink())
        #expect(adapter.grpcPort == nil)
        adapter.stop()
    }
}

@Suite struct GRPCConfigTests {
    @Test func defaultsListenOnPort4317WithA4MiBLimit() throws {
        let grpc = try makeAdapter().config.grpc
        #expect(grpc.enabled)
        #expect(grpc.host == "0.0.0.0")
        #expect(grpc.port == 4317)
        #expect(grpc.maxMessageBytes == 4_194_304)
        #expect(grpc.listen == "0.0.0.0:4317")
    }

    @Test(arguments: [
        ("127.0.0.1:14317", "127.0.0.1", 14317),
        (":4317", "0.0.0.0", 4317),
        ("localhost:0", "127.0.0.1", 0),
        ("[::]:4317", "::", 4317),
        ("[::1]:5317", "::1", 5317),
    ])
    func listenAddressesAreParsed(text: String, host: String, port: Int) throws {
        let grpc = try makeAdapter(["grpc": .object(["listen": .string(text)])]).config.grpc
        #expect(grpc.host == host)
        #expect(grpc.port == port)
    }

    @Test func everyGRPCProblemIsReportedWithItsPath() {
        #expect(throws: PluginConfigError(problems: [
            "grpc.enabled: expected true or false",
            "grpc.listen: expected an IP address and port, e.g. 0.0.0.0:4317 or [::]:4317, not 'collector.local:4317'",
            "grpc.max_message_bytes: must be between 1024 and 1073741824, not 10",
            "grpc.max_mesage_bytes: unknown key 'max_mesage_bytes' (did you mean 'max_message_bytes'?)",
        ])) {
            try makeAdapter([
                "grpc": .object([
                    "enabled": .string("yes"), "listen": .string("collector.local:4317"),
                    "max_message_bytes": .number(10), "max_mesage_bytes": .number(5),
                ])
            ])
        }
    }

    @Test(arguments: ["4317", "0.0.0.0:70000", "[::1:4317", "1.2.3:4317"])
    func badListenValuesAreRejected(text: String) {
        #expect(throws: PluginConfigError.self) {
            try makeAdapter(["grpc": .object(["listen": .string(text)])])
        }
    }
}
