// PostgreSQL export next to psql \copy of the same rows.
import Foundation

enum PostgresBenchmarks {
    static func run(arguments: Arguments, machine: Machine) async -> [BenchResult] {
        let reason = "PostgresWriteBenchmark is not in plugins/postgres yet"
        return ["points", "spans"].map {
            BenchResult(
                group: "postgres", name: "export \($0)", value: nil, unit: "\($0)/s", detail: "n/a (\(reason))",
                target: "≥ 0.8 × psql \\copy", verdict: nil, machine: machine.summary)
        }
    }
}
