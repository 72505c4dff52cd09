// What the PostgreSQL benchmarks share: a failure type, the export check, psql, and seconds from a Duration.
import Dispatch
package import FireflyPluginKit
import Foundation

/// Helpers of the PostgreSQL write benchmarks.
public enum PostgresBench {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Throws unless the exporter acknowledged the batch.
    package static func check(_ result: ExportResult) throws {
        if result != .ok { throw Failure(description: "export failed: \(result)") }
    }

    public static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Runs one psql command (`psql`: a path, or a name looked up on PATH) on a Dispatch thread, not
    /// one of Swift concurrency's few shared ones, and returns its output: tuples only, trimmed.
    @discardableResult
    public static func psql(_ psql: String, _ url: String, _ command: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try psqlBlocking(psql, url, command) })
            }
        }
    }

    private static func psqlBlocking(_ psql: String, _ url: String, _ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psql.hasPrefix("/") ? psql : "/usr/bin/env")
        process.arguments = (psql.hasPrefix("/") ? [] : [psql]) + [url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", command]
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Output is read to its end before waiting (a full pipe would block psql); psql's errors are short.
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errorData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "psql \(command.prefix(60)): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
