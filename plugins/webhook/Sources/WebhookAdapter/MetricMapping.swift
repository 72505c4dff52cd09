import FireflyModel
import FireflyWire
import FireflyPluginKit

/// Why one field of one event could not be used.
enum MappingProblem: Error, Sendable {
    case wrongType(String)
    case invalid(String)
}

/// Why a request's events could not be mapped: the mapping field (`metrics[0].labels.repo`), the
/// concrete place in the body (`$[3].repository.full_name`) and what was wrong there.
public struct MappingFailure: Error, Equatable, Sendable {
    public var message: String
    public var field: String
    public var path: String

    public init(message: String, field: String, path: String) {
        self.message = message
        self.field = field
        self.path = path
    }
}

/// A label or function source: a path, with an optional value used when the path is missing or null.
struct FieldReference: Sendable {
    var path: FieldPath
    var fallback: String?
}

/// One `condition` entry: a path compared with a value, or tested for presence.
struct Condition: Sendable {
    enum Test: Sendable {
        case equals(JSONValue)
        case exists(Bool)
    }

    var path: FieldPath
    var test: Test

    func holds(in scope: Scope) -> Bool {
        let found = try? scope.value(path).value
        switch test {
        case .exists(let expected): return (found != nil) == expected
        case .equals(let expected): return Self.matches(found, expected)
        }
    }

    /// Strings compare exactly, numbers numerically (`200` equals `200.0`), `null` matches absent.
    static func matches(_ value: JSON?, _ expected: JSONValue) -> Bool {
        switch (value, expected) {
        case (nil, .null): true
        case (.string(let a)?, .string(let b)): a == b
        case (.number(let a)?, .number(let b)): Double(a) == b
        case (.bool(let a)?, .bool(let b)): a == b
        default: false
        }
    }
}

/// Where a point's value comes from.
enum ValueSource: Sendable {
    case path(FieldPath)
    case constant(Double)
    /// `end − start` in seconds, both timestamps in `format`.
    case duration(start: FieldPath, end: FieldPath, format: TimestampFormat)
}

/// One entry of `metrics:`, validated at create time. Applying it to an event yields zero or more
/// points, or a `MappingFailure` naming the field and the body location.
struct MetricMapping: Sendable {
    var location: String
    var name: String
    var unit: String
    var kind: MetricKind
    var value: ValueSource
    var scale: Double
    var timestamp: (path: FieldPath, format: TimestampFormat)?
    var labels: [(name: String, source: FieldReference)]
    var staticLabels: [Label]
    var function: FieldReference?
    var forEach: FieldPath?
    var conditions: [Condition]

    // MARK: Reading the configuration

