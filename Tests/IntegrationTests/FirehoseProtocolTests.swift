import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// Details a strict Firehose client checks, through a running `firefly serve`.
@Suite(.serialized) struct FirehoseProtocolTests {
    static func config(rejectMalformed: Bool) -> String {
        """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        receivers:
          firehose:
            reject_malformed_records: \(rejectMalformed)
        exporters:
          debug:
            path: out.jsonl
        pipelines:
          metrics: {receivers: [firehose], exporters: [debug]}
        """
    }

    static func envelope(requestId: String, lines: [String]) -> Data {
        let records = lines.map { #"{"data":"\#(Data($0.utf8).base64EncodedString())"}"# }.joined(separator: ",")
        return Data(#"{"requestId":"\#(requestId)","timestamp":1700000000000,"records":[\#(records)]}"#.utf8)
    }

    static let invocations = #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/Lambda","metric_name":"Invocations","dimensions":{"FunctionName":"checkout"},"timestamp":1700000000000,"value":{"max":1.0,"min":1.0,"sum":3.0,"count":3.0},"unit":"Count"}"#

    func post(_ server: FireflyServer, _ body: Data, requestId: String) async throws -> (HTTPResult, [String: Any]) {
        let r = try await http("POST", server.baseURL + "/firehose", body: body, headers: [
            "Content-Type": "application/json", "X-Amz-Firehose-Request-Id": requestId,
        ])
        let json = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] ?? [:]
        return (r, json)
    }

    /// The answer carries the header's request id — the one Firehose matches it against — also when
    /// the body names another.
    @Test func answersCarryTheHeadersRequestId() async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config(rejectMalformed: false))
        defer { server.stop() }
        let (same, sameJSON) = try await post(server, Self.envelope(requestId: "id-1", lines: [Self.invocations]), requestId: "id-1")
        #expect(same.status == 200)
        #expect(sameJSON["requestId"] as? String == "id-1")
        let (differ, differJSON) = try await post(server, Self.envelope(requestId: "body-id", lines: [Self.invocations]), requestId: "header-id")
        #expect(differ.status == 400)
        #expect(differJSON["requestId"] as? String == "header-id", "\(differ.body)")
        #expect((differJSON["errorMessage"] as? String)?.contains("different request id") == true)
    }

    /// With `reject_malformed_records: true` the log says the requests are refused, not that records
    /// are skipped; without it, that they are skipped.
    @Test(arguments: [true, false])
    func theMalformedRecordLogSaysWhatHappens(rejectMalformed: Bool) async throws {
        let ws = try Workspace(plugins: ["FireflyFirehosePlugin", "FireflyDebugPlugin"])
        let server = try FireflyServer(workspace: ws, config: Self.config(rejectMalformed: rejectMalformed))
        defer { server.stop() }
        let (r, _) = try await post(server, Self.envelope(requestId: "m-1", lines: [Self.invocations, "not json"]), requestId: "m-1")
        #expect(r.status == (rejectMalformed ? 400 : 200), "\(r.body)")
        #expect(await eventually { server.logText.contains("malformed records") }, "\(server.logText)")
        #expect(server.logText.contains("refusing requests (400) that hold malformed records") == rejectMalformed)
        #expect(server.logText.contains("skipping malformed records") == !rejectMalformed)
    }
}
