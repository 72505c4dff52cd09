// CloudWatch Logs subscription records (one or more concatenated JSON documents) → log records and invocations.
import FireflyWire
import FireflyModel

/// Decodes the JSON documents a CloudWatch Logs subscription filter writes into a Firehose record
/// (already inflated): `{"messageType":"DATA_MESSAGE","owner","logGroup","logStream",
/// "subscriptionFilters","logEvents":[{"id","timestamp","message"}]}`, possibly several back to
/// back. Every log event becomes one `LogRecord`; Lambda's platform lines (`START`, `REPORT`,
/// `platform.start`, `platform.report`, …) are understood, and each report also becomes an
/// `Invocation`. `CONTROL_MESSAGE` documents (CloudWatch's reachability checks) yield nothing.
///
/// A document that is not valid JSON ends the record (the rest cannot be framed); a document or an
/// event with a missing or mistyped field is rejected alone, the others still count.
struct CloudWatchLogsDecoder {
    /// `observedTimeUnixNano` of every record: when the request was received.
    var observedTimeUnixNano: UInt64
    /// `X-Amz-Firehose-Common-Attributes`, added to the resource attributes.
    var commonLabels: [Label] = []

    /// What a document says about where its events come from, shared by all of them.
    struct Source {
        var function = ""
        var version = ""
        var resource: [Attribute] = []
        var invocationAttributes: [Attribute] = []
    }

    private struct RawEvent {
        var id: JSONKey?
        var timestamp: Double?
        var message: JSONKey?
        var problem: (RecordRejection.Reason, String)?
    }

    private struct Header {
        var messageType: String?
        var owner: String?
        var logGroup: String?
        var logStream: String?
        var sawEvents = false
        var problem: (RecordRejection.Reason, String)?

        mutating func note(_ reason: RecordRejection.Reason, _ detail: String) {
            if problem == nil { problem = (reason, detail) }
        }
    }

    private enum HeaderField { case messageType, owner, logGroup, logStream, logEvents, other }

    private static func headerField(_ k: UnsafeBufferPointer<UInt8>) -> HeaderField {
        switch k.count {
        case 5: return CloudWatchJSONDecoder.equals(k, "owner") ? .owner : .other
        case 8: return CloudWatchJSONDecoder.equals(k, "logGroup") ? .logGroup : .other
        case 9:
            if CloudWatchJSONDecoder.equals(k, "logStream") { return .logStream }
            return CloudWatchJSONDecoder.equals(k, "logEvents") ? .logEvents : .other
        case 11: return CloudWatchJSONDecoder.equals(k, "messageType") ? .messageType : .other
        default: return .other
        }
    }

    private enum EventField { case id, timestamp, message, other }

    private static func eventField(_ k: UnsafeBufferPointer<UInt8>) -> EventField {
        switch k.count {
        case 2: return CloudWatchJSONDecoder.equals(k, "id") ? .id : .other
        case 7: return CloudWatchJSONDecoder.equals(k, "message") ? .message : .other
        case 9: return CloudWatchJSONDecoder.equals(k, "timestamp") ? .timestamp : .other
        default: return .other
        }
    }

