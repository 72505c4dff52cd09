// Command-line options of firefly-bench (scripts/bench.sh passes them).
import Foundation

struct Arguments: Sendable {
    /// The release `firefly` binary.
    var firefly = ".build/release/firefly"
    /// Where configs, queues, logs and results go.
    var workDir = ".firefly/bench"
    /// Directory holding the staged plugin .so files.
    var plugins = ".firefly/plugins"
    /// Loopback port for the benchmark collector.
    var port = 14318
    var postgresURL: String?
    var psql = "psql"
    var prometheusURL: String?
    /// Length of each throughput measurement.
    var seconds = 3.0
    var commit = ""
    /// Only these groups (comma separated): decode, queue, ready, ingest, remote-write, postgres.
    var only: Set<String>?

    static let usage = """
        usage: firefly-bench [--firefly PATH] [--work-dir DIR] [--plugins DIR] [--port N]
                             [--postgres-url URL] [--psql PATH] [--prometheus-url URL]
                             [--seconds S] [--commit SHA] [--only decode,queue,ready,intake,ingest,remote-write,postgres]
        """

    static func parse(_ argv: [String]) -> Arguments {
        var a = Arguments()
        var i = 1
        func value() -> String {
            i += 1
            guard i < argv.count else { fail("\(argv[i - 1]) needs a value") }
            return argv[i]
        }
        while i < argv.count {
            switch argv[i] {
            case "--firefly": a.firefly = value()
            case "--work-dir": a.workDir = value()
            case "--plugins": a.plugins = value()
            case "--port": a.port = Int(value()) ?? a.port
            case "--postgres-url": a.postgresURL = value()
            case "--psql": a.psql = value()
            case "--prometheus-url": a.prometheusURL = value()
            case "--seconds": a.seconds = Double(value()) ?? a.seconds
            case "--commit": a.commit = value()
            case "--only": a.only = Set(value().split(separator: ",").map(String.init))
            case "-h", "--help":
                print(usage)
                exit(0)
            default: fail("unknown option \(argv[i])")
            }
            i += 1
        }
        return a
    }

    func wants(_ group: String) -> Bool { only?.contains(group) ?? true }

    var duration: Duration { .milliseconds(Int64(seconds * 1000)) }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("firefly-bench: \(message)\n\(usage)\n".utf8))
        exit(2)
    }

    /// An absolute path (the collector runs in the work directory).
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
