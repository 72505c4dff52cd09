// CloudWatch metrics relayed over OTLP (`amazonaws.com/<namespace>/<metric>`) read as the Firehose receiver reads them.
import FireflyModel
import FireflyWire
import Testing

@testable import OTLPAdapter

@Suite struct CloudWatchNameTests {
    /// One summary point named `name` with a FunctionName attribute and quantiles 0 and 1, as a
    /// collector relaying a CloudWatch metric stream (or a Firefly edge) sends it.
    static func request(name: String) -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { rm in
            rm.message(2) { sm in
                sm.message(2) { m in
                    m.stringField(1, name)
                    m.stringField(3, "Milliseconds")
                    m.message(11) { summary in
                        summary.message(1) { p in
                            p.message(7) { kv in
                                kv.stringField(1, "FunctionName")
                                kv.message(2) { $0.stringField(1, "checkout") }
                            }
                            p.fixed64Field(3, 1_700_000_000_000_000_000)
                            p.fixed64Field(4, 3)
                            p.doubleField(5, 30)
                            for (q, v) in [(0.0, 5.0), (1.0, 15.0)] {
                                p.message(6) { qv in
                                    qv.doubleField(1, q)
                                    qv.doubleField(2, v)
                                }
                            }
                        }
                    }
                }
            }
        }
        return w.bytes
    }

    @Test func aCloudWatchNameGivesNamespaceFunctionAndDelta() throws {
        let outcome = try OTLPAdapter.decode(
            Self.request(name: "amazonaws.com/AWS/Lambda/Duration"), signal: .metrics, encoding: .protobuf)
        let p = try #require(outcome.batch.points.first)
        #expect(p.namespace == "AWS/Lambda")
        #expect(p.name == "Duration")
        #expect(p.function == "checkout")
        #expect(p.kind == .summary && p.isDelta && p.hasMinMax && p.min == 5 && p.max == 15)
    }

    @Test func otherNamesKeepNoNamespace() throws {
        let outcome = try OTLPAdapter.decode(Self.request(name: "rpc.latency"), signal: .metrics, encoding: .protobuf)
        let p = try #require(outcome.batch.points.first)
        #expect(p.namespace == "")
        #expect(p.name == "rpc.latency")
        #expect(p.function == "")
        #expect(!p.isDelta)
    }
}
