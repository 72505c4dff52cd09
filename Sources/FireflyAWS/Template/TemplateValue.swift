// The tree a CloudFormation template is built as, written out as YAML or JSON in the order it was built.
import FireflyModel

/// A JSON-shaped value whose maps keep their insertion order, so a generated template reads in
/// the order a person would write it (Parameters before Resources, `Type` before `Properties`).
public indirect enum TemplateValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([TemplateValue])
    case map([TemplateEntry])

    /// `{"Ref": name}`
    public static func ref(_ name: String) -> TemplateValue { .map([TemplateEntry("Ref", .string(name))]) }
    /// `{"Fn::GetAtt": [resource, attribute]}`
    public static func getAtt(_ resource: String, _ attribute: String) -> TemplateValue {
        .map([TemplateEntry("Fn::GetAtt", .list([.string(resource), .string(attribute)]))])
    }
    /// `{"Fn::Sub": text}`
    public static func sub(_ text: String) -> TemplateValue { .map([TemplateEntry("Fn::Sub", .string(text))]) }
    /// `{"Fn::If": [condition, then, else]}`
    public static func `if`(_ condition: String, _ then: TemplateValue, _ otherwise: TemplateValue) -> TemplateValue {
        .map([TemplateEntry("Fn::If", .list([.string(condition), then, otherwise]))])
    }
    /// `{"Fn::Equals": [a, b]}`
    public static func equals(_ a: TemplateValue, _ b: TemplateValue) -> TemplateValue {
        .map([TemplateEntry("Fn::Equals", .list([a, b]))])
    }
    /// Removes the property it is the value of (`AWS::NoValue`).
    public static let noValue = ref("AWS::NoValue")

    /// A map from `(key, value)` pairs, in order.
    public static func object(_ pairs: KeyValuePairs<String, TemplateValue>) -> TemplateValue {
        .map(pairs.map { TemplateEntry($0.key, $0.value) })
    }

    /// The value under `key` of a map (nil for other values or a missing key).
    public subscript(key: String) -> TemplateValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }
}

/// One key of a `TemplateValue.map`.
public struct TemplateEntry: Sendable, Equatable {
    public var key: String
    public var value: TemplateValue

    public init(_ key: String, _ value: TemplateValue) {
        self.key = key
        self.value = value
    }
}

/// The two syntaxes CloudFormation reads.
public enum TemplateSyntax: String, Sendable, CaseIterable {
    case yaml, json
}

extension TemplateValue {
    /// The value as a document in `syntax`, ending with a newline.
    public func rendered(as syntax: TemplateSyntax) -> String {
        var out = ""
        switch syntax {
        case .json: writeJSON(to: &out, indent: 0)
        case .yaml: writeYAMLDocument(to: &out)
        }
        return out + "\n"
    }

    private func writeJSON(to out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent + 2)
        switch self {
        case .string(let s): out += JSONText.quote(s)
        case .int(let n): out += String(n)
        case .bool(let b): out += b ? "true" : "false"
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.writeJSON(to: &out, indent: indent + 2)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .map(let entries):
            if entries.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, entry) in entries.enumerated() {
                out += pad + JSONText.quote(entry.key) + ": "
                entry.value.writeJSON(to: &out, indent: indent + 2)
                out += i == entries.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    private func writeYAMLDocument(to out: inout String) {
        switch self {
        case .map(let entries) where !entries.isEmpty: Self.writeYAMLEntries(entries, to: &out, indent: 0, firstPrefix: "")
        case .list(let items) where !items.isEmpty: Self.writeYAMLItems(items, to: &out, indent: 0)
        default: out += yamlScalar
        }
        if out.hasSuffix("\n") { out.removeLast() }
    }

    /// Block-style lines for each entry; the first line starts with `firstPrefix` (`- ` inside a list).
    private static func writeYAMLEntries(_ entries: [TemplateEntry], to out: inout String, indent: Int, firstPrefix: String) {
        let pad = String(repeating: " ", count: indent)
        for (i, entry) in entries.enumerated() {
            out += (i == 0 && !firstPrefix.isEmpty ? String(pad.dropLast(firstPrefix.count)) + firstPrefix : pad)
            out += yamlKey(entry.key) + ":"
            switch entry.value {
            case .map(let inner) where !inner.isEmpty:
                out += "\n"
                writeYAMLEntries(inner, to: &out, indent: indent + 2, firstPrefix: "")
            case .list(let items) where !items.isEmpty:
                out += "\n"
                writeYAMLItems(items, to: &out, indent: indent + 2)
            default:
                out += " " + entry.value.yamlScalar + "\n"
            }
        }
    }

    private static func writeYAMLItems(_ items: [TemplateValue], to out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let inner) where !inner.isEmpty:
                writeYAMLEntries(inner, to: &out, indent: indent + 2, firstPrefix: "- ")
            case .list(let inner) where !inner.isEmpty:
                out += pad + "-\n"
                writeYAMLItems(inner, to: &out, indent: indent + 2)
            default:
                out += pad + "- " + item.yamlScalar + "\n"
            }
        }
    }

    /// Scalars and empty collections on one line. Strings are always double-quoted (JSON escapes are
    /// YAML escapes), so `true`, `1.0`, `no` or `*` stay strings; characters YAML reads as line breaks
    /// are escaped too.
    private var yamlScalar: String {
        switch self {
        case .string(let s):
            var quoted = ""
            for scalar in JSONText.quote(s).unicodeScalars {
                switch scalar.value {
                case 0x85: quoted += "\\N"
                case 0x2028: quoted += "\\L"
                case 0x2029: quoted += "\\P"
                case 0x7F...0x9F, 0xFEFF: quoted += "\\u" + String(format4: scalar.value)
                default: quoted.unicodeScalars.append(scalar)
                }
            }
            return quoted
        case .int(let n): return String(n)
        case .bool(let b): return b ? "true" : "false"
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    /// Keys are written plain when YAML reads them back as the same string (logical ids, property
    /// names, `Fn::GetAtt`), quoted otherwise.
    private static func yamlKey(_ key: String) -> String {
        let plain =
            !key.isEmpty && key.first!.isLetter
            && key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == ":" || $0 == "_" || $0 == "." || $0 == "-" }
            && !key.hasSuffix(":") && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(key.lowercased())
        return plain ? key : TemplateValue.string(key).yamlScalar
    }
}

extension String {
    fileprivate init(format4 value: UInt32) {
        let hex = String(value, radix: 16)
        self = String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
    }
}