    /// Appends the log records and invocations of every document in `record` to `delivery`.
    func decode(record: UnsafeBufferPointer<UInt8>, index: Int, into delivery: inout FirehoseDelivery) {
        var s = JSONScanner(record)
        var document = 0
        var eventsInRecord = 0
        var events: [RawEvent] = []
        var unescaped: [UInt8] = []  // reused by every escaped message
        while true {
            s.skipWhitespace()
            if s.index >= s.end { return }
            document += 1
            var h = Header()
            events.removeAll(keepingCapacity: true)
            do throws(JSONSyntaxError) {
                try s.readObject { (s, key) throws(JSONSyntaxError) in
                    switch CloudWatchJSONDecoder.withKey(s, key, Self.headerField) {
                    case .messageType: h.messageType = try Self.string(&s, "messageType", &h)
                    case .owner: h.owner = try Self.string(&s, "owner", &h)
                    case .logGroup: h.logGroup = try Self.string(&s, "logGroup", &h)
                    case .logStream: h.logStream = try Self.string(&s, "logStream", &h)
                    case .logEvents:
                        guard try s.peek() == UInt8(ascii: "[") else {
                            h.note(.invalidField, "logEvents is not an array")
                            try s.skipValue()
                            return
                        }
                        h.sawEvents = true
                        try s.readArray { (s, _) throws(JSONSyntaxError) in
                            eventsInRecord += 1
                            guard eventsInRecord <= DecodeLimits.logEventsPerRecord else {
                                h.note(.limitExceeded, DecodeLimits.tooManyLogEvents)
                                try s.skipValue()
                                return
                            }
                            events.append(try Self.readEvent(&s))
                        }
                    case .other: try s.skipValue()
                    }
                }
            } catch {
                delivery.rejections.append(
                    RecordRejection(.invalidJSON, record: index, line: document, detail: "CloudWatch Logs data: \(error.description)"))
                return
            }
            if let (reason, detail) = h.problem {
                delivery.rejections.append(RecordRejection(reason, record: index, line: document, detail: detail))
                continue
            }
            switch h.messageType {
            case "DATA_MESSAGE": break
            case "CONTROL_MESSAGE": continue  // CloudWatch checking that the destination is reachable
            case nil:
                delivery.rejections.append(
                    RecordRejection(.missingField, record: index, line: document, detail: "messageType is missing"))
                continue
            case let other?:
                delivery.rejections.append(
                    RecordRejection(.invalidField, record: index, line: document, detail: "unknown messageType \(other)"))
                continue
            }
            guard let logGroup = h.logGroup, let logStream = h.logStream, h.sawEvents else {
                let missing = h.logGroup == nil ? "logGroup" : h.logStream == nil ? "logStream" : "logEvents"
                delivery.rejections.append(
                    RecordRejection(.missingField, record: index, line: document, detail: "\(missing) is missing"))
                continue
            }
            let source = self.source(owner: h.owner ?? "", logGroup: logGroup, logStream: logStream)
            var current = ""
            // No reserveCapacity here: reserving exactly per document would copy every log record
            // decoded so far once per document (quadratic); the array's own doubling is linear.
            for (i, event) in events.enumerated() {
                if let (reason, detail) = event.problem {
                    delivery.rejections.append(
                        RecordRejection(reason, record: index, line: document, detail: "log event \(i): \(detail)"))
                    continue
                }
                guard let id = event.id, let message = event.message, let ms = event.timestamp else {
                    let missing = event.id == nil ? "id" : event.message == nil ? "message" : "timestamp"
                    delivery.rejections.append(
                        RecordRejection(.missingField, record: index, line: document, detail: "log event \(i): \(missing) is missing"))
                    continue
                }
                guard ms >= 0, ms <= 18_446_744_073_709, ms.rounded(.towardZero) == ms else {
                    delivery.rejections.append(
                        RecordRejection(
                            .invalidField, record: index, line: document,
                            detail: "log event \(i): timestamp is not a whole number of milliseconds since 1970"))
                    continue
                }
                let recordID = s.string(id)
                let time = UInt64(ms) * 1_000_000
                let raw = UnsafeBufferPointer(rebasing: record[message.start..<message.end])
                func decodeEvent(_ text: UnsafeBufferPointer<UInt8>) {
                    LambdaLogEvent.decode(
                        text, time: time, id: recordID, source: source, observed: observedTimeUnixNano, current: &current,
                        into: &delivery)
                }
                if message.escaped {
                    JSONScanner.unescape(raw, into: &unescaped)
                    unescaped.withUnsafeBufferPointer { decodeEvent($0) }
                } else {
                    decodeEvent(raw)
                }
            }
        }
    }

