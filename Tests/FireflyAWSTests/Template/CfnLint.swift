// cfn-lint (PyPI), the CloudFormation linter AWS maintains, run on generated templates.
import FireflyTestSupport
import Foundation

enum CfnLint {
    /// `make test` installs cfn-lint (scripts/bootstrap); elsewhere the tests needing it are skipped,
    /// except under CI=true, where a missing cfn-lint fails them.
    static let installed: Bool = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/cfn-lint")
    }
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"
    static var shouldRun: Bool { installed || required }

    /// Lints every file in one cfn-lint run; returns the error findings (rule ids starting with E)
    /// and the warnings (W) separately.
    static func lint(_ files: [String]) throws -> (errors: [String], warnings: [String], status: Int32) {
        guard installed else {
            throw LintFailure(description: "cfn-lint is not installed (pip install cfn-lint; `make test` installs it through scripts/bootstrap)")
        }
        let result = try run("/usr/bin/env", ["cfn-lint", "--format", "parseable", "--regions", "us-east-1", "--"] + files)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // parseable: file:line:column:endline:endcolumn:RULE:message
        func rule(_ line: String) -> String { line.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false).dropFirst(5).first.map(String.init) ?? "" }
        let errors = lines.filter { rule($0).hasPrefix("E") }
        let warnings = lines.filter { rule($0).hasPrefix("W") }
        if result.status != 0 && errors.isEmpty && warnings.isEmpty {
            // Not a finding but a failure of cfn-lint itself (bad arguments, a crash).
            let informational = lines.allSatisfy { rule($0).hasPrefix("I") }
            if !informational || lines.isEmpty {
                throw LintFailure(description: "cfn-lint exited \(result.status): \(result.stderr) \(result.stdout)")
            }
        }
        return (errors, warnings, result.status)
    }

    struct LintFailure: Error, CustomStringConvertible {
        var description: String
    }
}
