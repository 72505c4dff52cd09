// Decode throughput of the protobuf trace decoder, for `make bench` (no timed unit tests).

/// Measures how many spans per second one core decodes from binary OTLP.
///
/// The payload resembles what the ADOT Lambda layer sends: one resource with six attributes, and
/// spans carrying ids, a parent, timestamps, a status and eight attributes of mixed types.
public enum OTLPDecodeBenchmark {
    /// Decodes a request of `spansPerRequest` spans `iterations` times (after one warm-up round)
    /// and returns spans decoded per second.
    public static func run(spansPerRequest: Int = 1000, iterations: Int = 200) -> Double {
        let body = payload(spans: spansPerRequest)
        var decoded = 0
        // Warm-up: caches, allocator.
        decoded &+= (try? TraceProtoDecoder.decode(body).batch.spans.count) ?? 0
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<iterations {
            decoded &+= (try? TraceProtoDecoder.decode(body).batch.spans.count) ?? 0
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        precondition(decoded == spansPerRequest * (iterations + 1), "benchmark payload did not decode")
        return Double(spansPerRequest * iterations) / seconds
    }

    /// A binary ExportTraceServiceRequest of `spans` spans (also useful to load-test a running collector).
    public static func payload(spans: Int) -> [UInt8] {
        var w = ProtoWriter()
        w.message(1) { rs in
            rs.message(1) { resource in
                for (k, v) in [
                    ("service.name", "checkout-api"), ("faas.name", "checkout-fn"), ("cloud.region", "eu-west-1"),
                    ("cloud.provider", "aws"), ("telemetry.sdk.name", "opentelemetry"), ("telemetry.sdk.version", "1.45.2"),
                ] {
                    resource.message(1) { kv in
                        kv.stringField(1, k)
                        kv.message(2) { $0.stringField(1, v) }
                    }
                }
            }
            rs.message(2) { ss in
                ss.message(1) { scope in
                    scope.stringField(1, "opentelemetry.instrumentation.aws_lambda")
                    scope.stringField(2, "0.66b2")
                }
                for i in 0..<spans {
                    ss.message(2) { span in
                        let n = UInt64(i)
                        span.bytesField(1, bigEndian(0x5B8E_FFF7_9803_8103) + bigEndian(0xD269_B633_813F_C60C &+ n / 8))
                        span.bytesField(2, bigEndian(0xEEE1_9B7E_C3C1_B174 &+ n))
                        span.bytesField(4, bigEndian(0xEEE1_9B7E_C3C1_B174 &+ n &- 1))
                        span.stringField(5, "GET /cart/{id}")
                        span.varintField(6, 2)
                        span.fixed64Field(7, 1_700_000_000_000_000_000 + n * 1000)
                        span.fixed64Field(8, 1_700_000_000_250_000_000 + n * 1000)
                        attribute(&span, 9, "http.request.method") { $0.stringField(1, "GET") }
                        attribute(&span, 9, "http.route") { $0.stringField(1, "/cart/{id}") }
                        attribute(&span, 9, "http.response.status_code") { $0.varintField(3, 200) }
                        attribute(&span, 9, "faas.coldstart") { $0.varintField(2, i == 0 ? 1 : 0) }
                        attribute(&span, 9, "faas.trigger") { $0.stringField(1, "http") }
                        attribute(&span, 9, "server.port") { $0.varintField(3, 443) }
                        attribute(&span, 9, "user_agent.original") { $0.stringField(1, "Mozilla/5.0 (X11; Linux x86_64)") }
                        attribute(&span, 9, "sampling.ratio") { $0.doubleField(4, 0.25) }
                        span.message(15) { $0.varintField(3, 1) }
                        span.tag(16, .fixed32)
                        span.bytes += [0x01, 0x00, 0x00, 0x00]
                    }
                }
            }
        }
        return w.bytes
    }

    private static func attribute(
        _ w: inout ProtoWriter, _ field: UInt32, _ key: String, _ value: (inout ProtoWriter) -> Void
    ) {
        w.message(field) { kv in
            kv.stringField(1, key)
            kv.message(2, value)
        }
    }

    private static func bigEndian(_ v: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) }
    }
}
