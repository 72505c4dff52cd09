// W3C Trace Context `traceparent`: how the demo carries context from a producer to a consumer.
public import FireflyModel

/// A parsed `traceparent` header (version 00).
public struct Traceparent: Sendable, Hashable, CustomStringConvertible {
    public var traceID: TraceID
    public var parentID: SpanID
    public var flags: UInt8

    public init(traceID: TraceID, parentID: SpanID, flags: UInt8 = 0x01) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    public var isSampled: Bool { flags & 0x01 != 0 }

    /// `00-<32 hex>-<16 hex>-<2 hex>`, lowercase, 55 characters.
    public var description: String {
        "00-\(traceID)-\(parentID)-\(Hex.encode([flags]))"
    }

    /// Parses a header value per W3C Trace Context level 1: optional surrounding spaces/tabs,
    /// lowercase hex only, exactly 55 characters for version 00, no all-zero ids, version `ff`
    /// invalid; a higher version is read as 00 when its first four fields fit.
    public init?(header: String) {
        var text = Substring(header)
        while let c = text.first, c == " " || c == "\t" { text.removeFirst() }
        while let c = text.last, c == " " || c == "\t" { text.removeLast() }
        let bytes = Array(text.utf8)
        guard bytes.count >= 55 else { return nil }
        func isLowerHex(_ range: Range<Int>) -> Bool {
            range.allSatisfy { i in
                let c = bytes[i]
                return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
            }
        }
        guard isLowerHex(0..<2), bytes[2] == 0x2D, isLowerHex(3..<35), bytes[35] == 0x2D, isLowerHex(36..<52),
            bytes[52] == 0x2D, isLowerHex(53..<55)
        else { return nil }
        let version = String(decoding: bytes[0..<2], as: UTF8.self)
        if version == "ff" { return nil }
        if version == "00" {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55, bytes[55] != 0x2D {
            return nil
        }
        guard let traceID = TraceID(hex: String(decoding: bytes[3..<35], as: UTF8.self)), traceID.isValid,
            let parentID = SpanID(hex: String(decoding: bytes[36..<52], as: UTF8.self)), parentID.isValid,
            let flags = Hex.decode(String(decoding: bytes[53..<55], as: UTF8.self))?.first
        else { return nil }
        self.init(traceID: traceID, parentID: parentID, flags: flags)
    }
}
