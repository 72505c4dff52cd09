import CFireflyPlugin
import FireflyModel
import FireflyPluginKit
import Foundation

/// A live exporter plugin instance. One export in flight at a time (the ABI's promise).
final class ExporterInstance: @unchecked Sendable {
    let name: String
    let library: PluginLibrary
    private let instance: UnsafeMutableRawPointer
    private let services: HostServices

    init(name: String, library: PluginLibrary, instance: UnsafeMutableRawPointer, services: HostServices) {
        self.name = name
        self.library = library
        self.instance = instance
        self.services = services
    }

    /// Carries the continuation and the batch's C memory until the plugin calls `done`.
    private final class Pending {
        let continuation: CheckedContinuation<ExportResult, Never>
        let arena: CArena

        init(continuation: CheckedContinuation<ExportResult, Never>, arena: CArena) {
            self.continuation = continuation
            self.arena = arena
        }
    }

    func export(_ batch: TelemetryBatch) async -> ExportResult {
        await withCheckedContinuation { (continuation: CheckedContinuation<ExportResult, Never>) in
            let arena = CArena(chunkSize: 256 * 1024)
            let c = BatchBridge.cBatch(batch, in: arena)
            let pending = Unmanaged.passRetained(Pending(continuation: continuation, arena: arena)).toOpaque()
            library.descriptor.pointee.export_batch!(instance, c, { ctx, result, retryAfter, message in
                let pending = Unmanaged<Pending>.fromOpaque(ctx!).takeRetainedValue()
                let text = message.string
                let outcome: ExportResult
                switch result {
                case FIREFLY_EXPORT_OK.rawValue: outcome = .ok
                case FIREFLY_EXPORT_RETRYABLE.rawValue:
                    outcome = .retryable(after: retryAfter > 0 ? .milliseconds(Int64(retryAfter)) : nil, message: text)
                default: outcome = .permanent(message: text.isEmpty ? "rejected without a message" : text)
                }
                pending.continuation.resume(returning: outcome)
            }, pending)
        }
    }

    /// Blocking: run on a thread that may block.
    func flush() {
        library.descriptor.pointee.flush?(instance)
    }

    /// Blocking: run on a thread that may block.
    func destroy() {
        library.descriptor.pointee.destroy!(instance)
    }
}
