// The dead-letter file: items an exporter rejected permanently, kept with the reason for replay.
public import FireflyModel
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Items an exporter rejected permanently, as JSON lines with the reason, one rejected item per
/// line since batches are split before anything is dead-lettered:
/// `{"exporter":…,"reason":…,"time_unix_nano":…,"batch":{…}}`. Read with `firefly dead-letters`,
/// replayed with `firefly dead-letters replay`. Appends (by `serve`) and rewrites (by a replay) take
/// an advisory lock on `<path>.lock`, so a replay never loses a line `serve` appends meanwhile.
public final class DeadLetterFile: Sendable {
    public let path: String
    /// Held with the advisory file lock: one of this process's threads at a time.
    private let lock = Mutex(())

    public init(path: String) { self.path = path }

    /// One line of the file.
    public struct Entry: Codable, Sendable {
        public var exporter: String
        public var reason: String
        public var time_unix_nano: UInt64
        public var batch: TelemetryBatch

        public init(exporter: String, reason: String, time_unix_nano: UInt64, batch: TelemetryBatch) {
            self.exporter = exporter
            self.reason = reason
            self.time_unix_nano = time_unix_nano
            self.batch = batch
        }

        /// The time it was dead-lettered, ISO 8601 in UTC.
        public var time: String {
            Date.ISO8601FormatStyle().format(Date(timeIntervalSince1970: Double(time_unix_nano) / 1e9))
        }
    }

    /// A summary of one dead-lettered entry, for `firefly dead-letters`.
    public struct Summary: Sendable {
        public var exporter: String
        public var reason: String
        public var time: String
        public var points: Int
        public var spans: Int
        /// Log records and invocations.
        public var logs: Int
    }

    /// The readable entries of a file's contents (a line that is not an entry is skipped).
    public static func entries(in data: Data) -> [Summary] {
        lines(of: data).compactMap(\.entry).map { e in
            Summary(exporter: e.exporter, reason: e.reason, time: e.time, points: e.batch.points.count, spans: e.batch.spans.count,
                    logs: e.batch.logs.count + e.batch.invocations.count)
        }
    }

    /// Each line of a file's contents with its entry, nil for a line that does not decode.
    static func lines(of data: Data) -> [(line: Data, entry: Entry?)] {
        data.split(separator: 0x0A).map { line in (Data(line), try? JSONDecoder().decode(Entry.self, from: Data(line))) }
    }

    static func encode(_ entry: Entry) -> Data? {
        guard var data = try? JSONEncoder().encode(entry) else { return nil }
        data.append(0x0A)
        return data
    }

    func write(exporter: String, reason: String, batch: TelemetryBatch) {
        let entry = Entry(exporter: exporter, reason: reason, time_unix_nano: HostServices.wallClock(), batch: batch)
        guard let data = Self.encode(entry) else { return }
        withFileLock {
            // `withFileLock` has made the directory.
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return }
            defer { close(fd) }
            _ = data.withUnsafeBytes { writeAll(fd, $0) }
        }
    }

    /// The file's contents now (empty when it does not exist).
    func read() -> Data {
        withFileLock { FileManager.default.contents(atPath: path) ?? Data() }
    }

    /// Replaces the first `consumed` bytes of the file (what an earlier `read` returned) with
    /// `replacement`, keeping whatever was appended since. The file is removed when nothing is left.
    func replace(consumed: Int, with replacement: Data) throws {
        try withFileLock {
            let now = FileManager.default.contents(atPath: path) ?? Data()
            var out = replacement
            if now.count > consumed { out.append(now.suffix(from: now.startIndex + consumed)) }
            if out.isEmpty {
                try? FileManager.default.removeItem(atPath: path)
            } else {
                try out.write(to: URL(fileURLWithPath: path), options: .atomic)
            }
        }
    }

    /// Runs `body` holding this process's lock and the advisory lock shared with other processes.
    private func withFileLock<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock { _ in
            try? FileManager.default.createDirectory(
                atPath: PathText.directory(path), withIntermediateDirectories: true)
            let fd = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 { _ = flock(fd, LOCK_EX) }
            defer { if fd >= 0 { close(fd) } }
            return try body()
        }
    }
}
