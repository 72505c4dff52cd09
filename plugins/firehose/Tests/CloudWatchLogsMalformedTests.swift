import FireflyModel
import FireflyDemo
import FireflyWire
import FireflyPluginKit
import FireflyPluginKitTesting
@testable import FirehoseAdapter
import Foundation
import Testing

private func decode(_ bytes: [UInt8], index: Int = 0) -> FirehoseDelivery {
    var delivery = FirehoseDelivery()
    var record = bytes
    FirehoseRequestDecoder().decodeRecord(&record, index: index, into: &delivery)
    return delivery
}

@Suite struct CloudWatchLogsMalformedTests {
    @Test func truncatedGzipIsRejectedAsInvalidGzip() throws {
        let good = try testdata.bytes("cwlogs_python_json.gz")
        let delivery = decode(Array(good.dropLast(20)), index: 3)
        #expect(delivery.logs == [])
        #expect(delivery.rejections == [RecordRejection(.invalidGzip, record: 3, detail: "truncated gzip data")])
    }

    @Test func corruptGzipIsRejectedAsInvalidGzip() throws {
        var bad = try testdata.bytes("cwlogs_python_json.gz")
        for i in 20..<60 { bad[i] ^= 0x5A }
        let delivery = decode(bad)
        #expect(delivery.logs == [])
        #expect(delivery.rejections.count == 1)
        #expect(delivery.rejections.first?.reason == .invalidGzip)
        #expect(delivery.rejections.first?.detail.hasPrefix("invalid gzip data: ") == true)
    }

