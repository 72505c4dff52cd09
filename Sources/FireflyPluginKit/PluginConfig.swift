#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import FireflyModel

/// Every problem found in a plugin instance's configuration, one per line, each starting with
/// the key path (`access_keys[1]: must not be empty`). The host prefixes the instance path and
/// the firefly.yaml line:column.
public struct PluginConfigError: Error, Equatable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }

    public init(problems: [String]) { self.problems = problems }
}

/// Reads a plugin instance's configuration (the JSON the host passes to `create`), collecting
/// every problem instead of stopping at the first, and reporting unknown keys with a
/// "did you mean" suggestion when `finish()` is called.
///
///     let config = try PluginConfig(json: text)
///     let path = config.string("path", default: "/firehose")
///     try config.finish()
public final class PluginConfig: @unchecked Sendable {
    private let values: [String: JSONValue]
    private let prefix: String
    private var read: Set<String> = []
    private let problems: Problems

    final class Problems { var list: [String] = [] }

    /// Parses the JSON object the host passes; an empty text is an empty object.
    public convenience init(json: String) throws {
        let text = json.trimmed()
        guard !text.isEmpty else {
            self.init(values: [:], prefix: "", problems: Problems())
            return
        }
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            throw PluginConfigError(problems: ["configuration must be a mapping of keys to values"])
        }
        self.init(values: object, prefix: "", problems: Problems())
    }

    /// A configuration from Swift values, for tests of plugin logic.
    public convenience init(_ values: [String: JSONValue]) {
        self.init(values: values, prefix: "", problems: Problems())
    }

    private init(values: [String: JSONValue], prefix: String, problems: Problems) {
        self.values = values
        self.prefix = prefix
        self.problems = problems
    }

    /// Records a problem at `key` (relative to this reader).
    public func problem(_ key: String, _ message: String) {
        problems.list.append("\(path(key)): \(message)")
    }

    public func has(_ key: String) -> Bool { values[key] != nil && values[key] != .null }

    private func path(_ key: String) -> String {
        if key.isEmpty { return prefix.isEmpty ? "(config)" : prefix }
        if key.hasPrefix("[") { return prefix + key }
        return prefix.isEmpty ? key : "\(prefix).\(key)"
    }

    private func raw(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let v = values[key], v != .null else { return nil }
        return v
    }

    public func optionalString(_ key: String) -> String? {
        guard let v = raw(key) else { return nil }
        if case .string(let s) = v { return s }
        if case .number(let n) = v { return Self.format(n) }
        problem(key, "expected a string")
        return nil
    }

    public func string(_ key: String, default value: String) -> String {
        optionalString(key) ?? value
    }

    /// A string that must be one of `allowed`.
    public func choice(_ key: String, _ allowed: [String], default value: String) -> String {
        let s = string(key, default: value)
        guard allowed.contains(s) else {
            problem(key, "must be one of \(allowed.joined(separator: ", ")), not '\(s)'")
            return value
        }
        return s
    }

    public func bool(_ key: String, default value: Bool) -> Bool {
        guard let v = raw(key) else { return value }
        if case .bool(let b) = v { return b }
        problem(key, "expected true or false")
        return value
    }

    public func int(_ key: String, default value: Int, range: ClosedRange<Int>? = nil) -> Int {
        guard let v = raw(key) else { return value }
        guard case .number(let n) = v, let i = Int(exactly: n) else {
            problem(key, "expected an integer")
            return value
        }
        if let range, !range.contains(i) {
            problem(key, "must be between \(range.lowerBound) and \(range.upperBound), not \(i)")
            return value
        }
        return i
    }

    public func double(_ key: String, default value: Double) -> Double {
        guard let v = raw(key) else { return value }
        guard case .number(let n) = v else {
            problem(key, "expected a number")
            return value
        }
        return n
    }

    /// A duration written `500ms`, `30s`, `5m`, `12h`, `30d` (or a bare number of seconds).
    public func duration(_ key: String, default value: Duration?) -> Duration? {
        guard let v = raw(key) else { return value }
        if case .number(let n) = v { return .milliseconds(Int64(n * 1000)) }
        guard case .string(let s) = v, let d = Self.parseDuration(s) else {
            problem(key, "expected a duration such as 500ms, 30s, 5m, 12h or 30d")
            return value
        }
        return d
    }

    /// Reads `500ms`, `1.5s`, `5m`, `12h`, `30d` or a bare number of seconds (`90`); nil for
    /// anything else (signs, exponents, `inf`, other units, more than 100 years).
    public static func parseDuration(_ text: String) -> Duration? {
        func duration(_ number: Substring, _ millisecondsPerUnit: Double) -> Duration? {
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let n = Double(number) else {
                return nil
            }
            let ms = n * millisecondsPerUnit
            guard ms <= 100 * 365 * 86_400_000 else { return nil }
            return .milliseconds(Int64(ms))
        }
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, ms) in units where text.hasSuffix(suffix) {
            if let d = duration(text.dropLast(suffix.count), ms) { return d }
        }
        return duration(Substring(text), 1000)
    }

    public func stringList(_ key: String, default value: [String]) -> [String] {
        guard let v = raw(key) else { return value }
        if case .string(let s) = v { return [s] }
        guard case .array(let list) = v else {
            problem(key, "expected a list of strings")
            return value
        }
        var out: [String] = []
        for (i, item) in list.enumerated() {
            if case .string(let s) = item { out.append(s) } else { problem("\(key)[\(i)]", "expected a string") }
        }
        return out
    }

    /// A string → string mapping (headers, static labels).
    public func stringMap(_ key: String) -> [(String, String)] {
        guard let v = raw(key) else { return [] }
        guard case .object(let map) = v else {
            problem(key, "expected a mapping of strings")
            return []
        }
        var out: [(String, String)] = []
        for k in map.keys.sorted() {
            if case .string(let s)? = map[k] { out.append((k, s)) }
            else if case .number(let n)? = map[k] { out.append((k, Self.format(n))) }
            else { problem("\(key).\(k)", "expected a string") }
        }
        return out
    }

    /// A nested mapping, read with the same rules (its unknown keys are reported by `finish`).
    public func object(_ key: String) -> PluginConfig? {
        guard let v = raw(key) else { return nil }
        guard case .object(let map) = v else {
            problem(key, "expected a mapping")
            return nil
        }
        let child = PluginConfig(values: map, prefix: path(key), problems: problems)
        children.append(child)
        return child
    }

    /// A list of mappings.
    public func objectList(_ key: String) -> [PluginConfig] {
        guard let v = raw(key) else { return [] }
        guard case .array(let list) = v else {
            problem(key, "expected a list")
            return []
        }
        var out: [PluginConfig] = []
        for (i, item) in list.enumerated() {
            guard case .object(let map) = item else {
                problem("\(key)[\(i)]", "expected a mapping")
                continue
            }
            let child = PluginConfig(values: map, prefix: path("\(key)[\(i)]"), problems: problems)
            children.append(child)
            out.append(child)
        }
        return out
    }

    private var children: [PluginConfig] = []
    private var finished = false

    /// Reports unknown keys (with suggestions) and throws every problem found, if any.
    public func finish() throws(PluginConfigError) {
        if !finished {
            finished = true
            collectUnknownKeys()
        }
        if !problems.list.isEmpty { throw PluginConfigError(problems: problems.list) }
    }

    private func collectUnknownKeys() {
        for key in values.keys.sorted() where !read.contains(key) {
            var message = "unknown key '\(key)'"
            if let s = Suggestion.closest(to: key, among: read) { message += " (did you mean '\(s)'?)" }
            problem(key, message)
        }
        for child in children { child.collectUnknownKeys() }
    }

    static func format(_ n: Double) -> String {
        if let i = Int64(exactly: n) { return String(i) }
        return String(n)
    }

    /// The raw value at `key`, for plugins with their own structured sections.
    public func value(_ key: String) -> JSONValue? { raw(key) }
}
