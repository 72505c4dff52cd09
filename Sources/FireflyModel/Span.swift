/// A 16-byte trace id; all zero is invalid.
public struct TraceID: Sendable, Hashable, Codable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From 16 big-endian bytes; nil unless exactly 16 bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { high = high << 8 | UInt64(b) } else { low = low << 8 | UInt64(b) }
        }
        self.init(high: high, low: low)
    }

    /// From 32 hex digits (either case).
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 16 else { return nil }
        self.init(bytes: bytes)
    }

    /// From X-Ray's spelling, `1-<8 hex>-<24 hex>`: its epoch-seconds part and its random part
    /// joined are the OpenTelemetry trace id (`1-5759e988-bd862e3fe1be46a994272793` →
    /// `5759e988bd862e3fe1be46a994272793`). Nil for anything else, or an all-zero id.
    @inlinable
    public init?<C: Collection>(xray text: C) where C.Element == UInt8 {
        guard text.count == 35 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for (i, c) in text.enumerated() {
            switch i {
            case 0: guard c == UInt8(ascii: "1") else { return nil }
            case 1, 10: guard c == UInt8(ascii: "-") else { return nil }
            default:
                let v: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                if digits < 16 { high = high << 4 | UInt64(v) } else { low = low << 4 | UInt64(v) }
                digits += 1
            }
        }
        guard high != 0 || low != 0 else { return nil }
        self.init(high: high, low: low)
    }

    /// X-Ray's spelling of this id: `1-<first 8 hex digits>-<last 24>`.
    public var xray: String {
        let hex = description
        return "1-\(hex.prefix(8))-\(hex.dropFirst(8))"
    }

    public static let zero = TraceID(high: 0, low: 0)
    public var isValid: Bool { self != .zero }
    public var bytes: [UInt8] { Hex.bigEndianBytes(high) + Hex.bigEndianBytes(low) }
    /// 32 lowercase hex digits, as W3C Trace Context and OTLP JSON write it.
    public var description: String { Hex.encode(bytes) }
}

/// An 8-byte span id; all zero means "none" (e.g. no parent).
public struct SpanID: Sendable, Hashable, Codable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// From 8 big-endian bytes; nil unless exactly 8 bytes.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 8 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 8 else { return nil }
        self.init(bytes: bytes)
    }

    public static let zero = SpanID(0)
    public var isValid: Bool { value != 0 }
    public var bytes: [UInt8] { Hex.bigEndianBytes(value) }
    public var description: String { Hex.encode(bytes) }
}

/// An attribute value. OpenTelemetry arrays and maps are kept as JSON text (`.json`), which is how
/// they cross the plugin ABI and how storage keeps them.
public enum AttributeValue: Sendable, Hashable, Codable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case json(String)
}

/// A typed key/value attribute (span, resource, event and link attributes).
public struct Attribute: Sendable, Hashable, Codable {
    public var key: String
    public var value: AttributeValue

    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

extension Array where Element == Attribute {
    /// The value of the first attribute named `key`.
    public subscript(key key: String) -> AttributeValue? {
        first { $0.key == key }?.value
    }
}

public enum SpanKind: UInt32, Sendable, Hashable, Codable {
    case unspecified = 0, `internal`, server, client, producer, consumer
}

public enum StatusCode: UInt32, Sendable, Hashable, Codable {
    case unset = 0, ok, error
}

public struct SpanEvent: Sendable, Hashable, Codable {
    public var timeUnixNano: UInt64
    public var name: String
    public var attributes: [Attribute]

    public init(timeUnixNano: UInt64, name: String, attributes: [Attribute] = []) {
        self.timeUnixNano = timeUnixNano
        self.name = name
        self.attributes = attributes
    }
}

public struct SpanLink: Sendable, Hashable, Codable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var traceState: String
    public var attributes: [Attribute]

    public init(traceID: TraceID, spanID: SpanID, traceState: String = "", attributes: [Attribute] = []) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceState = traceState
        self.attributes = attributes
    }
}

/// One span, with OpenTelemetry semantics. `function` is `faas.name`, falling back to
/// `service.name`, resolved once at ingest (see `FunctionResolver`).
public struct Span: Sendable, Hashable, Codable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID
    public var traceState: String
    public var name: String
    public var kind: SpanKind
    public var statusCode: StatusCode
    public var statusMessage: String
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var function: String
    public var service: String
    public var scopeName: String
    public var scopeVersion: String
    public var attributes: [Attribute]
    public var resourceAttributes: [Attribute]
    public var events: [SpanEvent]
    public var links: [SpanLink]

    public init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID = .zero, traceState: String = "",
        name: String, kind: SpanKind = .internal, statusCode: StatusCode = .unset, statusMessage: String = "",
        startTimeUnixNano: UInt64, endTimeUnixNano: UInt64, function: String = "", service: String = "",
        scopeName: String = "", scopeVersion: String = "", attributes: [Attribute] = [],
        resourceAttributes: [Attribute] = [], events: [SpanEvent] = [], links: [SpanLink] = []
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.name = name
        self.kind = kind
        self.statusCode = statusCode
        self.statusMessage = statusMessage
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.function = function
        self.service = service
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion
        self.attributes = attributes
        self.resourceAttributes = resourceAttributes
        self.events = events
        self.links = links
    }

    /// Whether the span marks a cold start (`faas.coldstart = true`).
    public var isColdStart: Bool {
        if case .bool(true) = attributes[key: "faas.coldstart"] { return true }
        return false
    }
}
