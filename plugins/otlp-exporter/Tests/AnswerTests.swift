// What receivers' answers mean, as the OTLP specification says.
import FireflyWire
import OTLPExporter
import Testing

@Suite struct AnswerTests {
    @Test func httpRetriesOnlyWhatTheSpecificationAllows() {
        for status: UInt in [429, 502, 503, 504] {
            #expect(
                OTLPAnswer.http(status: status, retryAfter: .seconds(3), body: Array("busy".utf8), signal: .traces)
                    == .retryable(after: .seconds(3), message: "HTTP \(status): busy"))
        }
        for status: UInt in [400, 401, 403, 404, 413, 500, 501] {
            guard case .permanent = OTLPAnswer.http(status: status, retryAfter: nil, body: [], signal: .traces) else {
                Issue.record("HTTP \(status) should be permanent")
                continue
            }
        }
    }

    @Test func httpErrorBodiesAreReadAsGoogleRPCStatus() {
        var w = ProtobufWriter()
        w.varintField(1, 3)
        w.stringField(2, "cannot decode ExportTraceServiceRequest")
        #expect(
            OTLPAnswer.http(status: 400, retryAfter: nil, body: w.bytes, signal: .traces)
                == .permanent(message: "HTTP 400: cannot decode ExportTraceServiceRequest"))
    }

    @Test func partialSuccessIsAcceptedWithItsCount() {
        // The spec's bytes: partial_success {rejected_spans 3, error_message "3 spans had invalid trace_id"}.
        let message = Array("3 spans had invalid trace_id".utf8)
        let body: [UInt8] = [0x0a, UInt8(4 + message.count), 0x08, 0x03, 0x12, UInt8(message.count)] + message
        #expect(
            OTLPAnswer.http(status: 200, retryAfter: nil, body: body, signal: .traces)
                == .accepted(rejected: 3, message: "3 spans had invalid trace_id"))
        #expect(
            OTLPAnswer.http(status: 200, retryAfter: nil, body: [], signal: .traces)
                == .accepted(rejected: 0, message: ""))
    }

    @Test func grpcCodesFollowTheSpecification() {
        for code in [1, 4, 10, 11, 14, 15] {
            guard case .retryable = OTLPAnswer.grpc(code: code, message: "m", retryAfter: nil) else {
                Issue.record("gRPC code \(code) should be retryable")
                continue
            }
        }
        for code in [2, 3, 5, 6, 7, 9, 12, 13, 16] {
            guard case .permanent = OTLPAnswer.grpc(code: code, message: "m", retryAfter: nil) else {
                Issue.record("gRPC code \(code) should be permanent")
                continue
            }
        }
        #expect(
            OTLPAnswer.grpc(code: 8, message: "slow down", retryAfter: .seconds(2))
                == .retryable(after: .seconds(2), message: "gRPC RESOURCE_EXHAUSTED: slow down"))
        #expect(
            OTLPAnswer.grpc(code: 8, message: "too big", retryAfter: nil)
                == .permanent(message: "gRPC RESOURCE_EXHAUSTED: too big"))
        #expect(
            OTLPAnswer.grpc(code: 3, message: "bad", retryAfter: nil)
                == .permanent(message: "gRPC INVALID_ARGUMENT: bad"))
    }
}