    @Test func bytesAfterTheLastGzipMemberAreRejected() throws {
        let delivery = decode(try testdata.bytes("cwlogs_control.gz") + Array("junk".utf8))
        #expect(
            delivery.rejections == [RecordRejection(.invalidGzip, record: 0, detail: "data after the end of the gzip stream at byte 213")])
    }

    @Test func gzipBombIsRefusedAtTheLimitPerRecord() throws {
        let delivery = decode(try testdata.bytes("cwlogs_bomb.gz"))
        #expect(delivery.logs == [])
        #expect(delivery.rejections == [RecordRejection(.limitExceeded, record: 0, detail: DecodeLimits.tooMuchInflatedPerRecord)])
    }

    @Test func recordsOfOneRequestInflateTo256MiBAtMost() async throws {
        let outcome = await Timing.onItsOwnThread { () -> (rejections: [RecordRejection], records: Int) in
            // 15 MiB each: 17 fit in 256 MiB, the 18th passes the request's limit.
            // Zero bytes: not JSON, so each record is rejected at once after inflating (no 255 MiB scan).
            let record = (try? Gzip.compress([UInt8](repeating: 0, count: 15 * 1_048_576))) ?? []
            let body = envelope(records: Array(repeating: record, count: 18))
            let delivery = try? FirehoseRequestDecoder().decode(body: body)
            return (delivery?.rejections ?? [], delivery?.recordCount ?? 0)
        }
        #expect(outcome.records == 18)
        #expect(outcome.rejections.map(\.reason) == Array(repeating: .invalidJSON, count: 17) + [.limitExceeded])
        #expect(outcome.rejections.last == RecordRejection(.limitExceeded, record: 17, detail: DecodeLimits.tooMuchInflatedPerRequest))
    }

    @Test func adapterAnswers400ForAGzipBomb() throws {
        let sink = RecordingSink()
        let body = envelope(records: [try testdata.bytes("cwlogs_node_text.gz"), try testdata.bytes("cwlogs_bomb.gz")])
        let response = try makeAdapter().handle(firehoseRequest(body), sink: sink)
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self).contains("record 1: limit_exceeded: gzip data inflates to more than 16 MiB"))
        #expect(sink.batches.isEmpty)
    }

    @Test func badGzipRecordIsSkippedUnlessRejectMalformedRecords() throws {
        let good = try testdata.bytes("cwlogs_node_text.gz")
        let body = envelope(records: [good, Array(good.prefix(40))])
        let lenient = RecordingSink()
        #expect(try makeAdapter().handle(firehoseRequest(body), sink: lenient).status == 200)
        #expect(lenient.batches.flatMap(\.logs).count == 12)
        let strict = RecordingSink()
        let response = try makeAdapter(["reject_malformed_records": .bool(true)]).handle(firehoseRequest(body), sink: strict)
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self).contains("record 1: invalid_gzip: truncated gzip data"))
        #expect(strict.batches.isEmpty)
    }

    @Test func invalidJSONInsideTheGzipEndsTheRecord() {
        let delivery = decode(uncompressed(events: [(1, 1, "a")]) + Array(#"{"messageType":"DATA_MESSAGE","logEvents":[{]}"#.utf8))
        #expect(delivery.logs.map(\.recordID) == ["e1"])
        #expect(delivery.rejections.map(\.reason) == [.invalidJSON])
        #expect(delivery.rejections.map(\.line) == [2])
    }

    @Test func wrongTypesRejectTheDocumentOrTheEventAlone() {
        let doc =
            #"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/lambda/f","logStream":"s","logEvents":["#
            + #"{"id":"a","timestamp":1,"message":"ok"},{"id":"b","timestamp":"1","message":"x"},"#
            + #"{"id":"c","timestamp":2,"message":42},{"id":"d","timestamp":2.5,"message":"x"},{"timestamp":3,"message":"x"},7]}"#
            + #"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":7,"logStream":"s","logEvents":[]}"#
            + #"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":{}}"#
            + #"{"messageType":"DATA_MESSAGE","owner":"1","logStream":"s","logEvents":[]}"#
            + #"{"owner":"1","logGroup":"g","logStream":"s","logEvents":[]}"#
            + #"{"messageType":"SOMETHING_ELSE"}"#
        let delivery = decode(Array(doc.utf8))
        #expect(delivery.logs.map(\.recordID) == ["a"])
        #expect(
            delivery.rejections == [
                RecordRejection(.invalidField, record: 0, line: 1, detail: "log event 1: timestamp is not a number"),
                RecordRejection(.invalidField, record: 0, line: 1, detail: "log event 2: message is not a string"),
                RecordRejection(
                    .invalidField, record: 0, line: 1, detail: "log event 3: timestamp is not a whole number of milliseconds since 1970"),
                RecordRejection(.missingField, record: 0, line: 1, detail: "log event 4: id is missing"),
                RecordRejection(.invalidField, record: 0, line: 1, detail: "log event 5: not an object"),
                RecordRejection(.invalidField, record: 0, line: 2, detail: "logGroup is not a string"),
                RecordRejection(.invalidField, record: 0, line: 3, detail: "logEvents is not an array"),
                RecordRejection(.missingField, record: 0, line: 4, detail: "logGroup is missing"),
                RecordRejection(.missingField, record: 0, line: 5, detail: "messageType is missing"),
                RecordRejection(.invalidField, record: 0, line: 6, detail: "unknown messageType SOMETHING_ELSE"),
            ])
    }

    @Test func tooManyEventsInARecordIsALimit() {
        let events = String(repeating: #"{"id":"x","timestamp":1,"message":""},"#, count: DecodeLimits.logEventsPerRecord)
        let doc = #"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":["# + events + #"{"id":"y","timestamp":1,"message":""}]}"#
        let delivery = decode(Array(doc.utf8))
        #expect(delivery.logs == [])
        #expect(delivery.rejections == [RecordRejection(.limitExceeded, record: 0, line: 1, detail: DecodeLimits.tooManyLogEvents)])
    }

    @Test func aMessageOverTheLimitIsTruncatedAtACharacterBoundary() {
        // "é" is two bytes: the cut must not fall inside one.
        let message = "a" + String(repeating: "é", count: DecodeLimits.logMessageBytes / 2 + 10)
        let delivery = decode(uncompressed(events: [(1, 1, message)]))
        #expect(delivery.rejections == [])
        let log = delivery.logs.first
        guard case .string(let body)? = log?.body else {
            Issue.record("no string body")
            return
        }
        #expect(body.utf8.count == DecodeLimits.logMessageBytes - 1)
        #expect(body.hasPrefix("aéé"))
        #expect(log?.attributes == [Attribute("firefly.log.original_size", .int(Int64(message.utf8.count)))])
    }

    @Test func messagesThatAreNotLambdaRecordsStayTextOrJSON() {
        let delivery = decode(
            uncompressed(events: [
                (1, 1, #"{"not":"closed""#), (2, 2, #"{"level":"debug","msg":"x"}"#), (3, 3, "REPORT RequestId: \tgarbage"),
                (4, 4, "START RequestId: only-id"), (5, 5, "2026-12-03T10:00:00.000Z\tr\tNOTALEVEL\tx"),
            ]))
        #expect(delivery.rejections == [])
        #expect(delivery.logs.map(\.body) == [
            .string(#"{"not":"closed""#), .json(#"{"level":"debug","msg":"x"}"#), .string("REPORT RequestId: \tgarbage"),
            .string("START RequestId: only-id"), .string("2026-12-03T10:00:00.000Z\tr\tNOTALEVEL\tx"),
        ])
        #expect(delivery.logs.map(\.severityNumber) == [0, 5, 9, 9, 0])
        // A REPORT without a request id is still an invocation, joined to nothing.
        #expect(delivery.invocations.map(\.requestID) == [""])
    }

    @Test func repeatedExceptionKeysKeepTheirLastValue() {
        let message = #"{"level":"ERROR","message":"m","errorType":"A","errorType":"B","stackTrace":["x"],"stackTrace":"y"}"#
        let delivery = decode(uncompressed(events: [(1, 1, message)]))
        #expect(
            delivery.logs.map(\.attributes) == [
                [Attribute("exception.type", .string("B")), Attribute("exception.stacktrace", .string("y"))]
            ])
    }

    @Test func uncompressedDocumentsAreNotTakenForMetricsWhenTheFormatIsOpenTelemetry() {
        var delivery = FirehoseDelivery()
        var record = uncompressed(events: [(1, 1, "x")])
        FirehoseRequestDecoder(format: .openTelemetry).decodeRecord(&record, index: 0, into: &delivery)
        #expect(delivery.logs == [])
        #expect(delivery.rejections.count == 1)
        var json = FirehoseDelivery()
        record = uncompressed(events: [(1, 1, "x")])
        FirehoseRequestDecoder(format: .json).decodeRecord(&record, index: 0, into: &json)
        #expect(json.logs.count == 1)
    }

    @Test func everyEventGivesOneRecordWhateverItsMessage() {
        let fragments = [
            "START RequestId: ", "REPORT RequestId: ", "END RequestId: ", "RequestId: ", "\t", " ", "[INFO]", "[", "]",
            "2026-12-03T10:00:00.000Z", "Duration: ", "Init Duration: ", "Memory Size: ", " ms", " MB", "12.5", "{", "}", "\"",
            ":", ",", "[]", "\"type\":\"platform.report\"", "\"record\":", "\"metrics\":{\"durationMs\":", "Task timed out after",
            "1-5759e988-bd862e3fe1be46a994272793", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=", "XRAY TraceId: ",
            "SegmentId: ", "Status: ", "timeout", "Error Type: ", "Runtime.OutOfMemory", "é", "\n", "x", "ERROR", "WARNING",
        ]
        var rng = SeededGenerator(seed: 1414)
        for round in 0..<40 {
            var events: [(id: Int, timestamp: UInt64, message: String)] = []
            for i in 0..<25 {
                let n = Int.random(in: 0..<14, using: &rng)
                let message = (0..<n).map { _ in fragments.randomElement(using: &rng)! }.joined()
                events.append((i, UInt64(i), message))
            }
            let delivery = decode(uncompressed(events: events))
            #expect(delivery.rejections == [], "round \(round)")
            #expect(delivery.logs.map(\.recordID) == (0..<25).map { "e\($0)" }, "round \(round)")
            #expect(delivery.logs.allSatisfy { $0.severityNumber <= 24 }, "round \(round)")
        }
    }

    @Test func randomBytesAfterTheGzipMagicNeverCrash() {
        var rng = SeededGenerator(seed: 14)
        for _ in 0..<300 {
            let n = Int.random(in: 0..<200, using: &rng)
            let bytes: [UInt8] = [0x1F, 0x8B] + (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let delivery = decode(bytes)
            #expect(delivery.rejections.count == 1)
            #expect(delivery.rejections.first?.reason == .invalidGzip)
        }
    }
}
