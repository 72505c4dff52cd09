// A plugin's settings subtree as the JSON text the C ABI hands it (key order preserved).
import FireflyModel
import FireflyWire

extension JSON {
    /// YAML 1.2 core-schema typing of an unquoted scalar.
    static func typed(plainScalar text: String) -> JSON {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let i = Int64(text) { return .number(String(i)) }
        if text.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true, let d = Double(text), d.isFinite {
            return .number(String(d))
        }
        return .string(text)
    }

    /// The value as compact JSON text.
    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += JSONText.quote(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                out += JSONText.quote(m.key)
                out += ":"
                m.value.write(into: &out)
            }
            out += "}"
        }
    }
}
