// Reading OTLP/JSON scalars from a JSON tree: 64-bit integers as strings or numbers, enums as ints
// (or names), doubles as numbers or "NaN"/"Infinity", ids as hex.
import FireflyModel
import FireflyWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension JSON {
    /// Members of an object; `null` reads as an empty object.
    func members(_ field: String) throws(OTLPDecodeError) -> [(key: String, value: JSON)] {
        switch self {
        case .object(let pairs): return pairs
        case .null: return []
        default: throw OTLPDecodeError("\(field): expected an object")
        }
    }

    /// Elements of an array; `null` reads as an empty array.
    func elements(_ field: String) throws(OTLPDecodeError) -> [JSON] {
        switch self {
        case .array(let values): return values
        case .null: return []
        default: throw OTLPDecodeError("\(field): expected an array")
        }
    }

    func string(_ field: String) throws(OTLPDecodeError) -> String {
        switch self {
        case .string(let s): return s
        case .null: return ""
        default: throw OTLPDecodeError("\(field): expected a string")
        }
    }

    func bool(_ field: String) throws(OTLPDecodeError) -> Bool {
        switch self {
        case .bool(let b): return b
        case .null: return false
        default: throw OTLPDecodeError("\(field): expected true or false")
        }
    }

    /// The text of an integer written as a number or a decimal string.
    private func integerText(_ field: String) throws(OTLPDecodeError) -> String? {
        switch self {
        case .number(let t), .string(let t): return t
        case .null: return nil
        default: throw OTLPDecodeError("\(field): expected an integer (number or decimal string)")
        }
    }

    func uint64(_ field: String) throws(OTLPDecodeError) -> UInt64 {
        guard let text = try integerText(field) else { return 0 }
        if let v = UInt64(text) { return v }
        if let d = Double(text), let v = UInt64(exactly: d) { return v }
        throw OTLPDecodeError("\(field): '\(text)' is not an unsigned 64-bit integer")
    }

    func int64(_ field: String) throws(OTLPDecodeError) -> Int64 {
        guard let text = try integerText(field) else { return 0 }
        if let v = Int64(text) { return v }
        if let d = Double(text), let v = Int64(exactly: d) { return v }
        throw OTLPDecodeError("\(field): '\(text)' is not a 64-bit integer")
    }

    func int32(_ field: String) throws(OTLPDecodeError) -> Int32 {
        let v = try int64(field)
        guard let i = Int32(exactly: v) else { throw OTLPDecodeError("\(field): \(v) is out of the 32-bit range") }
        return i
    }

    /// An enum: an integer (what OTLP/JSON requires) or, leniently, its name.
    func enumValue(_ field: String, names: [String: UInt64]) throws(OTLPDecodeError) -> UInt64 {
        if case .string(let s) = self, let v = names[s] { return v }
        let v = try int64(field)
        return v < 0 ? 0 : UInt64(v)
    }

    func double(_ field: String) throws(OTLPDecodeError) -> Double {
        switch self {
        case .number(let t):
            if let d = Double(t) { return d }
        case .string(let s):
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: if let d = Double(s) { return d }
            }
        case .null: return 0
        default: break
        }
        throw OTLPDecodeError("\(field): expected a number")
    }

    /// Hex id bytes (either case); nil when not hex, which makes the id invalid, not the request.
    func idBytes(_ field: String) throws(OTLPDecodeError) -> [UInt8]? {
        Hex.decode(try string(field))
    }

    /// Standard or URL-safe base64, padding optional (proto3 JSON `bytes`).
    func base64Bytes(_ field: String) throws(OTLPDecodeError) -> [UInt8] {
        var text = try string(field).replacing("-", with: "+").replacing("_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text) else { throw OTLPDecodeError("\(field): invalid base64") }
        return Array(data)
    }
}
