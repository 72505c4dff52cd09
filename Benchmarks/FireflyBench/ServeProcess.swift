// Starts `firefly serve` for a benchmark, measures its time to ready and its memory.
import Foundation

/// A running `firefly serve` child process.
final class ServeProcess {
    let process: Process
    let port: Int
    /// From launching the process to the first `/readyz` answering 200.
    let readyAfter: Duration

    private init(process: Process, port: Int, readyAfter: Duration) {
        self.process = process
        self.port = port
        self.readyAfter = readyAfter
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `environment` is added to this process's own (e.g. `MALLOC_ARENA_MAX`).
    static func start(
        binary: String, config: String, port: Int, directory: String, log: String, environment: [String: String] = [:]
    ) throws -> ServeProcess {
        if HTTPProbe.get(port: port, path: "/healthz", timeoutSeconds: 1) != nil {
            throw Failure(description: "something already listens on 127.0.0.1:\(port)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", config, "--log-level", "warning"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        let clock = ContinuousClock()
        let started = clock.now
        try process.run()
        while true {
            if let answer = HTTPProbe.get(port: port, path: "/readyz", timeoutSeconds: 2), answer.status == 200 {
                return ServeProcess(process: process, port: port, readyAfter: clock.now - started)
            }
            if !process.isRunning {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw Failure(description: "firefly serve exited with \(process.terminationStatus) before it was ready:\n\(text.suffix(2000))")
            }
            if clock.now - started > .seconds(60) {
                process.terminate()
                throw Failure(description: "firefly serve was not ready after 60 s (log: \(log))")
            }
            usleep(1000)
        }
    }

    /// (VmRSS, VmHWM, RssAnon) in KiB from /proc/<pid>/status. RssAnon is the private part;
    /// the rest of VmRSS is pages of the binary and shared libraries.
    func memory() -> (rssKiB: Int, peakKiB: Int, anonKiB: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        func value(_ key: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(key) }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        }
        return (value("VmRSS:"), value("VmHWM:"), value("RssAnon:"))
    }

    func metrics() -> String {
        HTTPProbe.get(port: port, path: "/metrics")?.body ?? ""
    }

    /// Waits until every exporter has caught up with the queue, at most `limit`; returns the
    /// records still lagging (0 when drained).
    func waitForExporters(limit: Duration) -> Double {
        let clock = ContinuousClock()
        let started = clock.now
        var lag = 0.0
        repeat {
            lag = HTTPProbe.sum("firefly_exporter_lag_records", in: metrics()) ?? 0
            if lag == 0 { return 0 }
            usleep(200_000)
        } while clock.now - started < limit
        return lag
    }

    /// SIGTERM, then SIGKILL after 30 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