    /// Reads one `metrics[i]` entry; problems go to `config` with their full location.
    init(config c: PluginConfig, location: String) {
        self.location = location
        name = c.string("name", default: "")
        if !c.has("name") {
            c.problem("name", "required")
        } else if !Self.isValidMetricName(name) {
            c.problem("name", "'\(name)' is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
        }
        unit = c.string("unit", default: "")
        kind = c.choice("kind", ["gauge", "counter"], default: "gauge") == "counter" ? .deltaSum : .gauge
        scale = c.double("scale", default: 1)
        if !scale.isFinite || scale == 0 { c.problem("scale", "must be a finite, non-zero number") }

        forEach = Self.path(c, "for_each", allowWildcard: true)
        if let forEach, forEach.segments.isEmpty {
            c.problem("for_each", "must select an array inside the event, not the event itself")
        }

        let sources = ["value", "value_constant", "value_duration"].filter { c.has($0) }
        if sources.count != 1 {
            c.problem("", sources.isEmpty
                ? "one of value, value_constant or value_duration is required"
                : "only one of value, value_constant or value_duration may be set (found \(sources.joined(separator: ", ")))")
        }
        value = .constant(1)
        if c.has("value_constant") {
            value = .constant(c.double("value_constant", default: 1))
        } else if c.has("value_duration"), let d = c.object("value_duration") {
            let start = Self.path(d, "start", required: true)
            let end = Self.path(d, "end", required: true)
            let format = Self.format(d, "format")
            if let start, let end { value = .duration(start: start, end: end, format: format) }
        } else if let p = Self.path(c, "value") {
            value = .path(p)
        }
        // Unread alternatives still count as known keys.
        _ = c.value("value"); _ = c.value("value_constant"); _ = c.value("value_duration")

        if let p = Self.path(c, "timestamp") {
            timestamp = (p, Self.format(c, "timestamp_format"))
        } else {
            _ = c.value("timestamp_format")
            timestamp = nil
        }

        labels = []
        if let raw = c.value("labels") {
            if case .object(let map) = raw {
                for key in map.keys.sorted() {
                    if !Self.isValidLabelName(key) {
                        c.problem("labels.\(key)", "'\(key)' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")
                    }
                    if let ref = Self.reference(c, "labels.\(key)", map[key]!) { labels.append((key, ref)) }
                }
            } else {
                c.problem("labels", "expected a mapping of label name to path")
            }
        }
        staticLabels = c.stringMap("static_labels").map { Label($0.0, $0.1) }
        for label in staticLabels {
            if !Self.isValidLabelName(label.key) {
                c.problem("static_labels.\(label.key)", "'\(label.key)' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")
            }
            if labels.contains(where: { $0.name == label.key }) {
                c.problem("static_labels.\(label.key)", "label '\(label.key)' is also set in labels")
            }
        }
        function = c.value("function").flatMap { Self.reference(c, "function", $0) }

        conditions = []
        switch c.value("condition") {
        case .object?:
            if let o = c.object("condition"), let cond = Self.condition(o) { conditions.append(cond) }
        case .array?:
            conditions = c.objectList("condition").compactMap(Self.condition)
        case nil:
            break
        default:
            c.problem("condition", "expected {path: ..., equals: ...} or a list of them")
        }
    }

    private static func condition(_ c: PluginConfig) -> Condition? {
        let path = Self.path(c, "path", required: true)
        let equals = c.value("equals")
        let exists = c.has("exists") ? c.bool("exists", default: true) : nil
        if (equals == nil) == (exists == nil) {
            c.problem("", "exactly one of equals or exists is required")
            return nil
        }
        if case .array? = equals { c.problem("equals", "must be a string, number, boolean or null") }
        if case .object? = equals { c.problem("equals", "must be a string, number, boolean or null") }
        guard let path else { return nil }
        if let exists { return Condition(path: path, test: .exists(exists)) }
        return Condition(path: path, test: .equals(equals ?? .null))
    }

    private static func format(_ c: PluginConfig, _ key: String) -> TimestampFormat {
        TimestampFormat(rawValue: c.choice(key, TimestampFormat.allCases.map(\.rawValue), default: "rfc3339")) ?? .rfc3339
    }

    /// Reads and validates a path; wildcards only where fan-out is meant (for_each).
    static func path(_ c: PluginConfig, _ key: String, required: Bool = false, allowWildcard: Bool = false) -> FieldPath? {
        guard c.has(key) else {
            if required { c.problem(key, "required") }
            return nil
        }
        guard let text = c.optionalString(key) else { return nil }
        return parse(text, at: key, in: c, allowWildcard: allowWildcard)
    }

    static func parse(_ text: String, at key: String, in c: PluginConfig, allowWildcard: Bool = false) -> FieldPath? {
        do {
            let p = try FieldPath(text)
            if p.hasWildcard && !allowWildcard {
                c.problem(key, "invalid path '\(text)': [*] is only allowed in for_each")
                return nil
            }
            return p
        } catch {
            c.problem(key, "invalid path '\(text)': \(error.message)")
            return nil
        }
    }

    /// A label/function source: `path` or `{path: ..., default: ...}`.
    private static func reference(_ c: PluginConfig, _ key: String, _ raw: JSONValue) -> FieldReference? {
        switch raw {
        case .string(let text):
            return parse(text, at: key, in: c).map { FieldReference(path: $0, fallback: nil) }
        case .object(let map):
            for k in map.keys.sorted() where k != "path" && k != "default" {
                c.problem("\(key).\(k)", "unknown key '\(k)' (expected path and default)")
            }
            guard case .string(let text)? = map["path"] else {
                c.problem("\(key).path", "required: a path string")
                return nil
            }
            var fallback: String?
            switch map["default"] {
            case .string(let s)?: fallback = s
            case .number(let n)?: fallback = Int64(exactly: n).map(String.init) ?? String(n)
            case .bool(let b)?: fallback = String(b)
            case nil, .null?: fallback = nil
            default: c.problem("\(key).default", "expected a string")
            }
            return parse(text, at: "\(key).path", in: c).map { FieldReference(path: $0, fallback: fallback) }
        default:
            c.problem(key, "expected a path string or {path: ..., default: ...}")
            return nil
        }
    }

    static func isValidMetricName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCIILetter || first == "_" || first == ":" else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == ":" }
    }

    static func isValidLabelName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCIILetter || first == "_", !s.hasPrefix("__") else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
    }

    // MARK: Applying to an event

    /// Appends the points this mapping makes from one event.
    func apply(to event: Scope, receivedAt: UInt64, into out: inout [MetricPoint]) throws(MappingFailure) {
        // Root-anchored conditions first, so an event of another type is skipped before for_each
        // insists on its array.
        for condition in conditions where condition.path.anchor == .root {
            if !condition.holds(in: event) { return }
        }
        var scopes = [event]
        if let forEach {
            do {
                scopes = try event.select(forEach).map { element in
                    var s = event
                    s.current = element
                    return s
                }
            } catch {
                throw MappingFailure(message: "missing required field", field: "\(location).for_each", path: error.path)
            }
        }
        for scope in scopes {
            if conditions.contains(where: { $0.path.anchor == .current && !$0.holds(in: scope) }) { continue }
            out.append(try point(in: scope, receivedAt: receivedAt))
        }
    }

    private func point(in scope: Scope, receivedAt: UInt64) throws(MappingFailure) -> MetricPoint {
        var v: Double
        switch value {
        case .constant(let c):
            v = c
        case .path(let p):
            let found = try required(p, in: scope, field: "value")
            v = try check(Self.number(found.value), field: "value", path: found.path)
        case .duration(let startPath, let endPath, let format):
            let start = try required(startPath, in: scope, field: "value_duration.start")
            let end = try required(endPath, in: scope, field: "value_duration.end")
            let s = try check(format.parse(start.value), field: "value_duration.start", path: start.path)
            let e = try check(format.parse(end.value), field: "value_duration.end", path: end.path)
            v = (Double(e) - Double(s)) / 1e9
        }
        v *= scale
        if kind == .deltaSum && v < 0 {
            let at: String
            if case .path(let p) = value { at = (try? scope.value(p).path) ?? "" } else { at = "" }
            throw MappingFailure(message: "a counter's value must not be negative", field: "\(location).value", path: at)
        }
        var time = receivedAt
        if let timestamp {
            let found = try required(timestamp.path, in: scope, field: "timestamp")
            time = try check(timestamp.format.parse(found.value), field: "timestamp", path: found.path)
        }
        var pointLabels = staticLabels
        for (labelName, source) in labels {
            let text = try self.text(source, in: scope, field: "labels.\(labelName)")
            if !text.isEmpty { pointLabels.append(Label(labelName, text)) }
        }
        let function = try self.function.map { ref throws(MappingFailure) in try text(ref, in: scope, field: "function") } ?? ""
        return MetricPoint(
            name: name, unit: unit, function: function, kind: kind, isMonotonic: kind == .deltaSum,
            labels: pointLabels, timeUnixNano: time, value: v)
    }

    private func required(_ path: FieldPath, in scope: Scope, field: String) throws(MappingFailure) -> Located {
        do {
            return try scope.value(path)
        } catch {
            throw MappingFailure(message: "missing required field", field: "\(location).\(field)", path: error.path)
        }
    }

    private func check<T>(_ result: Result<T, MappingProblem>, field: String, path: String) throws(MappingFailure) -> T {
        switch result {
        case .success(let v): return v
        case .failure(.wrongType(let m)), .failure(.invalid(let m)):
            throw MappingFailure(message: m, field: "\(location).\(field)", path: path)
        }
    }

    private func text(_ ref: FieldReference, in scope: Scope, field: String) throws(MappingFailure) -> String {
        let found: Located
        do {
            found = try scope.value(ref.path)
        } catch {
            if let fallback = ref.fallback { return fallback }
            throw MappingFailure(message: "missing required field", field: "\(location).\(field)", path: error.path)
        }
        return try check(Self.text(found.value), field: field, path: found.path)
    }

    /// Numbers, numeric strings and booleans (1/0).
    static func number(_ value: JSON) -> Result<Double, MappingProblem> {
        switch value {
        case .number(let literal):
            guard let d = Double(literal), d.isFinite else { return .failure(.invalid("number out of range")) }
            return .success(d)
        case .string(let s):
            guard Self.isDecimal(s), let d = Double(s), d.isFinite
            else { return .failure(.wrongType("expected a number, found a non-numeric string")) }
            return .success(d)
        case .bool(let b):
            return .success(b ? 1 : 0)
        default:
            return .failure(.wrongType("expected a number, found \(value.typeName)"))
        }
    }

    /// A JSON-style decimal literal (`-12.5e3`); rejects `inf`, `nan`, hex and signs `Double(_:)` would take.
    static func isDecimal(_ s: String) -> Bool {
        var b = Substring(s).utf8[...]
        func digits() -> Int {
            let n = b.prefix { (0x30...0x39).contains($0) }.count
            b = b.dropFirst(n)
            return n
        }
        if b.first == UInt8(ascii: "-") { b = b.dropFirst() }
        guard digits() > 0 else { return false }
        if b.first == UInt8(ascii: ".") {
            b = b.dropFirst()
            guard digits() > 0 else { return false }
        }
        if b.first == UInt8(ascii: "e") || b.first == UInt8(ascii: "E") {
            b = b.dropFirst()
            if b.first == UInt8(ascii: "+") || b.first == UInt8(ascii: "-") { b = b.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return b.isEmpty
    }

    /// Label text: strings as they are, integers exactly as written, other numbers in Swift's
    /// shortest form, booleans as `true`/`false`.
    static func text(_ value: JSON) -> Result<String, MappingProblem> {
        switch value {
        case .string(let s): return .success(s)
        case .bool(let b): return .success(b ? "true" : "false")
        case .number(let literal):
            if literal.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) { return .success(literal) }
            guard let d = Double(literal) else { return .failure(.invalid("number out of range")) }
            if let i = Int64(exactly: d) { return .success(String(i)) }
            return .success(String(d))
        default:
            return .failure(.wrongType("expected a string, number or boolean, found \(value.typeName)"))
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
