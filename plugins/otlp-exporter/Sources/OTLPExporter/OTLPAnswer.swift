// What a receiver's answer means for delivery, as the OTLP specification defines it (pure, no I/O).
import FireflyWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The outcome of one request to one endpoint.
public enum OTLPAnswer: Sendable, Equatable {
    /// Accepted; `rejected` items were refused anyway (`partial_success`, never retried).
    case accepted(rejected: Int64, message: String)
    /// Try again, after `after` when the receiver said how long (Retry-After / RetryInfo).
    case retryable(after: Duration?, message: String)
    /// Never retry: the data is refused (dead-lettered by the host).
    case permanent(message: String)

    /// OTLP/HTTP: 2xx accepted (reading `partial_success` from the body); 429, 502, 503 and 504
    /// retryable, honouring `Retry-After`; every other status permanent.
    public static func http(status: UInt, retryAfter: Duration?, body: [UInt8], signal: OTLPSignal) -> OTLPAnswer {
        switch status {
        case 200..<300:
            let partial = PartialSuccess.decode(body)
            return .accepted(rejected: partial?.rejected ?? 0, message: partial?.message ?? "")
        case 429, 502, 503, 504:
            return .retryable(after: retryAfter, message: "HTTP \(status): \(RPCStatus.message(body))")
        default:
            return .permanent(message: "HTTP \(status): \(RPCStatus.message(body))")
        }
    }

    /// gRPC status codes the OTLP specification makes retryable. RESOURCE_EXHAUSTED only when the
    /// server says when to come back (a `RetryInfo`); without one it is a permanent refusal (a
    /// message over the server's size limit, for instance).
    public static func grpc(code: Int, message: String, retryAfter: Duration?) -> OTLPAnswer {
        switch code {
        case 0:
            return .accepted(rejected: 0, message: "")
        case 1, 4, 10, 11, 14, 15:  // CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS
            return .retryable(after: retryAfter, message: "gRPC \(codeName(code)): \(message)")
        case 8 where retryAfter != nil:
            return .retryable(after: retryAfter, message: "gRPC RESOURCE_EXHAUSTED: \(message)")
        default:
            return .permanent(message: "gRPC \(codeName(code)): \(message)")
        }
    }

    static func codeName(_ code: Int) -> String {
        let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
            "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
            "UNIMPLEMENTED",
            "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
        ]
        return names.indices.contains(code) ? names[code] : "code \(code)"
    }
}

/// `Export*ServiceResponse { partial_success 1 { rejected_<items> 1 (int64), error_message 2 } }`:
/// the same layout for the three signals.
public enum PartialSuccess {
    /// The rejected count and message; nil when the response has no `partial_success` (or is not protobuf).
    public static func decode(_ body: [UInt8]) -> (rejected: Int64, message: String)? {
        guard !body.isEmpty else { return nil }
        return try? ProtobufReader.read(body) {
            (r: inout ProtobufReader) throws(ProtobufError) -> (rejected: Int64, message: String)? in
            var found: (rejected: Int64, message: String)?
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                guard field == 1, wire == 2 else {
                    try r.skip(wire)
                    continue
                }
                var sub = try r.readLengthDelimited()
                var rejected: Int64 = 0
                var message = ""
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    switch (f, w) {
                    case (1, 0): rejected = Int64(bitPattern: try sub.readVarint())
                    case (2, 2): message = try sub.readString()
                    default: try sub.skip(w)
                    }
                }
                found = (rejected: rejected, message: message)
            }
            return found
        }
    }
}

/// `google.rpc.Status { code 1, message 2, details 3: [Any { type_url 1, value 2 }] }`: the body of
/// an OTLP/HTTP error, and gRPC's `grpc-status-details-bin`.
enum RPCStatus {
    /// The status message of a protobuf body; otherwise the body as (clipped) text.
    static func message(_ body: [UInt8]) -> String {
        if let decoded = try? ProtobufReader.read(
            body,
            { (r: inout ProtobufReader) throws(ProtobufError) -> String? in
                var message: String?
                while !r.isAtEnd {
                    let (field, wire) = try r.readTag()
                    if field == 2, wire == 2 { message = try r.readString() } else { try r.skip(wire) }
                }
                return message
            }), decoded.utf8.allSatisfy({ $0 >= 0x20 || $0 == 0x09 })
        {
            return clip(decoded)
        }
        let text = String(decoding: body.prefix(2048), as: UTF8.self).trimmed()
        return text.isEmpty ? "(no message)" : clip(text)
    }

    /// The `google.rpc.RetryInfo` delay among a status's details, if any.
    static func retryDelay(statusDetails body: [UInt8]) -> Duration? {
        try? ProtobufReader.read(body) { (r: inout ProtobufReader) throws(ProtobufError) -> Duration? in
            var delay: Duration?
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                guard field == 3, wire == 2 else {
                    try r.skip(wire)
                    continue
                }
                var any = try r.readLengthDelimited()
                var typeURL = ""
                var value: [UInt8] = []
                while !any.isAtEnd {
                    let (f, w) = try any.readTag()
                    switch (f, w) {
                    case (1, 2): typeURL = try any.readString()
                    case (2, 2): value = try any.readBytes()
                    default: try any.skip(w)
                    }
                }
                if typeURL.hasSuffix("/google.rpc.RetryInfo") { delay = retryInfo(value) ?? delay }
            }
            return delay
        }
    }

    /// `google.rpc.RetryInfo { retry_delay 1: google.protobuf.Duration { seconds 1, nanos 2 } }`.
    static func retryInfo(_ body: [UInt8]) -> Duration? {
        try? ProtobufReader.read(body) { (r: inout ProtobufReader) throws(ProtobufError) -> Duration? in
            var delay: Duration?
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                guard field == 1, wire == 2 else {
                    try r.skip(wire)
                    continue
                }
                var d = try r.readLengthDelimited()
                var seconds: Int64 = 0
                var nanos: Int64 = 0
                while !d.isAtEnd {
                    let (f, w) = try d.readTag()
                    switch (f, w) {
                    case (1, 0): seconds = Int64(bitPattern: try d.readVarint())
                    case (2, 0): nanos = Int64(Int32(truncatingIfNeeded: try d.readVarint()))
                    default: try d.skip(w)
                    }
                }
                // A delay past a day is not a hint anyone means; the host caps its backoff anyway.
                delay = .seconds(min(max(seconds, 0), 86_400)) + .nanoseconds(max(nanos, 0))
            }
            return delay
        }
    }

    static func clip(_ message: String) -> String {
        message.count > 1024 ? String(message.prefix(1024)) + "…" : message
    }
}
