// OTLP/HTTP protocol behaviour: status codes, bodies and headers for every answer the receiver gives.
import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Foundation
import OTLPAdapter
import Testing

@Suite struct ProtocolTests {
    @Test func fullSuccessAnswersAnEmptyProtobufResponse() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/traces", try fixture.bytes("traces.pb")), sink: sink)
        #expect(response.status == 200)
        #expect(response.contentType == "application/x-protobuf")
        #expect(response.body.isEmpty)
        #expect(sink.batches.first?.spans.count == 4)
    }

    @Test func fullSuccessAnswersAnEmptyJSONObject() throws {
        let response = try makeAdapter().handle(
            post("/v1/metrics", try fixture.bytes("metrics.json"), contentType: "application/json; charset=utf-8"),
            sink: RecordingSink())
        #expect(response.status == 200)
        #expect(response.contentType == "application/json")
        #expect(response.text == "{}")
    }

    @Test func anEmptyRequestIsAcknowledgedWithoutEmitting() throws {
        let sink = RecordingSink()
        let pb = try makeAdapter().handle(post("/v1/traces", []), sink: sink)
        let json = try makeAdapter().handle(post("/v1/metrics", Array("{}".utf8), contentType: "application/json"), sink: sink)
        #expect(pb.status == 200 && pb.body.isEmpty)
        #expect(json.status == 200 && json.text == "{}")
        #expect(sink.batches.isEmpty)
    }

    @Test func unsupportedContentTypeAnswers415() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/traces", [1, 2], contentType: "text/plain"), sink: sink)
        #expect(response.status == 415)
        #expect(response.contentType == "text/plain; charset=utf-8")
        #expect(response.text == "415 unsupported media type 'text/plain': send application/x-protobuf or application/json\n")
        let missing = try makeAdapter().handle(post("/v1/traces", [1, 2], contentType: nil), sink: sink)
        #expect(missing.status == 415)
        #expect(sink.batches.isEmpty)
    }

    @Test func malformedJSONAnswers400WithAStatusInJSON() throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(
            post("/v1/traces", Array(#"{"resourceSpans": [}"#.utf8), contentType: "application/json"), sink: sink)
        #expect(response.status == 400)
        #expect(response.contentType == "application/json")
        #expect(
            response.text
                == #"{"code":3,"message":"cannot decode ExportTraceServiceRequest (JSON): invalid JSON at byte 19: unexpected character"}"#
        )
        #expect(sink.batches.isEmpty)
    }

    @Test func jsonWithAWrongTypeForAKnownFieldAnswers400() throws {
        let response = try makeAdapter().handle(
            post("/v1/metrics", Array(#"{"resourceMetrics": 5}"#.utf8), contentType: "application/json"),
            sink: RecordingSink())
        #expect(response.status == 400)
        #expect(
            response.text
                == #"{"code":3,"message":"cannot decode ExportMetricsServiceRequest (JSON): resourceMetrics: expected an array"}"#)
    }

    @Test(arguments: [
        // Truncated: the spec's C.6 request minus its last byte (the outer length now overruns).
        (Array(SpecExample.traceRequest.dropLast()), "length 151 at byte 3 runs past the end of its message (150 bytes left)"),
        // Truncated inside a fixed64 field.
        ([0x0A, 0x02, 0x39, 0x00], "message truncated at byte 3"),
        // Truncated inside a varint.
        ([0x0A, 0x02, 0x08, 0x80], "message truncated at byte 4"),
        // Wire type 3 (start group) never occurs in OTLP.
        ([0x0B], "invalid wire type 3 for field 1 at byte 1"),
        // A length running past the end of the body.
        ([0x0A, 0x05, 0x01], "length 5 at byte 2 runs past the end of its message (1 bytes left)"),
        // A nested length running past the end of its parent message.
        ([0x0A, 0x03, 0x12, 0x05, 0x00], "length 5 at byte 4 runs past the end of its message (1 bytes left)"),
        // A varint longer than 64 bits.
        ([0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01], "varint overflows 64 bits at byte 10"),
        // Field number 0.
        ([0x02, 0x00], "invalid field number 0 at byte 1"),
    ] as [([UInt8], String)])
    func malformedProtobufAnswers400WithAStatusInProtobuf(body: [UInt8], detail: String) throws {
        let sink = RecordingSink()
        let response = try makeAdapter().handle(post("/v1/traces", body), sink: sink)
        #expect(response.status == 400)
        #expect(response.contentType == "application/x-protobuf")
        #expect(response.body == rpcStatusBytes(code: 3, message: "cannot decode ExportTraceServiceRequest (protobuf): \(detail)"))
        #expect(sink.batches.isEmpty)
    }

    @Test func wrongBearerTokenAnswers401() throws {
        let adapter = try makeAdapter(["bearer_token": .string("s3cret")])
        let sink = RecordingSink()
        let body = try fixture.bytes("traces.pb")
        let wrong = adapter.handle(post("/v1/traces", body, headers: [(name: "Authorization", value: "Bearer s3cre")]), sink: sink)
        #expect(wrong.status == 401)
        #expect(wrong.contentType == "application/x-protobuf")
        #expect(wrong.body == rpcStatusBytes(code: 16, message: "missing or invalid bearer token"))
        #expect(wrong.header("WWW-Authenticate") == "Bearer")
        let missing = adapter.handle(post("/v1/traces", Array("{}".utf8), contentType: "application/json"), sink: sink)
        #expect(missing.status == 401)
        #expect(missing.text == #"{"code":16,"message":"missing or invalid bearer token"}"#)
        let longer = adapter.handle(post("/v1/traces", body, headers: [(name: "authorization", value: "Bearer s3cretX")]), sink: sink)
        #expect(longer.status == 401)
        #expect(sink.batches.isEmpty)
        let right = adapter.handle(post("/v1/traces", body, headers: [(name: "Authorization", value: "bearer s3cret")]), sink: sink)
        #expect(right.status == 200)
        #expect(sink.batches.count == 1)
    }

    @Test func busySinkAnswers503WithRetryAfter() throws {
        let body = try fixture.bytes("traces.pb")
        let noHint = try makeAdapter().handle(post("/v1/traces", body), sink: RecordingSink(answer: .busy(retryAfterMilliseconds: 0)))
        #expect(noHint.status == 503)
        #expect(noHint.header("Retry-After") == "5")
        #expect(noHint.contentType == "application/x-protobuf")
        #expect(noHint.body == rpcStatusBytes(code: 14, message: "the collector's queue is full; retry later"))
        let hint = try makeAdapter(["retry_after_seconds": .number(9)]).handle(
            post("/v1/traces", body), sink: RecordingSink(answer: .busy(retryAfterMilliseconds: 1500)))
        #expect(hint.status == 503)
        #expect(hint.header("Retry-After") == "2")
    }

    @Test func busyStatusCanBe429() throws {
        let response = try makeAdapter(["busy_status": .number(429), "retry_after_seconds": .number(7)]).handle(
            post("/v1/metrics", try fixture.bytes("metrics.json"), contentType: "application/json"),
            sink: RecordingSink(answer: .busy(retryAfterMilliseconds: 0)))
        #expect(response.status == 429)
        #expect(response.header("Retry-After") == "7")
        #expect(response.text == #"{"code":8,"message":"the collector's queue is full; retry later"}"#)
    }

    @Test func closedSinkAnswers503() throws {
        let response = try makeAdapter(["busy_status": .number(429)]).handle(
            post("/v1/traces", try fixture.bytes("traces.pb")), sink: RecordingSink(answer: .closed(retryAfterMilliseconds: 0)))
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "5")
        #expect(response.body == rpcStatusBytes(code: 14, message: "the collector is shutting down; retry later"))
    }

    @Test func anEmptyLogsRequestIsAcknowledgedInBothEncodings() throws {
        let sink = RecordingSink()
        let pb = try makeAdapter().handle(post("/v1/logs", [0x0A, 0x00]), sink: sink)
        #expect(pb.status == 200)
        #expect(pb.contentType == "application/x-protobuf")
        #expect(pb.body.isEmpty)
        let json = try makeAdapter().handle(post("/v1/logs", Array("{}".utf8), contentType: "application/json"), sink: sink)
        #expect(json.status == 200)
        #expect(json.text == "{}")
        #expect(sink.batches.isEmpty)
    }

    @Test func aPathServedByNoSignalIsA404() throws {
        let adapter = try makeAdapter(["logs_path": .string("")])
        #expect(!adapter.routes.contains(Route("POST", "/v1/logs")))
        let response = adapter.handle(post("/v1/logs", [0x0A, 0x00]), sink: RecordingSink())
        #expect(response.status == 404)
        #expect(response.body == rpcStatusBytes(code: 12, message: "no OTLP signal is served at /v1/logs"))
    }

    @Test func hostRejectionsAreStatusesInTheRequestEncoding() throws {
        let adapter = try makeAdapter()
        let tooLarge = adapter.reject(post("/v1/traces", []), status: 413, message: "request body exceeds 10 bytes")
        #expect(tooLarge.status == 413)
        #expect(tooLarge.body == rpcStatusBytes(code: 3, message: "request body exceeds 10 bytes"))
        let closing = adapter.reject(post("/v1/traces", [], contentType: "application/json"), status: 503, message: "shutting down")
        #expect(closing.status == 503)
        #expect(closing.header("Retry-After") == "5")
        #expect(closing.text == #"{"code":14,"message":"shutting down"}"#)
    }
}
