// Decoding the fixtures made by the OpenTelemetry Python classes (testdata/make_fixtures.py).
import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Foundation
import OTLPAdapter
import Testing

/// Feeds a fixture through the adapter and returns the one batch it emitted.
func decodeFixture(_ file: String, path: String, contentType: String) throws -> TelemetryBatch {
    let sink = RecordingSink()
    let response = try makeAdapter().handle(post(path, try fixture.bytes(file), contentType: contentType), sink: sink)
    #expect(response.status == 200, "\(file): \(response.text)")
    #expect(sink.batches.count == 1)
    return sink.batches.first ?? TelemetryBatch()
}

func expectSpansEqual(_ got: [Span], _ want: [Span]) {
    #expect(got.count == want.count)
    for (g, w) in zip(got, want) {
        #expect(g.traceID == w.traceID, "\(w.name)")
        #expect(g.spanID == w.spanID, "\(w.name)")
        #expect(g.parentSpanID == w.parentSpanID, "\(w.name)")
        #expect(g.traceState == w.traceState, "\(w.name)")
        #expect(g.name == w.name)
        #expect(g.kind == w.kind, "\(w.name)")
        #expect(g.statusCode == w.statusCode, "\(w.name)")
        #expect(g.statusMessage == w.statusMessage, "\(w.name)")
        #expect(g.startTimeUnixNano == w.startTimeUnixNano, "\(w.name)")
        #expect(g.endTimeUnixNano == w.endTimeUnixNano, "\(w.name)")
        #expect(g.function == w.function, "\(w.name)")
        #expect(g.service == w.service, "\(w.name)")
        #expect(g.scopeName == w.scopeName, "\(w.name)")
        #expect(g.scopeVersion == w.scopeVersion, "\(w.name)")
        #expect(g.attributes == w.attributes, "\(w.name)")
        #expect(g.resourceAttributes == w.resourceAttributes, "\(w.name)")
        #expect(g.events == w.events, "\(w.name)")
        #expect(g.links == w.links, "\(w.name)")
        #expect(g == w)
    }
}

func expectPointsEqual(_ got: [MetricPoint], _ want: [MetricPoint]) {
    #expect(got.count == want.count)
    for (g, w) in zip(got, want) {
        #expect(g.name == w.name)
        #expect(g.namespace == w.namespace, "\(w.name)")
        #expect(g.unit == w.unit, "\(w.name)")
        #expect(g.function == w.function, "\(w.name)")
        #expect(g.kind == w.kind, "\(w.name)")
        #expect(g.isMonotonic == w.isMonotonic, "\(w.name)")
        #expect(g.hasMinMax == w.hasMinMax, "\(w.name)")
        #expect(g.isDelta == w.isDelta, "\(w.name)")
        #expect(g.labels == w.labels, "\(w.name)")
        #expect(g.startTimeUnixNano == w.startTimeUnixNano, "\(w.name)")
        #expect(g.timeUnixNano == w.timeUnixNano, "\(w.name)")
        #expect(g.value == w.value, "\(w.name)")
        #expect(g.count == w.count, "\(w.name)")
        #expect(g.sum == w.sum, "\(w.name)")
        #expect(g.min == w.min, "\(w.name)")
        #expect(g.max == w.max, "\(w.name)")
        #expect(g.quantiles == w.quantiles, "\(w.name)")
        #expect(g.bucketCounts == w.bucketCounts, "\(w.name)")
        // Exponential bucket bounds are powers computed by two math libraries: allow 1e-12 relative.
        #expect(g.bounds.count == w.bounds.count, "\(w.name)")
        for (gb, wb) in zip(g.bounds, w.bounds) {
            #expect(abs(gb - wb) <= 1e-12 * max(1, abs(wb)), "\(w.name): bound \(gb) != \(wb)")
        }
    }
}

