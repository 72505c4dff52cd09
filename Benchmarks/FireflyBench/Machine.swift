// Describes the machine a benchmark ran on, from /proc (Linux).
import Foundation

/// The machine every figure was measured on.
struct Machine: Codable, Sendable {
    var cores: Int
    var cpuModel: String
    var memoryMiB: Int
    var kernel: String
    var hostname: String
    /// /proc/loadavg when the run started: other work on the machine skews every figure.
    var loadAverage: String

    static func current() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
            ?? "unknown CPU"
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let kib =
            meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        var uts = utsname()
        uname(&uts)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "")
            .split(separator: " ").prefix(3).joined(separator: " ")
        return Machine(
            cores: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model, memoryMiB: kib / 1024,
            kernel: "\(field(uts.sysname)) \(field(uts.release))", hostname: ProcessInfo.processInfo.hostName,
            loadAverage: load)
    }

    /// `2 cores, AMD EPYC, 23.5 GiB` — printed beside every figure.
    var summary: String {
        "\(cores) cores, \(cpuModel), \(String(format: "%.1f", Double(memoryMiB) / 1024)) GiB"
    }
}
