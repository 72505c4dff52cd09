import FireflyModel
import Testing

@testable import FireflyCore

@Suite struct BackoffTests {
    @Test func growsExponentiallyWithinJitterAndCaps() {
        var b = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        #expect(b.next(random: { 0 }) == .milliseconds(50))     // [50, 100]
        #expect(b.next(random: { 0.999_999 }) < .milliseconds(200))
        #expect(b.next(random: { 0 }) == .milliseconds(200))    // ceiling 400
        #expect(b.next(random: { 0 }) == .milliseconds(400))    // ceiling 800
        #expect(b.next(random: { 0 }) == .milliseconds(500))    // capped at 1 s
        for _ in 0..<100 { _ = b.next(random: { 0.5 }) }
        #expect(b.next(random: { 1 }) == .seconds(1))
    }

    @Test func honoursALongerRetryAfter() {
        var b = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        #expect(b.next(retryAfter: .seconds(3), random: { 0 }) == .seconds(3))
        #expect(b.next(retryAfter: .milliseconds(1), random: { 0 }) == .milliseconds(100))
    }

    @Test func resetStartsOver() {
        var b = Backoff(initial: .milliseconds(100), maximum: .seconds(10))
        _ = b.next(random: { 0 }); _ = b.next(random: { 0 })
        b.reset()
        #expect(b.next(random: { 0 }) == .milliseconds(50))
    }
}

@Suite struct MemoryQueueTests {
    func entry(_ n: Int) -> QueueEntry {
        QueueEntry(receiver: "r", batch: TelemetryBatch(points: [MetricPoint(name: "m\(n)", kind: .gauge, timeUnixNano: UInt64(n))]))
    }

    @Test func recordsAreKeptAsTheValuesTheyEncodeAndLogsCountTowardsTheBudget() async throws {
        let logs = (0..<50).map { LogRecord(timeUnixNano: UInt64($0), body: .string(String(repeating: "x", count: 1000))) }
        let batch = TelemetryBatch(logs: logs, invocations: [Invocation(function: "f", requestID: "r", startTimeUnixNano: 1, durationMs: 2)])
        let q = MemoryQueue(maxBytes: 60_000, consumers: ["a"])
        let queues: [any TelemetryQueue] = [q]
        var w = queues[0].recordWriter(capacity: 64)
        RecordCodec.encode(batch, receiver: "firehose", into: &w)
        #expect(q.append(record: &w.bytes) == .stored(sequence: 1))
        let read = try await q.read(after: 0, maxRecords: 1).map { try $0.entry }
        #expect(read == [QueueEntry(receiver: "firehose", batch: batch)])
        // 50 KB of log bodies: a second copy does not fit in 60 000 bytes.
        #expect(q.append(QueueEntry(receiver: "firehose", batch: batch)) == .full(retryAfterMilliseconds: 1000))
    }

