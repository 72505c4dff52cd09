import CFireflyPlugin
import FireflyModel
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// Carries the continuation, and what the batch's C memory lives in, until the plugin calls `done`.
    private final class Pending {
        let continuation: CheckedContinuation<ExportResult, Never>
        let memory: AnyObject

        init(continuation: CheckedContinuation<ExportResult, Never>, memory: AnyObject) {
            self.continuation = continuation
            self.memory = memory
        }
    }

    /// Exports Swift values (dead-letter replay): through their C view.
    func export(_ batch: TelemetryBatch) async -> ExportResult {
        let arena = CArena(chunkSize: 256 * 1024)
        return await export(BatchBridge.cBatch(batch, in: arena), keepingAlive: arena)
    }

    /// Exports queue records' items as they were decoded from the queue.
    func export(_ slice: ExportSlice) async -> ExportResult {
        await export(slice.cBatch(), keepingAlive: slice.batch)
    }

    /// Hands a C batch to the plugin; `memory` holds the batch's memory until the plugin is done.
    private func export(_ c: UnsafePointer<firefly_batch>, keepingAlive memory: AnyObject) async -> ExportResult {
        await withCheckedContinuation { (continuation: CheckedContinuation<ExportResult, Never>) in
            let pending = Unmanaged.passRetained(Pending(continuation: continuation, memory: memory)).toOpaque()
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
