public import CFireflyPlugin
public import FireflyModel
public import FireflyPluginKit
import Foundation
import Synchronization

/// Writes every exported point and span as one JSON line (`{"point": …}` / `{"span": …}`) to the
/// file named by `path`, or to standard output. The first thing to reach for when wiring a new source.
public final class DebugExporter: ExporterPlugin {
    public static let pluginName = "debug"
    public static let pluginVersion = "0.1.0"
    public static let signals: Signals = .all
    public static let pluginDescription = "Writes points, spans, log records and invocations as JSON lines to a file or stdout"

    /// Lines of concurrent exports never interleave.
    private let handle: Mutex<FileHandle>
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
        if discard {
            handle = Mutex(FileHandle.nullDevice)
        } else if let path, !path.isEmpty, path != "-" {
            let url = URL(fileURLWithPath: path)
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil) else {
                    throw PluginConfigError(problems: ["path: cannot create '\(path)'"])
                }
            }
            guard let h = FileHandle(forWritingAtPath: path) else {
                throw PluginConfigError(problems: ["path: cannot open '\(path)' for writing"])
            }
            h.seekToEndOfFile()
            handle = Mutex(h)
        } else {
            handle = Mutex(FileHandle.standardOutput)
        }
    }

    /// `discard`: acknowledged as it arrives, never converted.
    public func exportWithoutConversion(_ batch: UnsafePointer<firefly_batch>) -> ExportResult? {
        discard ? .ok : nil
    }

    public func export(_ batch: TelemetryBatch) async -> ExportResult {
        let out = DebugLines.encode(batch)
        do {
            try handle.withLock { try $0.write(contentsOf: out) }
        } catch {
            return .retryable(after: .seconds(1), message: "cannot write: \(error)")
        }
        return .ok
    }

    public func flush() async {
        handle.withLock { try? $0.synchronize() }
    }
}
