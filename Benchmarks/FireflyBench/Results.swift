// Benchmark results: the printed table and the JSON file under .firefly/bench/.
import Foundation

/// One figure of the benchmark.
struct BenchResult: Codable, Sendable {
    /// Section of the table: `decode`, `firehose ingest`, `otlp ingest`, `postgres`, …
    var group: String
    var name: String
    /// nil when the measurement could not run (`note` says why).
    var value: Double?
    var unit: String
    /// Extra figures: MiB/s, latency percentiles, request counts.
    var detail: String
    /// The project's target for this figure, if it has one (`≥ 1000000 records/s/core`).
    var target: String?
    /// `met`, `missed` or nil when there is no target.
    var verdict: String?
    var machine: String
    var extra: [String: Double] = [:]

    var valueText: String {
        guard let value else { return "n/a" }
        return BenchResult.format(value) + " " + unit
    }

    static func format(_ v: Double) -> String {
        if v >= 100 { return BenchResult.grouped(Int(v.rounded())) }
        if v >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }

    static func grouped(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0, (s.count - i) % 3 == 0 { out += " " }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}

/// A whole run, as written to `.firefly/bench/bench-<time>.json`.
struct BenchReport: Codable, Sendable {
    var started: String
    var seconds: Double
    var commit: String
    var machine: Machine
    var results: [BenchResult]
}

enum Table {
    static func render(_ results: [BenchResult], machine: Machine) -> String {
        let header = ["GROUP", "MEASUREMENT", "RESULT", "TARGET", "DETAIL"]
        let rows = results.map { r in
            [
                r.group, r.name, r.valueText,
                r.target.map { "\($0) \(r.verdict == "met" ? "✓" : r.verdict == "missed" ? "✗" : "")" } ?? "",
                r.detail,
            ]
        }
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        var lines = ["machine: \(machine.summary), \(machine.kernel), load average at start \(machine.loadAverage)"]
        for row in all {
            lines.append(
                row.enumerated().map { i, cell in
                    i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