@Suite struct FixtureDecodingTests {
    @Test func protobufTracesDecodeToTheExpectedSpans() throws {
        let batch = try decodeFixture("traces.pb", path: "/v1/traces", contentType: "application/x-protobuf")
        expectSpansEqual(batch.spans, try fixture.expected("traces").spans)
        #expect(batch.points.isEmpty)
        // Spot checks of what the fixture is about, independent of the expected file.
        let root = try #require(batch.spans.first)
        #expect(root.traceID.description == "5b8efff798038103d269b633813fc60c")
        #expect(root.isColdStart)
        #expect(root.function == "checkout-fn")
        #expect(root.attributes[key: "tags"] == .json(#"["a",1,true,2.5,"Bw=="]"#))
        #expect(
            root.attributes[key: "request.headers"]
                == .json(#"{"content-type":"application/json","retries":3,"nested":{"list":[1.0,"x"],"flag":false}}"#))
        #expect(root.attributes[key: "payload.digest"] == .bytes([0x00, 0x01, 0xFE, 0xFF]))
        #expect(batch.spans[1].function == "override-fn")
        #expect(batch.spans[1].parentSpanID == root.spanID)
        #expect(batch.spans[3].function == "billing")
    }

    @Test func jsonTracesDecodeToTheSameSpansAsProtobuf() throws {
        let json = try decodeFixture("traces.json", path: "/v1/traces", contentType: "application/json")
        let pb = try decodeFixture("traces.pb", path: "/v1/traces", contentType: "application/x-protobuf")
        #expect(json == pb)
        expectSpansEqual(json.spans, try fixture.expected("traces").spans)
    }

    @Test func protobufMetricsDecodeToTheExpectedPoints() throws {
        let batch = try decodeFixture("metrics.pb", path: "/v1/metrics", contentType: "application/x-protobuf")
        expectPointsEqual(batch.points, try fixture.expected("metrics").points)
        #expect(batch.spans.isEmpty)
        let kinds = batch.points.map(\.kind)
        #expect(kinds == [.gauge, .gauge, .cumulativeSum, .deltaSum, .histogram, .histogram, .summary])
        #expect(batch.points[4].function == "point-fn")
        #expect(batch.points[0].label("host.name") == nil)
        #expect(batch.points[0].label("cloud.account.id") == "123456789012")
    }

    @Test func jsonMetricsDecodeToTheSamePointsAsProtobuf() throws {
        let json = try decodeFixture("metrics.json", path: "/v1/metrics", contentType: "application/json")
        let pb = try decodeFixture("metrics.pb", path: "/v1/metrics", contentType: "application/x-protobuf")
        #expect(json == pb)
        expectPointsEqual(json.points, try fixture.expected("metrics").points)
    }

    @Test(arguments: [("traces_partial.pb", "application/x-protobuf"), ("traces_partial.json", "application/json")])
    func invalidIdsAreRejectedWithPartialSuccess(file: String, contentType: String) throws {
        let expected = try fixture.expectedObject("traces_partial")
        let message = try #require(expected["errorMessage"] as? String)
        #expect(message == "2 rejected; first problem: span 'bad-trace' has an invalid trace_id")
        let sink = RecordingSink()
        let response = try makeAdapter().handle(
            post("/v1/traces", try fixture.bytes(file), contentType: contentType), sink: sink)
        #expect(response.status == 200)
        #expect(response.contentType == contentType)
        if contentType == "application/json" {
            #expect(response.text == #"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"\#(message)"}}"#)
        } else {
            // ExportTraceServiceResponse{partial_success{rejected_spans: 2, error_message}}
            let inner: [UInt8] = [0x08, 0x02, 0x12, UInt8(message.utf8.count)] + Array(message.utf8)
            #expect(response.body == [0x0A, UInt8(inner.count)] + inner)
        }
        expectSpansEqual(sink.batches.first?.spans ?? [], try fixture.expected("traces_partial").spans)
    }
}
