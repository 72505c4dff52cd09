// Readable JSON forms of ids and attribute values (debug exporter output, test fixtures).

extension TraceID {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = TraceID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 32-digit hex trace id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension SpanID {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = SpanID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 16-digit hex span id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Encoded as a one-key object naming the type: `{"int": 5}`, `{"string": "x"}`.
extension AttributeValue {
    private enum Key: String, CodingKey { case string, bool, int, double, bytes, json }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let v = try c.decodeIfPresent(String.self, forKey: .string) { self = .string(v) }
        else if let v = try c.decodeIfPresent(Bool.self, forKey: .bool) { self = .bool(v) }
        else if let v = try c.decodeIfPresent(Int64.self, forKey: .int) { self = .int(v) }
        else if let v = try c.decodeIfPresent(Double.self, forKey: .double) { self = .double(v) }
        else if let v = try c.decodeIfPresent(String.self, forKey: .bytes) { self = .bytes(Hex.decode(v) ?? []) }
        else { self = .json(try c.decode(String.self, forKey: .json)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .string(let v): try c.encode(v, forKey: .string)
        case .bool(let v): try c.encode(v, forKey: .bool)
        case .int(let v): try c.encode(v, forKey: .int)
        case .double(let v): try c.encode(v, forKey: .double)
        case .bytes(let v): try c.encode(Hex.encode(v), forKey: .bytes)
        case .json(let v): try c.encode(v, forKey: .json)
        }
    }
}

/// One line of the debug exporter's output: exactly one of `point` or `span`.
public struct DebugRecord: Sendable, Hashable, Codable {
    public var point: MetricPoint?
    public var span: Span?
    public var log: LogRecord?
    public var invocation: Invocation?

    public init(point: MetricPoint? = nil, span: Span? = nil, log: LogRecord? = nil, invocation: Invocation? = nil) {
        self.point = point
        self.span = span
        self.log = log
        self.invocation = invocation
    }
}
