import CFireflyPlugin
import FireflyModel
import Testing

@testable import FireflyCore
@testable import FireflyPluginKit

/// An exporter's batch is made of queue records decoded straight into C structs; every slice of it
/// must hand the plugin exactly the items the records hold, of the signals routed to it.
@Suite struct ExportBatchTests {
    /// Two records of random items from two receivers (bytes as the queue stores them), and their Swift values.
    static func records(seed: Int) throws -> [(bytes: [UInt8], entry: QueueEntry)] {
        try ["firehose", "otlp"].enumerated().map { i, receiver in
            let arena = CArena()
            let c = RecordCodecTests.randomBatch(arena, seed: seed * 2 + i)
            var w = ByteWriter()
            try RecordCodec.encode(c, receiver: receiver, keeping: .all, into: &w)
            return (w.bytes, QueueEntry(receiver: receiver, batch: try BatchBridge.telemetry(from: c)))
        }
    }

    /// Compared as record bytes: the random batches hold NaNs, which are never equal to themselves.
    static func bytes(_ batch: TelemetryBatch) -> [UInt8] { RecordCodec.encode(batch, receiver: "") }

    @Test(arguments: 0..<4) func slicesHandOverExactlyTheRoutedItemsOfEveryRecord(seed: Int) throws {
        let records = try Self.records(seed: seed)
        // firehose: metrics and logs; otlp: traces only.
        let routes: [String: Signals] = ["firehose": [.metrics, .logs], "otlp": .traces]
        let batch = ExportBatch()
        var expected = TelemetryBatch()
        for record in records {
            try batch.append(record: record.bytes) { routes[$0] ?? [] }
            let share = record.entry.batch.keeping(routes[record.entry.receiver] ?? [])
            expected.points += share.points
            expected.spans += share.spans
            expected.logs += share.logs
            expected.invocations += share.invocations
        }
        #expect(batch.itemCount == expected.itemCount)
        #expect(batch.itemCount > 0)
        for maxItems in [1, 7, 50, 10_000] {
            let slices = batch.slices(maxItems: maxItems)
            #expect(slices.map(\.itemCount).reduce(0, +) == expected.itemCount)
            #expect(slices.allSatisfy { $0.itemCount <= maxItems })
            for slice in slices {
                let want = expected.items(slice.range)
                #expect(Self.bytes(try slice.telemetry()) == Self.bytes(want))
                #expect(slice.counts == (want.points.count, want.spans.count, want.logs.count + want.invocations.count))
                // Halves, as a rejected batch is bisected, are views of the same items.
                let (a, b) = RejectionSplitter.halves(of: slice)
                #expect(Self.bytes(try a.telemetry()) == Self.bytes(want.items(0..<a.itemCount)))
                #expect(Self.bytes(try b.telemetry()) == Self.bytes(want.items(a.itemCount..<want.itemCount)))
            }
        }
    }

    @Test func aDamagedRecordAddsNothingAndTheOthersStay() throws {
        let records = try Self.records(seed: 9)
        let batch = ExportBatch()
        try batch.append(record: records[0].bytes) { _ in .all }
        let before = Self.bytes(try batch.slices(maxItems: 1 << 20)[0].telemetry())
        var damaged = records[1].bytes
        damaged.removeLast(3)
        #expect(throws: RecordCodec.DecodeError.self) { try batch.append(record: damaged) { _ in .all } }
        #expect(throws: RecordCodec.DecodeError.self) { try batch.append(record: []) { _ in .all } }
        #expect(batch.itemCount == records[0].entry.batch.itemCount)
        #expect(Self.bytes(try batch.slices(maxItems: 1 << 20)[0].telemetry()) == before)
        #expect(Self.bytes(records[0].entry.batch) == before)
    }

    @Test func aRecordRoutedNowhereAddsNothingAndHoldsNoMemory() throws {
        let records = try Self.records(seed: 3)
        let batch = ExportBatch()
        try batch.append(record: records[0].bytes) { _ in .all }
        let held = batch.arena.capacity
        // Records of other receivers, or of signals this exporter does not take, pass through.
        let arena = CArena()
        var w = ByteWriter()
        try RecordCodec.encode(RecordCodecTests.randomBatch(arena, seed: 5), receiver: "otlp", keeping: .traces, into: &w)
        let spansOnly = w.bytes
        for _ in 0..<200 {
            try batch.append(record: records[1].bytes) { $0 == "otlp" ? [] : .all }
            try batch.append(record: spansOnly) { _ in [.metrics, .logs] }
        }
        #expect(batch.arena.capacity == held)
        #expect(batch.itemCount == records[0].entry.batch.itemCount)
    }
}
