// OTLP/HTTP response bodies: Export*ServiceResponse (with partial_success) and google.rpc.Status, in either encoding.
import FireflyModel
import FireflyWire
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The two OTLP/HTTP body encodings; the response always mirrors the request's.
enum OTLPEncoding {
    case protobuf
    case json

    var contentType: String {
        switch self {
        case .protobuf: return "application/x-protobuf"
        case .json: return "application/json"
        }
    }

    /// From a Content-Type header: the media type only (parameters such as charset ignored),
    /// case-insensitive; nil for anything else.
    init?(contentType: String?) {
        guard let contentType else { return nil }
        let media = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch media.trimmed(keepingNewlines: true).lowercased() {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }
}

/// gRPC status codes used in `google.rpc.Status.code`.
enum RPCCode: Int32 {
    case resourceExhausted = 8
    case invalidArgument = 3
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case unauthenticated = 16
}

/// Which export the request was, for the response message's field names.
enum Signal: String {
    case traces
    case metrics
    case logs

    /// `rejected_spans` / `rejected_data_points` / `rejected_log_records` as lowerCamelCase JSON.
    var rejectedJSONKey: String {
        switch self {
        case .traces: "rejectedSpans"
        case .metrics: "rejectedDataPoints"
        case .logs: "rejectedLogRecords"
        }
    }

    /// The request message's name, for decoding errors.
    var requestName: String {
        switch self {
        case .traces: "ExportTraceServiceRequest"
        case .metrics: "ExportMetricsServiceRequest"
        case .logs: "ExportLogsServiceRequest"
        }
    }

    /// The item counted in the receiver's `<unit>_accepted` / `<unit>_rejected` counters.
    var unit: String {
        switch self {
        case .traces: "spans"
        case .metrics: "data_points"
        case .logs: "log_records"
        }
    }

    /// How many items of this signal a decoded batch holds (invocations ride along with logs and
    /// are not counted as items: they are derived from log records).
    func kept(_ batch: TelemetryBatch) -> Int {
        switch self {
        case .traces: batch.spans.count
        case .metrics: batch.points.count
        case .logs: batch.logs.count
        }
    }
}

enum OTLPResponses {
    /// Longest `error_message` sent back (OTLP asks responses to stay small).
    static let maxMessageBytes = 1024

    /// 200 with `Export<Signal>ServiceResponse`: empty (binary: zero bytes; JSON: `{}`) on full
    /// success, `partial_success {rejected, error_message}` when items were dropped.
    static func success(_ encoding: OTLPEncoding, signal: Signal, rejected: Int, message: String) -> PluginResponse {
        let message = trimmed(message)
        let body: [UInt8]
        switch encoding {
        case .protobuf:
            body = exportResponseProto(rejected: rejected, message: message)
        case .json:
            if rejected == 0 && message.isEmpty {
                body = Array("{}".utf8)
            } else {
                var fields: [String] = []
                if rejected != 0 { fields.append("\"\(signal.rejectedJSONKey)\":\"\(rejected)\"") }
                if !message.isEmpty { fields.append("\"errorMessage\":" + JSONText.quote(message)) }
                body = Array("{\"partialSuccess\":{\(fields.joined(separator: ","))}}".utf8)
            }
        }
        return PluginResponse(status: 200, contentType: encoding.contentType, body: body)
    }

    /// `Export<Signal>ServiceResponse` in protobuf (both signals share the layout): zero bytes on
    /// full success, else `partial_success` (field 1) {rejected (1), error_message (2)}.
    /// `message` must already be trimmed.
    static func exportResponseProto(rejected: Int, message: String) -> [UInt8] {
        if rejected == 0 && message.isEmpty { return [] }
        var w = ProtobufWriter()
        w.message(1) { p in
            if rejected != 0 { p.varintField(1, UInt64(rejected)) }
            if !message.isEmpty { p.stringField(2, message) }
        }
        return w.bytes
    }

    /// An error status with a `google.rpc.Status {code, message}` body in the request's encoding.
    static func status(
        _ http: Int, _ code: RPCCode, _ message: String, _ encoding: OTLPEncoding,
        headers: [(name: String, value: String)] = []
    ) -> PluginResponse {
        let message = trimmed(message)
        let body: [UInt8]
        switch encoding {
        case .protobuf:
            var w = ProtobufWriter()
            w.varintField(1, UInt64(code.rawValue))
            w.stringField(2, message)
            body = w.bytes
        case .json:
            body = Array("{\"code\":\(code.rawValue),\"message\":\(JSONText.quote(message))}".utf8)
        }
        return PluginResponse(status: http, contentType: encoding.contentType, headers: headers, body: body)
    }

    static func trimmed(_ message: String) -> String {
        guard message.utf8.count > maxMessageBytes else { return message }
        var cut = String(decoding: message.utf8.prefix(maxMessageBytes - 3), as: UTF8.self)
        if cut.last == "\u{FFFD}" { cut.removeLast() }
        return cut + "..."
    }
}
