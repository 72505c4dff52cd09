import FireflyModel
import RemoteWriteExporter
import Testing

@Suite struct SeriesAssemblerTests {
    static let minute: UInt64 = 60_000_000_000
    static let t0: UInt64 = 1_700_000_000_000_000_000

    static func gauge(_ name: String, _ value: Double, at t: UInt64, _ labels: [Label] = []) -> MetricPoint {
        MetricPoint(name: name, kind: .gauge, labels: labels, timeUnixNano: t, value: value)
    }

    @Test func samplesAreGroupedPerSeriesSortedAndRepeatsDropped() {
        let points = [
            Self.gauge("g", 3, at: Self.t0 + 2 * Self.minute), Self.gauge("g", 1, at: Self.t0),
            Self.gauge("g", 9, at: Self.t0), Self.gauge("h", 5, at: Self.t0),
        ]
        let plan = SeriesAssembler().plan(points) { _ in nil }
        #expect(plan.outOfOrder == 1)
        #expect(plan.shards == [[[
            RemoteWriteSeries(labels: [Label("__name__", "g")], samples: [
                RemoteWriteSample(value: 1, timestampMs: 1_700_000_000_000), RemoteWriteSample(value: 3, timestampMs: 1_700_000_120_000),
            ]),
            RemoteWriteSeries(labels: [Label("__name__", "h")], samples: [RemoteWriteSample(value: 5, timestampMs: 1_700_000_000_000)]),
        ]]])
    }

    @Test func samplesAtOrBeforeTheHighWaterMarkAreDropped() {
        var marks = HighWaterMarks()
        let first = SeriesAssembler().plan([Self.gauge("g", 1, at: Self.t0 + Self.minute)]) { marks[$0] }
        marks.accept(first.shards[0][0])
        let points = [Self.gauge("g", 1, at: Self.t0), Self.gauge("g", 2, at: Self.t0 + Self.minute), Self.gauge("g", 3, at: Self.t0 + 2 * Self.minute)]
        let plan = SeriesAssembler().plan(points) { marks[$0] }
        #expect(plan.outOfOrder == 2)
        #expect(plan.shards[0].map { $0.map(\.samples) } == [[[RemoteWriteSample(value: 3, timestampMs: 1_700_000_120_000)]]])
    }

    @Test func requestsHoldAtMostMaxSamplesAndKeepSeriesOrder() {
        let points = (0..<5).map { Self.gauge("g", Double($0), at: Self.t0 + UInt64($0) * Self.minute) } + [Self.gauge("h", 7, at: Self.t0)]
        let plan = SeriesAssembler(maxSamplesPerRequest: 2).plan(points) { _ in nil }
        let requests = plan.shards[0]
        #expect(requests.map { $0.map { "\($0.labels[0].value):\($0.samples.map(\.value))" } } == [
            ["g:[0.0, 1.0]"], ["g:[2.0, 3.0]"], ["g:[4.0]", "h:[7.0]"],
        ])
        #expect(plan.sampleCount == 6)
    }

    @Test func shardsSplitSeriesByHashAndKeepEachSeriesInOneShard() {
        let points = (0..<40).flatMap { i in
            [Self.gauge("g", 1, at: Self.t0, [Label("i", "\(i)")]), Self.gauge("g", 2, at: Self.t0 + Self.minute, [Label("i", "\(i)")])]
        }
        let plan = SeriesAssembler(shards: 3).plan(points) { _ in nil }
        #expect(plan.shards.count == 3)
        #expect(plan.shards.allSatisfy { !$0.isEmpty })
        let all = plan.shards.flatMap { $0.flatMap { $0 } }
        #expect(all.count == 40)
        #expect(all.allSatisfy { $0.samples.map(\.value) == [1, 2] })
        #expect(plan.sampleCount == 80)
    }

    @Test func externalLabelsAreAddedButNeverReplaceSeriesLabels() {
        let assembler = SeriesAssembler(externalLabels: [Label("cluster", "eu"), Label("region", "x")])
        let point = Self.gauge("g", 1, at: Self.t0, [Label("region", "us-east-1"), Label("Zone", "a")])
        let plan = assembler.plan([point]) { _ in nil }
        #expect(plan.shards[0][0][0].labels == [
            Label("Zone", "a"), Label("__name__", "g"), Label("cluster", "eu"), Label("region", "us-east-1"),
        ])
    }

    @Test func deltaHistogramsAreCountedAsUnsupported() {
        let point = MetricPoint(name: "h", kind: .histogram, isDelta: true, timeUnixNano: Self.t0, count: 1, bounds: [1], bucketCounts: [1, 0])
        let plan = SeriesAssembler().plan([point]) { _ in nil }
        #expect(plan.unsupported == 1)
        #expect(plan.sampleCount == 0)
    }

    @Test func highWaterMarksForgetOldSeriesAboveTheLimit() {
        var marks = HighWaterMarks(limit: 2, retentionMs: 1000)
        marks.accept([RemoteWriteSeries(labels: [Label("__name__", "a")], samples: [RemoteWriteSample(value: 1, timestampMs: 100)])])
        marks.accept([RemoteWriteSeries(labels: [Label("__name__", "b")], samples: [RemoteWriteSample(value: 1, timestampMs: 5000)])])
        marks.accept([RemoteWriteSeries(labels: [Label("__name__", "c")], samples: [RemoteWriteSample(value: 1, timestampMs: 5500)])])
        #expect(marks.count == 2)
        #expect(marks[[Label("__name__", "a")]] == nil)
        #expect(marks[[Label("__name__", "c")]] == 5500)
    }
}
