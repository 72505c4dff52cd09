// Configuration: defaults, every key, and every problem reported at once.
import FireflyModel
import FireflyPluginKit
import OTLPExporter
import Testing

@Suite struct SettingsTests {
    func settings(_ values: [String: JSONValue]) throws -> OTLPExporterSettings {
        try OTLPExporterSettings(PluginConfig(values))
    }

    func problems(_ values: [String: JSONValue]) -> [String] {
        do {
            _ = try settings(values)
            return []
        } catch let error as PluginConfigError {
            return error.problems
        } catch {
            return ["\(error)"]
        }
    }

    @Test func defaultsAreHTTPProtobufWithGzipToPort4318() throws {
        let s = try settings(["endpoint": .string("http://gateway")])
        #expect(s.transport == .httpProtobuf)
        #expect(s.gzip)
        #expect(s.timeout == .seconds(10))
        #expect(s.endpoints.map(\.description) == ["http://gateway:4318"])
        #expect(s.endpoints[0].url(.traces) == "http://gateway:4318/v1/traces")
    }

    @Test func grpcDefaultsToPort4317AndAcceptsSeveralEndpoints() throws {
        let s = try settings([
            "protocol": .string("grpc"), "endpoints": .array([.string("http://a"), .string("https://b:9000")]),
            "compression": .string("none"), "timeout": .string("2s"),
        ])
        #expect(s.transport == .grpc)
        #expect(!s.gzip)
        #expect(s.timeout == .seconds(2))
        #expect(s.endpoints.map(\.description) == ["http://a:4317", "https://b:9000"])
        #expect(s.endpoints.map(\.isTLS) == [false, true])
    }

    @Test func aPathPrefixIsKeptAndTheSignalPathAdded() throws {
        let s = try settings(["endpoint": .string("https://otlp.example.com/otlp/")])
        #expect(s.endpoints[0].url(.logs) == "https://otlp.example.com:4318/otlp/v1/logs")
    }

    @Test func everyProblemIsReportedAtOnce() {
        let found = problems([
            "endpoints": .array([
                .string("ftp://x"), .string("http://user:pw@h"), .string("http://h/v1/traces"), .string("http://ok"),
                .string("http://ok"),
            ]),
            "protocol": .string("thrift"), "compression": .string("zstd"), "timeout": .string("soon"),
            "headers": .object([
                "Content-Type": .string("text/plain"), "bad name": .string("x"), "X-Ok": .string("a\nb"),
            ]),
            "tls": .object(["ca_file": .string("/nonexistent/ca.pem")]), "endpiont": .string("x"),
        ])
        #expect(found.contains("protocol: must be one of http/protobuf, grpc, not 'thrift'"))
        #expect(found.contains("endpoints[0]: must be an http:// or https:// URL with a host, not 'ftp://x'"))
        #expect(found.contains { $0.hasPrefix("endpoints[1]: must not contain credentials") })
        #expect(found.contains { $0.hasPrefix("endpoints[2]: is the receiver's base URL: leave out '/v1/traces'") })
        #expect(found.contains("endpoints[4]: 'http://ok:4318' is listed twice"))
        #expect(found.contains("compression: must be one of gzip, none, not 'zstd'"))
        #expect(found.contains("timeout: expected a duration such as 500ms, 30s, 5m, 12h or 30d"))
        #expect(found.contains("headers.Content-Type: is set by the exporter itself and cannot be overridden"))
        #expect(found.contains { $0.hasPrefix("headers.bad name: is not a valid header name") })
        #expect(found.contains("headers.X-Ok: must not contain line breaks or NUL"))
        #expect(found.contains("tls.ca_file: cannot read '/nonexistent/ca.pem'"))
        #expect(found.contains("tls: is set but no endpoint is https://"))
        #expect(found.contains("endpiont: unknown key 'endpiont' (did you mean 'endpoint'?)"))
    }

    @Test func anEndpointIsRequiredAndAGRPCEndpointHasNoPath() {
        #expect(problems([:]) == ["endpoint: is required (for a Firefly gateway: http://gateway:4318)"])
        #expect(
            problems(["protocol": .string("grpc"), "endpoint": .string("http://h/x")]) == [
                "endpoint: a gRPC endpoint has no path, not '/x'"
            ])
        #expect(
            problems(["endpoint": .string("http://a"), "endpoints": .array([.string("http://b")])])
                == ["endpoints: cannot be combined with endpoint (write every receiver under endpoints)"])
    }
}
