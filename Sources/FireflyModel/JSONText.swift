/// Minimal JSON text building: string literals with the escapes JSON requires, small objects.
/// The one JSON string escaper of the project.
public enum JSONText {
    /// A JSON string literal with the required escapes.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// An object of string values, keys sorted.
    public static func object(_ fields: [String: String]) -> String {
        "{" + fields.keys.sorted().map { quote($0) + ":" + quote(fields[$0]!) }.joined(separator: ",") + "}"
    }
}
