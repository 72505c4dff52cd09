// Decode throughput of the protobuf trace and logs decoders, for `make bench` (no timed unit tests).
import FireflyWire
import OTLPAdapter

/// Measures how many spans per second one core decodes from binary OTLP.
///
/// The payload resembles what the ADOT Lambda layer sends: one resource with six attributes, and
/// spans carrying ids, a parent, timestamps, a status and eight attributes of mixed types.
public enum OTLPDecodeBenchmark {
    /// Decodes a request of `spansPerRequest` spans `iterations` times (after one warm-up round)
    /// and returns spans decoded per second: into the C batch the receiver emits, with a reused
    /// workspace as the receiver does.
    public static func run(spansPerRequest: Int = 1000, iterations: Int = 200) -> Double {
        let body = payload(spans: spansPerRequest)
        var decoded = 0
        let workspaces = TraceWorkspacePool()
        let rate = itemsPerSecond(items: spansPerRequest, iterations: iterations) {
            decoded &+= workspaces.withWorkspace { workspace in
                body.withUnsafeBytes { raw in (try? TraceProtoDecoder.decode(raw, in: workspace).spanCount) ?? 0 }
            }
        }
        precondition(decoded == spansPerRequest * (iterations + 1), "benchmark payload did not decode")
        return rate
    }

    /// Runs `decode` once to warm caches and the allocator, then `iterations` times on the clock;
    /// `items` decoded per run, per second.
    static func itemsPerSecond(items: Int, iterations: Int, _ decode: () -> Void) -> Double {
        decode()
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<iterations { decode() }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(items * iterations) / seconds
    }

    /// The resource the ADOT Lambda layer would send: six attributes.
    static func lambdaResource(_ resource: inout ProtobufWriter) {
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

    /// A binary ExportTraceServiceRequest of `spans` spans (also useful to load-test a running collector).
    public static func payload(spans: Int) -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { rs in
            rs.message(1) { lambdaResource(&$0) }
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

    /// Decodes a logs request of `recordsPerRequest` records `iterations` times (after one warm-up
    /// round) and returns log records decoded per second. Every 100th record is a Lambda
    /// `platform.report` (as the opentelemetry-lambda extension forwards it), so the figure
    /// includes recognising invocations.
    public static func runLogs(recordsPerRequest: Int = 1000, iterations: Int = 200) -> Double {
        let body = logsPayload(records: recordsPerRequest)
        var decoded = 0
        var invocations = 0
        let rate = itemsPerSecond(items: recordsPerRequest, iterations: iterations) {
            let batch = try? LogsProtoDecoder.decode(body).batch
            decoded &+= batch?.logs.count ?? 0
            invocations &+= batch?.invocations.count ?? 0
        }
        precondition(decoded == recordsPerRequest * (iterations + 1), "benchmark payload did not decode")
        precondition(invocations == (recordsPerRequest + 99) / 100 * (iterations + 1), "platform reports were not recognised")
        return rate
    }

    /// A binary ExportLogsServiceRequest of `records` log records: the resource of `payload(spans:)`,
    /// records with a string body, severity, trace context and four attributes; every 100th one a
    /// `platform.report`.
    public static func logsPayload(records: Int) -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { rl in
            rl.message(1) { lambdaResource(&$0) }
            rl.message(2) { sl in
                sl.message(1) { scope in
                    scope.stringField(1, "checkout.handler")
                }
                for i in 0..<records {
                    sl.message(2) { log in
                        let n = UInt64(i)
                        log.fixed64Field(1, 1_700_000_000_000_000_000 + n * 1000)
                        log.fixed64Field(11, 1_700_000_000_000_500_000 + n * 1000)
                        if i % 100 == 0 {
                            log.varintField(2, 9)
                            log.stringField(3, "INFO")
                            log.message(5) {
                                $0.stringField(
                                    1,
                                    #"{"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","metrics":{"durationMs":101.51,"billedDurationMs":102,"memorySizeMB":512,"maxMemoryUsedMB":89},"status":"success"}"#
                                )
                            }
                            attribute(&log, 6, "type") { $0.stringField(1, "platform.report") }
                        } else {
                            log.varintField(2, i % 7 == 0 ? 17 : 9)
                            log.stringField(3, i % 7 == 0 ? "ERROR" : "INFO")
                            log.message(5) { $0.stringField(1, "charged card ending 4242 for order \(i) in 38 ms") }
                            attribute(&log, 6, "code.function") { $0.stringField(1, "charge") }
                            attribute(&log, 6, "code.lineno") { $0.varintField(3, 118) }
                            attribute(&log, 6, "order.id") { $0.stringField(1, "ord-\(i)") }
                            attribute(&log, 6, "amount") { $0.doubleField(4, 38.5) }
                            log.tag(8, .fixed32)
                            log.bytes += [0x01, 0x00, 0x00, 0x00]
                            log.bytesField(9, bigEndian(0x5B8E_FFF7_9803_8103) + bigEndian(0xD269_B633_813F_C60C &+ n / 8))
                            log.bytesField(10, bigEndian(0xEEE1_9B7E_C3C1_B174 &+ n))
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    private static func attribute(
        _ w: inout ProtobufWriter, _ field: UInt32, _ key: String, _ value: (inout ProtobufWriter) -> Void
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
