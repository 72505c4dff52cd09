// Requests and configuration shared by the poisoned-batch and dead-letter tests: every receiver
// (Firehose, OTLP/HTTP, a webhook) into the postgres exporter, and the dead-letter file read back.
import FireflyModel
import FireflyTestSupport
import Foundation

enum Poison {
    /// Firehose, OTLP and the webhook `webhook/events` (`/hooks/events`, no auth) into PostgreSQL on
    /// `schema`, batching for `batchWait` so requests of several clients share a batch.
    static func config(schema: String, batchWait: String = "300ms") -> String {
        """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        queue:
          batch_max_wait: \(batchWait)
          retry_initial: 100ms
          retry_max: 1s
        receivers:
          firehose:
          otlp:
            grpc: {listen: 127.0.0.1:0}
          webhook/events:
            path: /hooks/events
            metrics:
              - name: event_value
                value: value
                function: {path: fn, default: ""}
                labels: {client: client, seq: seq, tag: {path: tag, default: ""}}
        exporters:
          postgres:
            url: \(TestPostgres.url ?? "")
            schema: \(schema)
        pipelines:
          metrics: {receivers: [firehose, otlp, webhook/events], exporters: [postgres]}
          traces: {receivers: [otlp], exporters: [postgres]}
        """
    }

    static let plugins = TestPostgres.collectorPlugins + ["FireflyWebhookPlugin"]

    /// A JSON string literal of `text` (quotes and escapes included).
    static func json(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    /// One Firehose delivery of CloudWatch JSON records; each record's JSON is given whole.
    static func firehose(records: [String]) -> Data {
        firehose(records: records.map { Data($0.utf8) })
    }

    /// One Firehose delivery of records given as bytes (which need not be UTF-8).
    static func firehose(records: [Data]) -> Data {
        let encoded = records.map { #"{"data":"\#($0.base64EncodedString())"}"# }.joined(separator: ",")
        return Data(#"{"requestId":"\#(UUID().uuidString)","timestamp":1700000000000,"records":[\#(encoded)]}"#.utf8)
    }

    /// A CloudWatch metric stream record; `dimensions` is JSON object text, other strings go in as JSON text too.
    static func cloudWatchRecord(namespace: String = #""Firefly/Poison""#, metric: String, dimensions: String, value: Int) -> String {
        #"{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":\#(namespace),"metric_name":\#(metric),"dimensions":\#(dimensions),"timestamp":1700000000000,"value":{"max":\#(value),"min":0,"sum":\#(value),"count":1},"unit":"Count"}"#
    }

    /// OTLP/JSON traces: one span per (name JSON, attributes JSON array), under a resource whose
    /// attributes are `resource` (JSON array text).
    static func otlpSpans(resource: String, spans: [(name: String, attributes: String)], seq: Int, statusMessage: String = #""""#) -> Data {
        let start = 1_700_000_000_000_000_000 + UInt64(seq) * 1_000_000
        let list = spans.enumerated().map { i, s in
            let trace = String(format: "%016x%016x", seq + 1, i + 1), span = String(format: "%016x", seq * 1000 + i + 1)
            return #"{"traceId":"\#(trace)","spanId":"\#(span)","name":\#(s.name),"kind":2,"startTimeUnixNano":"\#(start)","endTimeUnixNano":"\#(start + 5000)","attributes":\#(s.attributes),"status":{"code":2,"message":\#(statusMessage)}}"#
        }.joined(separator: ",")
        return Data(#"{"resourceSpans":[{"resource":{"attributes":\#(resource)},"scopeSpans":[{"scope":{"name":"t"},"spans":[\#(list)]}]}]}"#.utf8)
    }

    /// OTLP/JSON metrics: one gauge `name` (JSON text) with one point whose attributes are `attributes`.
    static func otlpGauge(resource: String, name: String, attributes: String, seq: Int) -> Data {
        let time = 1_700_000_000_000_000_000 + UInt64(seq) * 1_000_000
        return Data(#"{"resourceMetrics":[{"resource":{"attributes":\#(resource)},"scopeMetrics":[{"scope":{"name":"t"},"metrics":[{"name":\#(name),"gauge":{"dataPoints":[{"asDouble":\#(seq),"timeUnixNano":"\#(time)","attributes":\#(attributes)}]}}]}]}]}"#.utf8)
    }

    static func stringAttribute(_ key: String, _ valueJSON: String) -> String {
        #"{"key":"\#(key)","value":{"stringValue":\#(valueJSON)}}"#
    }

    /// Posts and returns the status (0 when there was no answer).
    static func post(_ url: String, _ body: Data, contentType: String = "application/json") async -> Int {
        (try? await http("POST", url, body: body, headers: ["Content-Type": contentType]).status) ?? 0
    }

    /// One line of the dead-letter file.
    struct DeadLetter: Decodable {
        var exporter: String
        var reason: String
        var batch: TelemetryBatch
    }

    static func deadLetters(_ ws: Workspace) throws -> [DeadLetter] {
        try ws.read(".firefly/queue/dead-letters.jsonl").split(separator: "\n").map {
            try JSONDecoder().decode(DeadLetter.self, from: Data($0.utf8))
        }
    }

    /// `data` with the first `placeholder` replaced by bytes that are not UTF-8.
    static func invalidUTF8(in data: Data, replacing placeholder: String) -> Data {
        guard let range = data.range(of: Data(placeholder.utf8)) else { return data }
        var out = data
        out.replaceSubrange(range, with: Data("\"bad".utf8) + Data([0xFF, 0xFE, 0xC3]) + Data("name\"".utf8))
        return out
    }

    /// A random hex string: PostgreSQL compresses an index row before checking its 2 704-byte limit,
    /// and hex of this length does not compress below it.
    static func long(_ count: Int = 6000) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in "0123456789abcdef".randomElement(using: &generator)! })
    }
}
