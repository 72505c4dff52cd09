// OTLP AnyValue as decoded from either encoding, and its mapping to Firefly attributes and labels.
import FireflyModel
import FireflyWire
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An OTLP `AnyValue`. Both decoders build it, and one function maps it to the model, so protobuf
/// and JSON of the same request produce identical telemetry.
indirect enum OTLPValue {
    /// No `value` oneof set (legal since OTLP 1.9: an attribute may be empty).
    case empty
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([OTLPValue])
    case kvlist([(key: String, value: OTLPValue)])

    /// Scalars keep their type; arrays, key/value lists and the empty value become `.json` text
    /// (`[1,"a"]`, `{"k":true}`, `null`), which is how the model carries structured values.
    var attributeValue: AttributeValue {
        switch self {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bytes(let b): return .bytes(b)
        case .empty, .array, .kvlist:
            var out = ""
            renderJSON(into: &out)
            return .json(out)
        }
    }

    /// JSON text of the value: bytes as standard base64 and non-finite doubles as the strings
    /// `"NaN"`, `"Infinity"`, `"-Infinity"` (the OTLP/JSON conventions); key order is kept.
    func renderJSON(into out: inout String) {
        switch self {
        case .empty: out += "null"
        case .string(let s): out += JSONText.quote(s)
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += OTLPValue.jsonNumber(d)
        case .bytes(let b): out += "\"" + Data(b).base64EncodedString() + "\""
        case .array(let values):
            out += "["
            for (i, v) in values.enumerated() {
                if i > 0 { out += "," }
                v.renderJSON(into: &out)
            }
            out += "]"
        case .kvlist(let pairs):
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += "," }
                out += JSONText.quote(pair.key) + ":"
                pair.value.renderJSON(into: &out)
            }
            out += "}"
        }
    }

    static func jsonNumber(_ d: Double) -> String {
        if d.isNaN { return "\"NaN\"" }
        if d.isInfinite { return d < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
        return String(d)
    }
}

extension AttributeValue {
    /// The value as a metric label: strings as they are, numbers in decimal (integral doubles without
    /// a fraction), bytes as base64, structured values as their JSON text.
    var labelText: String {
        switch self {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        case .bytes(let b): return Data(b).base64EncodedString()
        case .json(let s): return s
        }
    }
}
