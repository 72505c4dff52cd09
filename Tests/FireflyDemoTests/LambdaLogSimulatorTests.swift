import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

@testable import FireflyDemo

/// The demo's CloudWatch Logs: what Lambda would write for the invocations whose spans it sends.
@Suite struct LambdaLogSimulatorTests {
    struct Subscription: Decodable {
        struct Event: Decodable {
            var id: String
            var timestamp: UInt64
            var message: String
        }
        var messageType: String
        var owner: String
        var logGroup: String
        var logStream: String
        var subscriptionFilters: [String]
        var logEvents: [Event]
    }

    /// The records of one simulated minute's log deliveries, as Python's gzip, base64 and json
    /// read them (independent of the demo's encoders), with the spans of the same invocations.
    static func simulate(seed: UInt64 = 7) throws -> (records: [Subscription], spans: [Span], functions: [DemoFunction]) {
        var scenario = DemoScenario(functions: 10, tracesPerSecond: 20, seed: seed)
        let start: UInt64 = 1_700_000_000_000_000_000
        var spans: [Span] = []
        var bodies: [String] = []
        var events = 0
        for second in 1...60 {
            let now = start + UInt64(second) * 1_000_000_000
            spans += scenario.spans(until: now, newTraces: 20)
            for delivery in try scenario.logDeliveries(nowMs: now / 1_000_000) {
                bodies.append(Data(delivery.request.body).base64EncodedString())
                events += delivery.events
            }
        }
        let script = """
            import sys, gzip, base64, json
            out = []
            for body in json.load(sys.stdin):
                envelope = json.loads(gzip.decompress(base64.b64decode(body)))
                for record in envelope["records"]:
                    data = base64.b64decode(record["data"])
                    assert data[:2] == b"\\x1f\\x8b", "a subscription record is gzip-compressed"
                    out.append(json.loads(gzip.decompress(data)))
            print(json.dumps(out))
            """
        let decoded = try PythonDecoder.run(script, input: Array(try JSONEncoder().encode(bodies)))
        let records = try JSONDecoder().decode([Subscription].self, from: JSONSerialization.data(withJSONObject: decoded))
        #expect(records.reduce(0) { $0 + $1.logEvents.count } == events)
        return (records, spans, scenario.topology.functions)
    }

    @Test func everyInvocationSpanHasItsLogsWithTheSameRequestIDTraceAndColdStart() async throws {
        let (records, spans, functions) = try await offThePool { try Self.simulate() }
        let roots = spans.filter { if case .string = $0.attributes[key: "faas.invocation_id"] { true } else { false } }
        #expect(roots.count > 500)
        var byRequest: [String: (record: Subscription, messages: [String])] = [:]
        var ids = Set<String>()
        for r in records {
            #expect(r.messageType == "DATA_MESSAGE" && r.owner == "123456789012" && r.subscriptionFilters == ["firefly"])
            for e in r.logEvents {
                #expect(e.id.count == 56 && e.id.allSatisfy(\.isNumber))
                #expect(ids.insert(e.id).inserted, "event ids are unique")
                // The request id a line is about: text lines carry it after "RequestId: " or as a
                // tab-separated field, JSON lines as "requestId".
                let request = e.message.firstMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/).map { String($0.output) }
                if let request { byRequest[request, default: (r, [])].messages.append(e.message) }
            }
        }
        for span in roots {
            guard case .string(let request) = span.attributes[key: "faas.invocation_id"] else { continue }
            guard let (record, messages) = byRequest[request] else {
                Issue.record("no logs for invocation \(request) of \(span.function)")
                continue
            }
            let index = functions.firstIndex { $0.name == span.function }!
            #expect(record.logGroup == "/aws/lambda/\(span.function)")
            guard case .string(let stream) = span.resourceAttributes[key: "faas.instance"] else { continue }
            #expect(record.logStream == stream)
            let cold = span.isColdStart
            let xray = "1-\(span.traceID.description.prefix(8))-\(span.traceID.description.dropFirst(8))"
            if LambdaLogSimulator.usesJSON(function: index) {
                let report = messages.first { $0.contains(#""type":"platform.report""#) }
                #expect(report != nil)
                let object = try JSONSerialization.jsonObject(with: Data((report ?? "{}").utf8)) as! [String: Any]
                let body = object["record"] as? [String: Any]
                let metrics = body?["metrics"] as? [String: Any]
                #expect(body?["requestId"] as? String == request)
                #expect((metrics?["initDurationMs"] != nil) == cold)
                #expect(body?["status"] as? String == (span.statusCode == .error ? "error" : "success"))
                #expect(((body?["tracing"] as? [String: Any])?["value"] as? String)?.hasPrefix("Root=\(xray);") == true)
            } else {
                #expect(messages.contains("START RequestId: \(request) Version: $LATEST\n"))
                #expect(messages.contains("END RequestId: \(request)\n"))
                let report = messages.first { $0.hasPrefix("REPORT RequestId: \(request)\t") }
                #expect(report?.contains("\tInit Duration: ") == cold)
                #expect(report?.contains("\nXRAY TraceId: \(xray)\tSegmentId: \(span.spanID)\tSampled: true\t\n") == true)
                if span.statusCode == .error {
                    // The error and its stack trace are one event of several lines.
                    #expect(messages.contains { ($0.contains("\tERROR\t") || $0.hasPrefix("[ERROR]\t")) && $0.split(separator: "\n").count >= 3 })
                }
            }
        }
    }

    @Test func reportedDurationIsTheSpanLessItsInitPhase() throws {
        var sim = TraceSimulator(topology: DemoTopology(functions: 10, seed: 3), seed: 3)
        let spans = sim.advance(to: 1_700_000_060_000_000_000, newTraces: 200) + sim.drain()
        let invocations = sim.takeInvocations()
        #expect(sim.takeInvocations().isEmpty)
        #expect(invocations.count == spans.filter { $0.attributes[key: "faas.invocation_id"] != nil }.count)
        for inv in invocations {
            let span = spans.first { $0.spanID == inv.spanID }!
            #expect(span.startTimeUnixNano == inv.start && span.endTimeUnixNano == inv.end)
            #expect(span.isColdStart == (inv.initMs != nil))
            #expect(abs(inv.durationMs + (inv.initMs ?? 0) - Double(inv.end - inv.start) / 1e6) < 1e-6)
        }
    }

    @Test func theSameSeedSendsTheSameLogs() async throws {
        let a = try await offThePool { try Self.simulate(seed: 11).records.map { $0.logEvents.map(\.message) } }
        let b = try await offThePool { try Self.simulate(seed: 11).records.map { $0.logEvents.map(\.message) } }
        #expect(a == b && !a.isEmpty)
    }
}
