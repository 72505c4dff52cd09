// Grafana's SQL macro and variable expansion for PostgreSQL panels, so tests (and tools) can run panel SQL.
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Expands a PostgreSQL panel query the way Grafana does before sending it to the database, in
/// Grafana's two steps:
///
/// 1. The frontend replaces variables: template variables (`$name`, `${name}`, `[[name]]`, single
///    values inserted as they are), `$__interval` (e.g. `1m`), `$__interval_ms`, `$__range`
///    (e.g. `3600s`), `$__from`/`$__to` (epoch milliseconds).
/// 2. The backend (pkg/tsdb/grafana-postgresql-datasource/macros.go) replaces macros
///    `$__name(args)` — arguments split on commas, no nested parentheses:
///    `$__time(c)` → `c AS "time"`; `$__timeEpoch(c)` → `extract(epoch from c) as "time"`;
///    `$__timeFilter(c)` → `c BETWEEN '<from>' AND '<to>'` (RFC 3339, UTC, nanoseconds);
///    `$__timeFrom()` / `$__timeTo()` → the quoted timestamps;
///    `$__timeGroup(c, '5m')` → `floor(extract(epoch from c)/300)*300` (the datasource has
///    `timescaledb: false`); `$__timeGroupAlias(c, '5m')` → the same `AS "time"`;
///    `$__unixEpochFilter(c)` → `c >= <from s> AND c <= <to s>`; `$__unixEpochFrom()`/`To()`.
///
/// A macro Grafana would reject (unknown name, missing argument) is an error here too.
public struct SQLMacroExpander: Sendable {
    public var from: Date
    public var to: Date
    /// The panel's `$__interval`, in seconds (Grafana derives it from range and width, bounded below by
    /// the panel's `interval`).
    public var intervalSeconds: Int
    public var variables: [String: String]

    public init(from: Date, to: Date, intervalSeconds: Int, variables: [String: String]) {
        self.from = from
        self.to = to
        self.intervalSeconds = intervalSeconds
        self.variables = variables
    }

    public struct MacroError: Error, CustomStringConvertible {
        public var description: String
    }

    public func expand(_ sql: String) throws(MacroError) -> String {
        try expandMacros(expandVariables(sql))
    }

    // MARK: - Frontend variables

    /// Grafana's interval text: whole hours, minutes or seconds (`1h`, `5m`, `30s`).
    static func intervalText(_ seconds: Int) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    func builtin(_ name: String) -> String? {
        switch name {
        case "__interval": Self.intervalText(intervalSeconds)
        case "__interval_ms": String(intervalSeconds * 1000)
        case "__range": "\(Int(to.timeIntervalSince(from).rounded()))s"
        case "__range_s": String(Int(to.timeIntervalSince(from).rounded()))
        case "__from": String(Int64((from.timeIntervalSince1970 * 1000).rounded()))
        case "__to": String(Int64((to.timeIntervalSince1970 * 1000).rounded()))
        default: variables[name]
        }
    }

    func expandVariables(_ sql: String) throws(MacroError) -> String {
        // Grafana's variable regex: $name | [[name]] | ${name[.fieldpath][:format]}
        let regex = try! Regex(#"\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]|\$\{([A-Za-z0-9_]+)\}"#)
        var out = ""
        var last = sql.startIndex
        for m in sql.matches(of: regex) {
            let whole = m.range
            let name = (1...3).compactMap { m.output[$0].substring }.map { String($0) }.first!
            out += sql[last..<whole.lowerBound]
            // Macros are the backend's; an unknown name stays as written, as Grafana leaves it.
            if let value = builtin(name), !(name.hasPrefix("__time") || name.hasPrefix("__unixEpoch")) {
                out += value
            } else {
                out += sql[whole]
            }
            last = whole.upperBound
        }
        return out + sql[last...]
    }

    // MARK: - Backend macros

    static func rfc3339(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// Seconds of a Grafana interval argument: `'5m'`, `1m`, `30s`, `1h`, `1d`.
    static func seconds(_ text: String) throws(MacroError) -> Int {
        let quotes: Set<Character> = ["'", "\"", " "]
        let t = String(text.drop { quotes.contains($0) }.reversed().drop { quotes.contains($0) }.reversed())
        let units: [(String, Int)] = [("ms", 0), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604800)]
        for (unit, factor) in units where t.hasSuffix(unit) {
            if let n = Int(t.dropLast(unit.count)), factor > 0 { return n * factor }
        }
        throw MacroError(description: "cannot parse interval '\(text)'")
    }

    func expandMacros(_ sql: String) throws(MacroError) -> String {
        let regex = try! Regex(#"\$__([_a-zA-Z0-9]+)\(([^)]*)\)"#, as: (Substring, Substring, Substring).self)
        var out = ""
        var last = sql.startIndex
        for m in sql.matches(of: regex) {
            let whole = m.range
            let name = String(m.output.1)
            let rawArgs = String(m.output.2)
            let args = rawArgs.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmed(keepingNewlines: true)
            }
            out += sql[last..<whole.lowerBound]
            out += try macro(name, args.count == 1 && args[0].isEmpty ? [] : args)
            last = whole.upperBound
        }
        let expanded = out + sql[last...]
        if expanded.contains("$__") {
            throw MacroError(description: "unexpanded macro left in: \(expanded)")
        }
        return expanded
    }

    func macro(_ name: String, _ args: [String]) throws(MacroError) -> String {
        func need(_ n: Int) throws(MacroError) {
            if args.count < n { throw MacroError(description: "macro $__\(name) needs \(n) argument(s), got \(args)") }
        }
        let fromText = "'\(Self.rfc3339(from))'"
        let toText = "'\(Self.rfc3339(to))'"
        switch name {
        case "time":
            try need(1)
            return "\(args[0]) AS \"time\""
        case "timeEpoch":
            try need(1)
            return "extract(epoch from \(args[0])) as \"time\""
        case "timeFilter":
            try need(1)
            return "\(args[0]) BETWEEN \(fromText) AND \(toText)"
        case "timeFrom": return fromText
        case "timeTo": return toText
        case "timeGroup", "timeGroupAlias":
            try need(2)
            let s = try Self.seconds(args[1])
            let group = "floor(extract(epoch from \(args[0]))/\(s))*\(s)"
            return name == "timeGroupAlias" ? group + " AS \"time\"" : group
        case "unixEpochFilter":
            try need(1)
            return "\(args[0]) >= \(Int64(from.timeIntervalSince1970)) AND \(args[0]) <= \(Int64(to.timeIntervalSince1970))"
        case "unixEpochFrom": return String(Int64(from.timeIntervalSince1970))
        case "unixEpochTo": return String(Int64(to.timeIntervalSince1970))
        default: throw MacroError(description: "unknown macro $__\(name)")
        }
    }
}
