import FireflyOTLP
import FireflyModel
import Testing
@testable import FireflyDemo

@Suite struct TraceSimulatorTests {
    static let start: UInt64 = 1_700_000_000_000_000_000

    /// Two simulated minutes at 20 traces/s over the full ten-function catalogue, plus the tail.
    static func simulate(seed: UInt64 = 42, functions: Int = 10) -> (spans: [Span], stats: TraceSimulator.Stats) {
        var sim = TraceSimulator(topology: DemoTopology(functions: functions, seed: seed), seed: seed)
        var spans: [Span] = []
        for second in 1...120 {
            spans += sim.advance(to: start + UInt64(second) * 1_000_000_000, newTraces: 20)
        }
        spans += sim.drain()
        return (spans, sim.stats)
    }

    @Test func everyParentExistsInTheSameTrace() throws {
        let (spans, stats) = Self.simulate()
        #expect(stats.traces == 2400)
        #expect(spans.count == stats.spans)
        let byTrace = Dictionary(grouping: spans, by: \.traceID)
        #expect(byTrace.count == 2400)
        for (_, trace) in byTrace {
            let ids = Dictionary(uniqueKeysWithValues: trace.map { ($0.spanID, $0) })
            #expect(ids.count == trace.count, "span ids are unique within a trace")
            #expect(trace.filter { !$0.parentSpanID.isValid }.count == 1, "one root per trace")
            for span in trace where span.parentSpanID.isValid {
                let parent = try #require(ids[span.parentSpanID], "parent of \(span.name) in its trace")
                #expect(parent.startTimeUnixNano <= span.startTimeUnixNano)
                // A consumer's parent is the producer span that sent its message, in another function.
                if span.kind == .consumer {
                    #expect(parent.kind == .producer)
                    #expect(parent.function != span.function)
                    #expect(span.attributes[key: "messaging.destination.name"] == parent.attributes[key: "messaging.destination.name"])
                    #expect(parent.endTimeUnixNano <= span.startTimeUnixNano)
                }
                // A directly invoked function runs under the caller's Lambda.Invoke CLIENT span.
                if span.attributes[key: "faas.trigger"] == .string("other") {
                    #expect(parent.name == "Lambda.Invoke")
                    #expect(parent.attributes[key: "faas.invoked_name"] == .string(span.function))
                    #expect(parent.endTimeUnixNano >= span.endTimeUnixNano)
                }
            }
        }
        // All three kinds of hop occur.
        let producers = Set(spans.filter { $0.kind == .producer }.compactMap { $0.attributes[key: "messaging.system"] })
        #expect(producers == [.string("aws_sqs"), .string("aws_sns")])
        #expect(spans.contains { $0.name == "Lambda.Invoke" })
    }

    @Test func coldStartOnlyOnTheFirstInvocationOfEachInstance() {
        let (spans, stats) = Self.simulate()
        let invocations = spans.filter { $0.attributes[key: "faas.coldstart"] != nil }
        #expect(invocations.count == stats.invocations)
        var byInstance: [String: [Span]] = [:]
        for span in invocations {
            guard case .string(let instance) = span.resourceAttributes[key: "faas.instance"] else {
                Issue.record("invocation span without faas.instance")
                continue
            }
            byInstance[instance, default: []].append(span)
        }
        #expect(byInstance.count == stats.coldStarts)
        var reused = 0
        for (instance, list) in byInstance {
            let ordered = list.sorted { $0.startTimeUnixNano < $1.startTimeUnixNano }
            #expect(ordered.first?.isColdStart == true, "\(instance)")
            #expect(ordered.dropFirst().allSatisfy { !$0.isColdStart }, "\(instance)")
            // An instance runs one invocation at a time.
            for (a, b) in zip(ordered, ordered.dropFirst()) { #expect(a.endTimeUnixNano <= b.startTimeUnixNano) }
            if ordered.count > 1 { reused += 1 }
        }
        #expect(reused > 0)
        #expect(stats.coldStarts < stats.invocations / 10)
    }

    @Test func failedInvocationsCarryErrorStatusAndAnExceptionEvent() {
        let (spans, stats) = Self.simulate()
        let failed = spans.filter { $0.statusCode == .error && $0.attributes[key: "faas.invocation_id"] != nil }
        #expect(failed.count == stats.failedInvocations)
        #expect(failed.count > 0)
        for span in failed {
            let exception = span.events.first { $0.name == "exception" }
            #expect(exception != nil)
            guard case .string(let type) = exception?.attributes[key: "exception.type"] else {
                Issue.record("exception without exception.type")
                continue
            }
            #expect(span.statusMessage.hasPrefix(type + ": "))
            if span.attributes[key: "faas.trigger"] == .string("http") {
                #expect(span.attributes[key: "http.response.status_code"] == .int(500))
            }
        }
    }

    @Test func spansCarryLambdaResourceAndSemanticConventionAttributes() throws {
        let (spans, _) = Self.simulate(functions: 3)
        let root = try #require(spans.first { $0.name == "POST /checkout" })
        #expect(root.kind == .server)
        #expect(root.resourceAttributes[key: "service.name"] == .string("checkout-api"))
        #expect(root.resourceAttributes[key: "faas.name"] == .string("checkout-api"))
        #expect(root.resourceAttributes[key: "cloud.provider"] == .string("aws"))
        #expect(root.resourceAttributes[key: "cloud.region"] == .string("us-east-1"))
        #expect(root.attributes[key: "faas.trigger"] == .string("http"))
        #expect(root.attributes[key: "http.route"] == .string("/checkout"))
        let consumer = try #require(spans.first { $0.name == "orders process" })
        #expect(consumer.kind == .consumer)
        #expect(consumer.function == "order-processor")
        #expect(consumer.attributes[key: "faas.trigger"] == .string("pubsub"))
        #expect(consumer.attributes[key: "messaging.system"] == .string("aws_sqs"))
        #expect(consumer.attributes[key: "messaging.operation.type"] == .string("process"))
        // Three functions: nothing calls past order-processor's SNS topic subscribers, which are left out.
        #expect(Set(spans.map(\.function)) == ["checkout-api", "payment-service", "order-processor"])
    }

    @Test func theSameSeedGivesTheSameSpansAndAnotherSeedDoesNot() {
        let a = Self.simulate(seed: 9, functions: 5).spans
        let b = Self.simulate(seed: 9, functions: 5).spans
        let c = Self.simulate(seed: 10, functions: 5).spans
        #expect(a == b)
        #expect(OTLPRequestEncoder.traces(a) == OTLPRequestEncoder.traces(b))
        #expect(a != c)
    }

    @Test func latencyDriftsAlongASineWave() {
        var fn = DemoTopology(functions: 1, seed: 1).functions[0]
        fn.baseLatencyMs = 100
        fn.driftPeriodSeconds = 400
        fn.driftPhase = 0
        let model = LatencyModel(fn)
        #expect(model.median(at: 0) == 100)
        #expect(abs(model.median(at: 100_000_000_000) - 135) < 1e-9)  // a quarter period: the crest
        #expect(abs(model.median(at: 300_000_000_000) - 65) < 1e-9)  // three quarters: the trough
    }
}