    private static func readEvent(_ s: inout JSONScanner) throws(JSONSyntaxError) -> RawEvent {
        var e = RawEvent()
        guard try s.peek() == UInt8(ascii: "{") else {
            e.problem = (.invalidField, "not an object")
            try s.skipValue()
            return e
        }
        try s.readObject { (s, key) throws(JSONSyntaxError) in
            switch CloudWatchJSONDecoder.withKey(s, key, Self.eventField) {
            case .id:
                if try s.peek() == UInt8(ascii: "\"") {
                    e.id = try s.readRawString()
                } else {
                    if e.problem == nil { e.problem = (.invalidField, "id is not a string") }
                    try s.skipValue()
                }
            case .message:
                if try s.peek() == UInt8(ascii: "\"") {
                    e.message = try s.readRawString()
                } else {
                    if e.problem == nil { e.problem = (.invalidField, "message is not a string") }
                    try s.skipValue()
                }
            case .timestamp:
                let b = try s.peek()
                if b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
                    e.timestamp = try s.readNumber()
                } else {
                    if e.problem == nil { e.problem = (.invalidField, "timestamp is not a number") }
                    try s.skipValue()
                }
            case .other: try s.skipValue()
            }
        }
        return e
    }

    private static func string(_ s: inout JSONScanner, _ name: String, _ h: inout Header) throws(JSONSyntaxError) -> String? {
        if try s.peek() == UInt8(ascii: "\"") { return try s.readString() }
        h.note(.invalidField, "\(name) is not a string")
        try s.skipValue()
        return nil
    }

    /// Function and version from the log group and stream; the resource attributes of every event.
    func source(owner: String, logGroup: String, logStream: String) -> Source {
        var src = Source()
        src.function = Self.function(logGroup: logGroup)
        src.version = Self.version(logStream: logStream)
        var resource: [Attribute] = [Attribute("cloud.provider", .string("aws"))]
        if !src.function.isEmpty { resource.append(Attribute("cloud.platform", .string("aws_lambda"))) }
        if !owner.isEmpty { resource.append(Attribute("cloud.account.id", .string(owner))) }
        if !src.function.isEmpty { resource.append(Attribute("faas.name", .string(src.function))) }
        if !src.version.isEmpty { resource.append(Attribute("faas.version", .string(src.version))) }
        resource.append(Attribute("aws.log.group.names", .string(logGroup)))
        resource.append(Attribute("aws.log.stream.names", .string(logStream)))
        for label in commonLabels where !resource.contains(where: { $0.key == label.key }) {
            resource.append(Attribute(label.key, .string(label.value)))
        }
        src.resource = resource
        var invocation: [Attribute] = []
        if !owner.isEmpty { invocation.append(Attribute("cloud.account.id", .string(owner))) }
        invocation.append(Attribute("aws.log.group.names", .string(logGroup)))
        invocation.append(Attribute("aws.log.stream.names", .string(logStream)))
        src.invocationAttributes = invocation
        return src
    }

    /// `/aws/lambda/<name>` → name; Lambda@Edge's `/aws/lambda/us-east-1.<name>` → name (function
    /// names cannot hold a dot). Another log group belongs to no function: "".
    static func function(logGroup: String) -> String {
        guard logGroup.hasPrefix("/aws/lambda/") else { return "" }
        let name = logGroup.dropFirst("/aws/lambda/".count)
        if let dot = name.lastIndex(of: ".") { return String(name[name.index(after: dot)...]) }
        return String(name)
    }

    /// `2026/12/03/[$LATEST]abcdef…` → `$LATEST`; `[7]…` → `7`; "" without brackets.
    static func version(logStream: String) -> String {
        guard let open = logStream.firstIndex(of: "["),
            let close = logStream[open...].firstIndex(of: "]")
        else { return "" }
        return String(logStream[logStream.index(after: open)..<close])
    }
}
