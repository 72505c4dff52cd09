public import CFireflyPlugin
public import FireflyModel
public import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Writes every exported point and span as one JSON line (`{"point": …}` / `{"span": …}`) to the
/// file named by `path`, or to standard output. The first thing to reach for when wiring a new source.
public final class DebugExporter: ExporterPlugin {
    public static let pluginName = "debug"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = .all
    public static let pluginDescription = "Writes points, spans, log records and invocations as JSON lines to a file or stdout"

    /// The file descriptor written to; lines of concurrent exports never interleave.
    private let output: Mutex<Int32>
    private let context: PluginContext
    /// Acknowledge every batch without writing it: an exporter that does no work, for measuring
    /// what the receivers and the queue cost on their own.
    private let discard: Bool

    public init(context: PluginContext, config: PluginConfig) throws {
        self.context = context
        let path = config.optionalString("path")
        discard = config.bool("discard", default: false)
        if discard && path != nil { config.problem("discard", "discards every batch: leave out path") }
        try config.finish()
        if let path, !discard, !path.isEmpty, path != "-" {
            let url = URL(fileURLWithPath: path)
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw PluginConfigError(problems: ["path: cannot open '\(path)' for writing (\(String(cString: strerror(errno))))"])
            }
            output = Mutex(fd)
        } else {
            // `discard` never writes; the rest goes to standard output.
            output = Mutex(STDOUT_FILENO)
        }
    }

    deinit {
        output.withLock { if $0 > STDERR_FILENO { close($0) } }
    }

    /// `discard`: acknowledged as it arrives, never converted.
    public func exportWithoutConversion(_ batch: UnsafePointer<firefly_batch>) -> ExportResult? {
        discard ? .ok : nil
    }

    public func export(_ batch: TelemetryBatch) async -> ExportResult {
        if discard { return .ok }
        let out = DebugLines.encode(batch)
        let written = output.withLock { fd in out.withUnsafeBytes { writeAll(fd, $0) } }
        guard written else { return .retryable(after: .seconds(1), message: "cannot write: \(String(cString: strerror(errno)))") }
        return .ok
    }

    public func flush() async {
        output.withLock { fd in _ = fsync(fd) }
    }
}