    @Test func eachConsumerReadsEverythingAfterItsCursor() async {
        let q = MemoryQueue(maxBytes: 1 << 20, consumers: ["a", "b"])
        for i in 1...3 { #expect(q.append(entry(i)) == .stored(sequence: UInt64(i))) }
        #expect(await q.read(after: 0, maxRecords: 10).map(\.sequence) == [1, 2, 3])
        #expect(await q.read(after: 2, maxRecords: 10).map(\.sequence) == [3])
        q.acknowledge(consumer: "a", through: 3)
        #expect(q.stats.records == 3)  // b has not acknowledged
        q.acknowledge(consumer: "b", through: 2)
        #expect(q.stats.records == 1)
        #expect(q.readAvailable(after: 0, maxRecords: 10).map(\.sequence) == [3])
        #expect(q.cursor(consumer: "b") == 2)
    }

    @Test func refusesAppendsOverTheBudgetUntilConsumersCatchUp() {
        let one = RecordCodec.encode(entry(1).batch, receiver: "r").count  // the budget counts record bytes
        let q = MemoryQueue(maxBytes: one * 2, consumers: ["a"])
        #expect(q.append(entry(1)) == .stored(sequence: 1))
        #expect(q.append(entry(2)) == .stored(sequence: 2))
        #expect(q.append(entry(3)) == .full(retryAfterMilliseconds: 1000))
        q.acknowledge(consumer: "a", through: 2)
        #expect(q.append(entry(3)) == .stored(sequence: 3))
    }

    @Test func readWaitsForDataAndCloseWakesReaders() async {
        let q = MemoryQueue(maxBytes: 1 << 20, consumers: ["a"])
        async let waiting = q.read(after: 0, maxRecords: 10)
        try? await Task.sleep(for: .milliseconds(50))
        _ = q.append(entry(1))
        #expect(await waiting.map(\.sequence) == [1])
        async let closing = q.read(after: 1, maxRecords: 10)
        try? await Task.sleep(for: .milliseconds(50))
        q.close()
        #expect(await closing.isEmpty)
        #expect(q.append(entry(2)) == .closed)
    }
}

@Suite struct RouterTests {
    @Test func sharesOnlyWhatPipelinesRoute() {
        let router = Router(pipelines: [
            PipelineConfig(name: "metrics", signal: .metrics, receivers: ["fh", "otlp"], exporters: ["pg"]),
            PipelineConfig(name: "traces", signal: .traces, receivers: ["otlp"], exporters: ["pg", "dbg"]),
            PipelineConfig(name: "logs", signal: .logs, receivers: ["fh"], exporters: ["dbg"]),
        ])
        let span = Span(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), name: "s", startTimeUnixNano: 1, endTimeUnixNano: 2)
        let point = MetricPoint(name: "m", kind: .gauge, timeUnixNano: 1)
        let e = QueueEntry(receiver: "otlp", batch: TelemetryBatch(points: [point], spans: [span]))
        #expect(router.share(of: e, for: "pg") == TelemetryBatch(points: [point], spans: [span]))
        #expect(router.share(of: e, for: "dbg") == TelemetryBatch(points: [], spans: [span]))
        #expect(router.routes(receiver: "fh", signal: .traces) == false)
        #expect(router.routes(receiver: "fh", signal: .metrics))
        #expect(router.routes(receiver: "fh", signal: .logs))
        #expect(router.routes(receiver: "otlp", signal: .logs) == false)
        let log = LogRecord(timeUnixNano: 1, body: .string("START RequestId: r"))
        let invocation = Invocation(function: "f", requestID: "r", startTimeUnixNano: 1, durationMs: 2)
        let fromFirehose = QueueEntry(receiver: "fh", batch: TelemetryBatch(points: [point], logs: [log], invocations: [invocation]))
        #expect(router.share(of: fromFirehose, for: "dbg") == TelemetryBatch(logs: [log], invocations: [invocation]))
        #expect(router.share(of: fromFirehose, for: "pg") == TelemetryBatch(points: [point]))
        #expect(router.routed(from: "fh") == [.metrics, .logs])
    }
}

@Suite struct BatchSlicingTests {
    @Test func slicesBigBatchesAndKeepsSmallOnesWhole() {
        let p = (0..<5).map { MetricPoint(name: "m\($0)", kind: .gauge, timeUnixNano: 1) }
        let s = (0..<3).map { Span(traceID: TraceID(high: 1, low: 1), spanID: SpanID(UInt64($0 + 1)), name: "s", startTimeUnixNano: 0, endTimeUnixNano: 1) }
        #expect(TelemetryBatch(points: p, spans: s).slices(maxItems: 10) == [TelemetryBatch(points: p, spans: s)])
        let sliced = TelemetryBatch(points: p, spans: s).slices(maxItems: 2)
        // Items in order (points, spans, logs, invocations), maxItems a slice.
        #expect(sliced.map { $0.points.count } == [2, 2, 1, 0])
        #expect(sliced.map { $0.spans.count } == [0, 0, 1, 2])
        #expect(sliced.flatMap(\.points) == p && sliced.flatMap(\.spans) == s)
        #expect(TelemetryBatch().slices(maxItems: 2).isEmpty)
        let logs = (0..<3).map { LogRecord(timeUnixNano: UInt64($0), body: .string("l\($0)")) }
        let invocations = [Invocation(function: "f", requestID: "r", startTimeUnixNano: 1, durationMs: 2)]
        let mixed = TelemetryBatch(spans: [s[0]], logs: logs, invocations: invocations).slices(maxItems: 3)
        #expect(mixed.map(\.itemCount) == [3, 2])
        #expect(mixed[0] == TelemetryBatch(spans: [s[0]], logs: Array(logs[0..<2])))
        #expect(mixed[1] == TelemetryBatch(logs: [logs[2]], invocations: invocations))
    }
}
