// Log and invocation rows without a database: the content key of records without an id.
import FireflyModel
@testable import PostgresExporter
import Testing

struct LogRowsTests {
    static let record = LogRecord(
        timeUnixNano: 1_700_000_000_000_000_001, observedTimeUnixNano: 1_700_000_000_500_000_000, severityNumber: 9,
        severityText: "INFO", body: .string("1"), attributes: [Attribute("faas.invocation_id", .string("r-1"))],
        function: "checkout")

    @Test func theContentKeyIgnoresTheObservedTimeAndTellsEverythingElseApart() {
        let key = TableRows.recordID(of: Self.record)
        #expect(key.hasPrefix("content:") && key.utf8.count == 8 + 32)
        var later = Self.record
        later.observedTimeUnixNano += 1
        #expect(TableRows.recordID(of: later) == key)
        var changes: [LogRecord] = []
        for change in 0..<8 {
            var r = Self.record
            switch change {
            case 0: r.body = .int(1)
            case 1: r.body = .json("1")
            case 2: r.timeUnixNano += 1
            case 3: r.severityNumber = 10
            case 4: r.attributes.append(Attribute("k", .string("v")))
            case 5: r.resourceAttributes = [Attribute("service.instance.id", .string("i-1"))]
            case 6: r.spanID = SpanID(1)
            default: r.function = "payments"
            }
            changes.append(r)
        }
        let keys = changes.map(TableRows.recordID(of:))
        #expect(Set(keys + [key]).count == 9)
        // A record with its own id keeps it.
        var cloudWatch = Self.record
        cloudWatch.recordID = "3781236542901918427188393412759382948409392883746009907"
        #expect(TableRows.recordID(of: cloudWatch) == cloudWatch.recordID)
    }

    @Test func aLogRowHasEveryColumnAndNullsWhereTheRecordHasNothing() {
        var row = RowEncoder()
        TableRows.encode(Self.record, into: &row)
        let columns = BinaryRows.decode(row.bytes)[0]
        #expect(columns.count == Schema.logColumns.count)
        let named = Dictionary(uniqueKeysWithValues: zip(Schema.logColumns, columns))
        #expect(BinaryRows.text(named["body"]!) == "1" && named["body_json"]! == nil)
        #expect(named["trace_id"]! == nil && named["span_id"]! == nil)
        #expect(BinaryRows.text(named["request_id"]!) == "r-1")
        #expect(named["severity_number"]! == [0, 9])
        var invocation = RowEncoder()
        TableRows.encode(
            Invocation(function: "f", requestID: "r", startTimeUnixNano: 1, durationMs: 1, memorySizeMB: .max), into: &invocation)
        let invocationColumns = BinaryRows.decode(invocation.bytes)[0]
        #expect(invocationColumns.count == Schema.invocationColumns.count)
        // An integer column holds at most Int32.max.
        #expect(invocationColumns[Schema.invocationColumns.firstIndex(of: "memory_size_mb")!] == [0x7F, 0xFF, 0xFF, 0xFF])
    }
}
