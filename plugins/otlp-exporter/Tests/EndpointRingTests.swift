// Trace-aware balancing: each trace on one endpoint, and minimal movement when endpoints change.
import FireflyModel
import OTLPExporter
import Testing

@Suite struct EndpointRingTests {
    static let endpoints = ["http://gw-a:4318", "http://gw-b:4318", "http://gw-c:4318"]

    /// 1 000 traces of 1–5 spans each, ids as an SDK makes them (random).
    static let spans: [Span] = {
        var generator = SystemRandomNumberGenerator()
        var out: [Span] = []
        for t in 0..<1000 {
            let trace = TraceID(high: generator.next(), low: generator.next())
            for s in 0..<(1 + t % 5) {
                out.append(
                    Span(
                        traceID: trace, spanID: SpanID(UInt64(t * 8 + s + 1)), name: "s", startTimeUnixNano: 1,
                        endTimeUnixNano: 2))
            }
        }
        return out
    }()

    /// trace id → the endpoint names its spans went to.
    func owners(_ ring: EndpointRing, _ names: [String]) -> [TraceID: Set<String>] {
        var owners: [TraceID: Set<String>] = [:]
        for (i, share) in ring.partition(Self.spans, key: { EndpointRing.key($0.traceID) }).enumerated() {
            for span in share { owners[span.traceID, default: []].insert(names[i]) }
        }
        return owners
    }

    @Test func everySpanOfATraceGoesToExactlyOneEndpoint() {
        let ring = EndpointRing(Self.endpoints)
        let owners = owners(ring, Self.endpoints)
        #expect(owners.count == 1000)
        #expect(owners.values.allSatisfy { $0.count == 1 })
        // And the traces are spread: each endpoint gets a fair share (expected 333; 250 is > 5 sigma away).
        var perEndpoint: [String: Int] = [:]
        for names in owners.values { perEndpoint[names.first!, default: 0] += 1 }
        #expect(perEndpoint.count == 3)
        #expect(perEndpoint.values.allSatisfy { $0 > 250 }, "\(perEndpoint)")
    }

    @Test func removingAnEndpointMovesOnlyItsTraces() {
        let before = owners(EndpointRing(Self.endpoints), Self.endpoints)
        let remaining = [Self.endpoints[0], Self.endpoints[2]]
        let after = owners(EndpointRing(remaining), remaining)
        var moved = 0
        for (trace, names) in before {
            if names.first == Self.endpoints[1] {
                moved += 1
            } else {
                #expect(after[trace] == names, "trace \(trace) moved off a remaining endpoint")
            }
        }
        #expect(moved > 250)
    }

    @Test func addingAnEndpointMovesTracesOnlyToIt() {
        let before = owners(EndpointRing(Self.endpoints), Self.endpoints)
        let more = Self.endpoints + ["http://gw-d:4318"]
        let after = owners(EndpointRing(more), more)
        var moved = 0
        for (trace, names) in before where after[trace] != names {
            #expect(after[trace] == ["http://gw-d:4318"])
            moved += 1
        }
        #expect(moved > 150 && moved < 350, "\(moved) of 1000 traces moved to the fourth endpoint")
    }

    @Test func theChoiceDependsOnTheEndpointNamesNotTheirOrder() {
        let a = EndpointRing(Self.endpoints)
        let b = EndpointRing(Self.endpoints.reversed())
        for span in Self.spans.prefix(200) {
            let key = EndpointRing.key(span.traceID)
            #expect(Self.endpoints[a.endpoint(for: key)] == Self.endpoints.reversed()[b.endpoint(for: key)])
        }
    }

    @Test func metricsBalanceBySeriesAndLogsByFunction() {
        let ring = EndpointRing(Self.endpoints)
        let points = (0..<300).map { i in
            MetricPoint(name: "m", kind: .gauge, labels: [Label("fn", "f\(i % 30)")], timeUnixNano: UInt64(i), value: 1)
        }
        var seriesOwner: [[Label]: Int] = [:]
        for (i, share) in ring.partition(points, key: EndpointRing.key(series:)).enumerated() {
            for p in share { #expect(seriesOwner.updateValue(i, forKey: p.labels) ?? i == i) }
        }
        #expect(Set(seriesOwner.values).count == 3)
        let logs = (0..<300).map { i in LogRecord(timeUnixNano: UInt64(i), body: .string("x"), function: "fn-\(i % 30)")
        }
        var functionOwner: [String: Int] = [:]
        for (i, share) in ring.partition(logs, key: EndpointRing.key(log:)).enumerated() {
            for r in share { #expect(functionOwner.updateValue(i, forKey: r.function) ?? i == i) }
        }
        #expect(Set(functionOwner.values).count == 3)
    }
}
