import FireflyOTLP
import FireflyModel
import Foundation
import Testing
@testable import FireflyDemo

@Suite struct OTLPRequestEncoderTests {
    static let resource = [
        Attribute("service.name", .string("checkout-api")), Attribute("faas.name", .string("checkout-api")),
        Attribute("cloud.provider", .string("aws")), Attribute("cloud.region", .string("eu-west-1")),
        Attribute("faas.max_memory", .int(536_870_912)),
    ]

    static let spans = [
        Span(
            traceID: TraceID(hex: "5b8efff798038103d269b633813fc60c")!, spanID: SpanID(hex: "eee19b7ec3c1b174")!,
            name: "POST /checkout", kind: .server, statusCode: .error, statusMessage: "TypeError: boom",
            startTimeUnixNano: 1_700_000_000_000_000_000, endTimeUnixNano: 1_700_000_000_250_000_000,
            scopeName: "firefly.demo", scopeVersion: "1.0.0",
            attributes: [
                Attribute("faas.trigger", .string("http")), Attribute("faas.coldstart", .bool(true)),
                Attribute("http.response.status_code", .int(500)), Attribute("ratio", .double(0.25)),
            ],
            resourceAttributes: resource,
            events: [
                SpanEvent(
                    timeUnixNano: 1_700_000_000_249_000_000, name: "exception",
                    attributes: [Attribute("exception.type", .string("TypeError"))])
            ]),
        Span(
            traceID: TraceID(hex: "5b8efff798038103d269b633813fc60c")!, spanID: SpanID(hex: "0102030405060708")!,
            parentSpanID: SpanID(hex: "eee19b7ec3c1b174")!, name: "orders send", kind: .producer,
            startTimeUnixNano: 1_700_000_000_100_000_000, endTimeUnixNano: 1_700_000_000_110_000_000,
            scopeName: "firefly.demo", scopeVersion: "1.0.0",
            attributes: [Attribute("messaging.system", .string("aws_sqs"))], resourceAttributes: resource),
    ]

    @Test func decodesWithTheOfficialProtobufClasses() throws {
        let body = OTLPRequestEncoder.traces(Self.spans)
        let decoded = try #require(try PythonDecoder.run(PythonDecoder.traces, input: body) as? [[String: Any]])
        #expect(decoded.count == 1)
        let resource = try #require(decoded[0]["resource"] as? [String: Any])
        #expect(resource["service.name"] as? String == "checkout-api")
        #expect(resource["cloud.region"] as? String == "eu-west-1")
        #expect(resource["faas.max_memory"] as? Int == 536_870_912)
        let scopes = try #require(decoded[0]["scopes"] as? [[String: Any]])
        #expect(scopes.count == 1)
        #expect(scopes[0]["name"] as? String == "firefly.demo")
        #expect(scopes[0]["version"] as? String == "1.0.0")
        let spans = try #require(scopes[0]["spans"] as? [[String: Any]])
        #expect(spans.count == 2)
        let root = spans[0]
        #expect(root["trace_id"] as? String == "5b8efff798038103d269b633813fc60c")
        #expect(root["span_id"] as? String == "eee19b7ec3c1b174")
        #expect(root["parent"] as? String == "")
        #expect(root["name"] as? String == "POST /checkout")
        #expect(root["kind"] as? Int == 2)
        #expect(root["start"] as? String == "1700000000000000000")
        #expect(root["end"] as? String == "1700000000250000000")
        #expect(root["status_code"] as? Int == 2)
        #expect(root["status_message"] as? String == "TypeError: boom")
        let attributes = try #require(root["attributes"] as? [String: Any])
        #expect(attributes["faas.trigger"] as? String == "http")
        #expect(attributes["faas.coldstart"] as? Bool == true)
        #expect(attributes["http.response.status_code"] as? Int == 500)
        #expect(attributes["ratio"] as? Double == 0.25)
        let events = try #require(root["events"] as? [[String: Any]])
        #expect(events.count == 1)
        #expect(events[0]["name"] as? String == "exception")
        #expect(events[0]["time"] as? String == "1700000000249000000")
        #expect((events[0]["attributes"] as? [String: Any])?["exception.type"] as? String == "TypeError")
        let child = spans[1]
        #expect(child["parent"] as? String == "eee19b7ec3c1b174")
        #expect(child["kind"] as? Int == 4)
        #expect(child["status_code"] as? Int == 0)
    }

    @Test func spansOfDifferentResourcesGetTheirOwnResourceSpans() throws {
        var other = Self.spans[1]
        other.resourceAttributes = [Attribute("service.name", .string("order-processor"))]
        let body = OTLPRequestEncoder.traces([Self.spans[0], other, Self.spans[1]])
        let decoded = try #require(try PythonDecoder.run(PythonDecoder.traces, input: body) as? [[String: Any]])
        let services = decoded.map { ($0["resource"] as? [String: Any])?["service.name"] as? String }
        #expect(services == ["checkout-api", "order-processor"])
        let counts = decoded.map { (($0["scopes"] as? [[String: Any]])?[0]["spans"] as? [Any])?.count }
        #expect(counts == [2, 1])
    }
}
