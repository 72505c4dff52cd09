import FireflyTestSupport
import Foundation

/// Runs SQL through `psql` (UTC session) and returns column names, PostgreSQL types and rows.
struct PostgresQueryRunner {
    var url: String

    struct Result {
        var columns: [(name: String, type: String)]
        var rows: [[String]]

        func column(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }
        func values(_ name: String) -> [String] {
            guard let i = column(name) else { return [] }
            return rows.map { $0[i] }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private func psql(_ arguments: [String], _ input: String) throws -> String {
        let result = try run(
            "/usr/bin/env",
            ["PGTZ=UTC", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url] + arguments + ["-f", "-"], stdin: input)
        if result.status != 0 { throw Failure(description: result.stderr) }
        return result.stdout
    }

    func execute(_ sql: String) throws {
        _ = try psql([], sql)
    }

    /// Describes (`\gdesc`) then runs `sql`, in one psql session; fields are separated by U+001F,
    /// records by U+001E (values may hold newlines: log bodies, stack traces).
    func query(_ sql: String) async throws -> Result {
        let body = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        let marker = "-- firefly: rows follow --"
        let input = body + "\n\\gdesc\n\\echo '" + marker + "'\n" + body + ";\n"
        let runner = self
        let output = try await offThePool { try runner.psql(["-A", "-t", "-F", "\u{1F}", "-R", "\u{1E}", "-P", "null=NULL"], input) }
        guard let split = output.range(of: marker + "\n") ?? output.range(of: marker) else {
            throw Failure(description: "psql printed no row marker:\n\(output)")
        }
        func records(_ text: Substring) -> [[String]] {
            var text = text
            while text.last == "\n" { text.removeLast() }  // the newline after the last record
            return text.split(separator: "\u{1E}", omittingEmptySubsequences: true).map {
                $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            }
        }
        let columns = records(output[..<split.lowerBound]).map { parts in
            (name: parts[0].trimmingCharacters(in: .newlines), type: parts.count > 1 ? parts[1] : "")
        }
        let rows = records(output[split.upperBound...])
        return Result(columns: columns, rows: rows)
    }
}
