import Foundation
import Testing

@testable import FireflyModel

@Suite struct ModelTests {
    @Test func labelsAreSortedByteWiseWithTheLastDuplicateWinning() {
        let labels = Label.canonical([Label("b", "1"), Label("_x", "2"), Label("B", "3"), Label("b", "4")])
        #expect(labels == [Label("B", "3"), Label("_x", "2"), Label("b", "4")])
        let point = MetricPoint(name: "m", kind: .gauge, labels: [Label("z", "1"), Label("a", "2")], timeUnixNano: 1)
        #expect(point.labels.map(\.key) == ["a", "z"])
        #expect(point.label("z") == "1")
    }

    @Test func idsConvertBetweenBytesAndHex() throws {
        let trace = try #require(TraceID(hex: "0AF7651916CD43DD8448EB211C80319C"))
        #expect(trace.description == "0af7651916cd43dd8448eb211c80319c")
        #expect(TraceID(bytes: trace.bytes) == trace)
        #expect(SpanID(hex: "b7ad6b7169203331")?.value == 0xb7ad6b7169203331)
        #expect(TraceID(hex: "xyz") == nil)
        #expect(SpanID(hex: "00") == nil)
        #expect(!TraceID.zero.isValid)
    }

    @Test func functionIsFaasNameThenServiceName() {
        #expect(FunctionResolver.function(spanAttributes: [Attribute("faas.name", .string("pay"))],
                                          resourceAttributes: [Attribute("service.name", .string("svc"))]) == "pay")
        #expect(FunctionResolver.function(spanAttributes: [], resourceAttributes: [Attribute("service.name", .string("svc"))]) == "svc")
        #expect(FunctionResolver.function(spanAttributes: [], resourceAttributes: []) == "")
        #expect(FunctionResolver.function(cloudWatchDimensions: [Label("FunctionName", "checkout")]) == "checkout")
    }

    @Test func coldStartComesFromTheSpanAttribute() {
        var span = Span(traceID: TraceID(high: 1, low: 1), spanID: SpanID(1), name: "s", startTimeUnixNano: 0, endTimeUnixNano: 1)
        #expect(!span.isColdStart)
        span.attributes = [Attribute("faas.coldstart", .bool(true))]
        #expect(span.isColdStart)
    }

    @Test func debugRecordsRoundTripThroughJSON() throws {
        let span = Span(
            traceID: TraceID(high: 0x0102, low: 0x0304), spanID: SpanID(5), parentSpanID: SpanID(6), name: "GET /",
            kind: .server, statusCode: .error, startTimeUnixNano: 10, endTimeUnixNano: 20,
            attributes: [Attribute("i", .int(-3)), Attribute("b", .bytes([0, 255])), Attribute("j", .json("[1,2]"))])
        let data = try JSONEncoder().encode(DebugRecord(span: span))
        #expect(String(decoding: data, as: UTF8.self).contains(#""traceID":"00000000000001020000000000000304""#))
        #expect(try JSONDecoder().decode(DebugRecord.self, from: data).span == span)
    }

    @Test func suggestionsFindCloseWordsOnly() {
        #expect(Suggestion.closest(to: "max_body_byte", among: ["listen", "max_body_bytes"]) == "max_body_bytes")
        #expect(Suggestion.closest(to: "exproters", among: ["exporters", "receivers"]) == "exporters")
        #expect(Suggestion.closest(to: "colour", among: ["path"]) == nil)
    }
}
