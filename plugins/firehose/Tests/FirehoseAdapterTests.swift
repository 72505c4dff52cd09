import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import FirehoseAdapter
import Foundation
import Testing

@Suite struct FirehoseAdapterTests {
    @Test func servesPostGetAndHeadOnTheConfiguredPath() throws {
        #expect(try makeAdapter().routes == [Route("POST", "/firehose"), Route("GET", "/firehose"), Route("HEAD", "/firehose")])
        #expect(try makeAdapter(["path": .string("/aws/metrics")]).routes.map(\.path) == ["/aws/metrics", "/aws/metrics", "/aws/metrics"])
    }

    @Test func acceptsARequestAndEmitsItsPoints() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(firehoseRequest(envelope(lines: [durationLine, invocationsLine])), sink: sink)
        #expect(response.status == 200)
        #expect(response.contentType == "application/json")
        #expect(response.text == #"{"requestId":"req-1","timestamp":1700000070500}"#)
        #expect(sink.batches == [TelemetryBatch(points: [durationPoint, invocationsPoint])])
    }

    @Test func answersHealthChecksOnGetAndHead() throws {
        let sink = RecordingSink()
        let adapter = try makeAdapter()
        let get = adapter.handle(firehoseRequest([], requestId: nil, method: "GET"), sink: sink)
        #expect(get.status == 200)
        #expect(get.contentType == "application/json")
        #expect(get.text == #"{"requestId":"","timestamp":1700000070500}"#)
        let head = adapter.handle(firehoseRequest([], requestId: nil, method: "HEAD"), sink: sink)
        #expect(head.status == 200)
        #expect(head.contentType == "application/json")
        #expect(head.body.isEmpty)
        #expect(sink.batches.isEmpty)
    }

    @Test func refusesAWrongAccessKey() throws {
        let sink = RecordingSink()
        let adapter = try makeAdapter(["access_keys": .array([.string("old-key"), .string("new-key")])])
        let response = adapter.handle(firehoseRequest(envelope(lines: [durationLine]), accessKey: "new-kez"), sink: sink)
        #expect(response.status == 401)
        #expect(response.contentType == "application/json")
        #expect(response.text == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"invalid firehose access key"}"#)
        #expect(sink.batches.isEmpty)
    }

    @Test func refusesAMissingAccessKey() throws {
        let sink = RecordingSink()
        let adapter = try makeAdapter(["access_keys": .array([.string("s3cr3t")])])
        let response = adapter.handle(firehoseRequest(envelope(lines: [durationLine])), sink: sink)
        #expect(response.status == 401)
        #expect(
            response.text == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"missing X-Amz-Firehose-Access-Key header"}"#)
        let empty = adapter.handle(firehoseRequest(envelope(lines: [durationLine]), accessKey: ""), sink: sink)
        #expect(empty.status == 401)
        #expect(sink.batches.isEmpty)
    }

    @Test func acceptsEveryConfiguredKeyForRotation() throws {
        let sink = RecordingSink()
        let adapter = try makeAdapter(["access_keys": .array([.string("old-key"), .string("new-key")])])
        #expect(adapter.handle(firehoseRequest(envelope(lines: [durationLine]), accessKey: "old-key"), sink: sink).status == 200)
        #expect(adapter.handle(firehoseRequest(envelope(lines: [durationLine]), accessKey: "new-key"), sink: sink).status == 200)
        #expect(adapter.handle(firehoseRequest(envelope(lines: [durationLine]), accessKey: "new-key-"), sink: sink).status == 401)
        #expect(adapter.handle(firehoseRequest(envelope(lines: [durationLine]), accessKey: "new-ke"), sink: sink).status == 401)
        #expect(sink.batches.count == 2)
    }

    @Test func treatsAnUnsetKeyVariableAsNoAuthentication() throws {
        // firefly.yaml's access_keys: ["${FIREHOSE_ACCESS_KEY:-}"] expands to [""].
        let adapter = try makeAdapter(["access_keys": .array([.string("")])])
        #expect(adapter.settings.accessKeys == [])
        let sink = RecordingSink()
        #expect(adapter.handle(firehoseRequest(envelope(lines: [durationLine])), sink: sink).status == 200)
        #expect(adapter.handle(firehoseRequest(envelope(lines: [durationLine]), accessKey: "anything"), sink: sink).status == 200)
    }

    @Test func answers503WhenTheQueueIsFull() throws {
        let sink = RecordingSink(answer: .busy(retryAfterMilliseconds: 1500))
        let response = try makeAdapter().handle(firehoseRequest(envelope(lines: [durationLine])), sink: sink)
        #expect(response.status == 503)
        #expect(response.contentType == "application/json")
        #expect(
            response.text == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"the collector's queue is full; retry later"}"#)
        #expect(response.headers.map(\.name) == ["Retry-After"])
        #expect(response.headers.map(\.value) == ["2"])
    }

    @Test func answers503WhenTheCollectorIsClosing() throws {
        let sink = RecordingSink(answer: .closed(retryAfterMilliseconds: 0))
        let response = try makeAdapter().handle(firehoseRequest(envelope(lines: [durationLine])), sink: sink)
        #expect(response.status == 503)
        #expect(
            response.text
                == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"the collector is shutting down; retry later"}"#)
        #expect(response.headers.map(\.name) == ["Retry-After"])
        #expect(response.headers.map(\.value) == ["1"])
    }

    @Test func refusesABodyThatIsNotJSON() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(firehoseRequest(Array(#"{"requestId":"req-1","records":[{"data":"#.utf8)), sink: sink)
        #expect(response.status == 400)
        #expect(
            response.text
                == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"request body is not valid JSON: unexpected end of input at byte 40"}"#
        )
        let empty = try makeAdapter().handle(firehoseRequest([]), sink: sink)
        #expect(empty.status == 400)
        #expect(
            empty.text
                == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"request body is not valid JSON: unexpected end of input at byte 0"}"#
        )
        #expect(sink.batches.isEmpty)
    }

    @Test func refusesAnEnvelopeWithoutRequestIdOrRecords() throws {
        let sink = RecordingSink()
        let adapter = try makeAdapter()
        let noId = adapter.handle(firehoseRequest(Array(#"{"timestamp":1,"records":[]}"#.utf8)), sink: sink)
        #expect(noId.status == 400)
        #expect(noId.text == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"missing requestId in body"}"#)
        let noRecords = adapter.handle(firehoseRequest(Array(#"{"requestId":"req-1","timestamp":1}"#.utf8)), sink: sink)
        #expect(noRecords.status == 400)
        #expect(noRecords.text == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"missing records array in body"}"#)
        let noData = adapter.handle(firehoseRequest(Array(#"{"requestId":"req-1","records":[{"data":"e30="},{}]}"#.utf8)), sink: sink)
        #expect(noData.status == 400)
        #expect(noData.text == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"record 1 has no data string"}"#)
        #expect(sink.batches.isEmpty)
    }

    @Test func refusesARequestIdThatDiffersFromTheHeader() throws {
        let response = try makeAdapter().handle(
            firehoseRequest(envelope(requestId: "body-id", lines: [durationLine]), requestId: "header-id"), sink: RecordingSink())
        #expect(response.status == 400)
        #expect(
            response.text
                == #"{"requestId":"header-id","timestamp":1700000070500,"errorMessage":"different request id in body and X-Amz-Firehose-Request-Id header"}"#
        )
    }

    @Test func refusesBadBase64() throws {
        let sink = RecordingSink()
        let body = Array(#"{"requestId":"req-1","timestamp":1,"records":[{"data":"e30="},{"data":"not base64!"}]}"#.utf8)
        let response = try makeAdapter().handle(firehoseRequest(body), sink: sink)
        #expect(response.status == 400)
        #expect(
            response.text
                == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"unable to base64 decode the record at index 1"}"#)
        #expect(sink.batches.isEmpty)
    }

    @Test func acceptsAnEmptyRecordsList() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(firehoseRequest(envelope(records: [])), sink: sink)
        #expect(response.status == 200)
        #expect(response.text == #"{"requestId":"req-1","timestamp":1700000070500}"#)
        #expect(sink.batches.isEmpty)
    }

    @Test func acceptsTheGoodRecordsOfABatchWithABadOne() throws {
        let sink = RecordingSink()
        let body = envelope(records: [
            Array((durationLine + "\n").utf8), Array("{\"namespace\": \"AWS/Lambda\", oops}\n".utf8),
            Array((invocationsLine + "\n").utf8),
        ])
        let response = try makeAdapter().handle(firehoseRequest(body), sink: sink)
        #expect(response.status == 200)
        #expect(response.text == #"{"requestId":"req-1","timestamp":1700000070500}"#)
        #expect(sink.batches == [TelemetryBatch(points: [durationPoint, invocationsPoint])])
    }

    @Test func refusesTheWholeBatchWhenConfiguredToRejectMalformedRecords() throws {
        let sink = RecordingSink()
        let body = envelope(records: [Array((durationLine + "\n").utf8), Array("{\"namespace\": \"AWS/Lambda\", oops}\n".utf8)])
        let response = try makeAdapter(["reject_malformed_records": .bool(true)]).handle(firehoseRequest(body), sink: sink)
        #expect(response.status == 400)
        #expect(
            response.text
                == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"malformed record: record 1 line 1: invalid_json: unexpected character at byte 28"}"#
        )
        #expect(sink.batches.isEmpty)
    }

    @Test func emitsHugeRequestsInChunks() throws {
        let sink = RecordingSink()
        let lines = (0..<5).map { durationLine.replacingOccurrences(of: "checkout", with: "fn-\($0)") }
        let response = try makeAdapter(["max_points_per_emit": .number(2)]).handle(firehoseRequest(envelope(lines: lines)), sink: sink)
        #expect(response.status == 200)
        #expect(sink.batches.map(\.points.count) == [2, 2, 1])
        #expect(sink.batches.flatMap(\.points).map(\.function) == ["fn-0", "fn-1", "fn-2", "fn-3", "fn-4"])
    }

    @Test func stopsAtTheFirstBusyChunk() throws {
        let sink = RecordingSink(answer: .busy(retryAfterMilliseconds: 0))
        let lines = (0..<5).map { durationLine.replacingOccurrences(of: "checkout", with: "fn-\($0)") }
        let response = try makeAdapter(["max_points_per_emit": .number(2)]).handle(firehoseRequest(envelope(lines: lines)), sink: sink)
        #expect(response.status == 503)
        #expect(sink.batches.map(\.points.count) == [2])
    }

    @Test func addsCommonAttributesAsLabels() throws {
        let sink = RecordingSink()
        let header = #"{"commonAttributes":{"deployment.environment":"prod","FunctionName":"ignored"}}"#
        let response = try makeAdapter().handle(
            firehoseRequest(envelope(lines: [durationLine]), extraHeaders: [(name: "X-Amz-Firehose-Common-Attributes", value: header)]),
            sink: sink)
        #expect(response.status == 200)
        var expected = durationPoint
        expected.labels = Label.canonical(expected.labels + [Label("deployment.environment", "prod")])
        #expect(sink.batches == [TelemetryBatch(points: [expected])])
    }

    @Test func formatsHostRejectionsInFirehoseResponses() throws {
        let response = try makeAdapter().reject(
            firehoseRequest([]), status: 413, message: "request body exceeds 67108864 bytes (server.max_body_bytes)")
        #expect(response.status == 413)
        #expect(response.contentType == "application/json")
        #expect(
            response.text
                == #"{"requestId":"req-1","timestamp":1700000070500,"errorMessage":"request body exceeds 67108864 bytes (server.max_body_bytes)"}"#
        )
    }

    @Test func reportsEveryConfigurationProblemAtOnce() {
        #expect {
            _ = try makeAdapter([
                "path": .string("firehose"), "record_format": .string("xml"), "max_points_per_emit": .number(0),
                "reject_malformed_record": .bool(true),
            ])
        } throws: { error in
            (error as? PluginConfigError)?.problems == [
                "path: must start with '/', not 'firehose'",
                "record_format: must be one of auto, json, opentelemetry1.0, not 'xml'",
                "max_points_per_emit: must be between 1 and 1000000, not 0",
                "reject_malformed_record: unknown key 'reject_malformed_record' (did you mean 'reject_malformed_records'?)",
            ]
        }
    }

    @Test func defaultsMatchTheREADME() throws {
        let s = try makeAdapter().settings
        #expect(s == FirehoseSettings.default)
        #expect(s.path == "/firehose")
        #expect(s.accessKeys == [])
        #expect(s.recordFormat == .auto)
        #expect(s.rejectMalformedRecords == false)
        #expect(s.maxPointsPerEmit == 10_000)
    }
}
