// `firefly dead-letters replay`: exports dead-lettered items again once their cause is fixed.
import FireflyModel
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a replay of the dead-letter file did.
public struct DeadLetterReplayReport: Sendable {
    /// Entries exported again (whole or in part).
    public var entriesReplayed = 0
    /// Items the exporter accepted; their entries are gone from the file.
    public var itemsDelivered = 0
    /// Items rejected again; they stay in the file with the new reason.
    public var itemsRejected = 0
    /// The reasons of the items rejected again, each once.
    public var reasons: [String] = []
    /// Entries left as they were: other exporters', or not tried because the replay stopped.
    public var entriesKept = 0
    /// Exporters named in the file that the configuration does not have (their entries are kept).
    public var unknownExporters: [String] = []
    /// Why the replay stopped early (the exporter stayed unavailable), if it did.
    public var stopped: String?
}

extension Collector {
    /// The dead-letter file of the configured queue directory.
    public var deadLetterFile: DeadLetterFile {
        DeadLetterFile(path: PathText.join(config.queue.directory, "dead-letters.jsonl"))
    }

    /// Exports the dead-lettered items of `exporter` (every exporter when nil) again with the
    /// configured exporter instances. Delivered items leave the file; a rejected entry is split like
    /// a batch in `serve`, and only the items rejected again stay, with the new reason. A retryable
    /// failure is retried with the queue's backoff a few times, then the replay stops and keeps the
    /// rest. Safe while `serve` runs: lines it appends meanwhile are kept.
    public func replayDeadLetters(exporter name: String?) async throws -> DeadLetterReplayReport {
        let file = deadLetterFile
        let data = file.read()
        var report = DeadLetterReplayReport()
        var kept = Data()
        var unknown: Set<String> = []
        for (line, entry) in DeadLetterFile.lines(of: data) {
            guard report.stopped == nil, let entry, name == nil || entry.exporter == name else {
                kept.append(line)
                kept.append(0x0A)
                report.entriesKept += 1
                continue
            }
            guard let exporter = exporters.first(where: { $0.name == entry.exporter }) else {
                unknown.insert(entry.exporter)
                kept.append(line)
                kept.append(0x0A)
                report.entriesKept += 1
                continue
            }
            var rejected: [DeadLetterFile.Entry] = []
            var stopReason: String?
            let finished = await RejectionSplitter.deliver(
                entry.batch,
                export: { part in
                    let (outcome, reason) = await attempt(part, with: exporter)
                    if outcome == .stopped { stopReason = reason }
                    return outcome
                },
                split: { _, _ in },
                rejected: { item, message in
                    rejected.append(DeadLetterFile.Entry(
                        exporter: entry.exporter, reason: message, time_unix_nano: HostServices.wallClock(), batch: item))
                })
            guard finished else {
                report.stopped = stopReason ?? "the exporter did not answer"
                kept.append(line)
                kept.append(0x0A)
                report.entriesKept += 1
                continue
            }
            report.entriesReplayed += 1
            let rejectedItems = rejected.reduce(0) { $0 + $1.batch.itemCount }
            report.itemsRejected += rejectedItems
            report.itemsDelivered += entry.batch.itemCount - rejectedItems
            for r in rejected {
                if !report.reasons.contains(r.reason) { report.reasons.append(r.reason) }
                if let encoded = DeadLetterFile.encode(r) { kept.append(encoded) }
            }
        }
        report.unknownExporters = unknown.sorted()
        try file.replace(consumed: data.count, with: kept)
        return report
    }

    /// One export with up to `replayAttempts` tries on retryable failures.
    private func attempt(_ batch: TelemetryBatch, with exporter: ExporterInstance) async -> (RejectionSplitter.Outcome, String?) {
        var backoff = Backoff(initial: config.queue.retryInitial, maximum: config.queue.retryMax)
        var lastMessage: String?
        for number in 1...Self.replayAttempts {
            switch await exporter.export(batch) {
            case .ok: return (.delivered, nil)
            case .permanent(let message): return (.rejected(message: message), nil)
            case .retryable(let after, let message):
                lastMessage = "\(exporter.name): \(message)"
                if number < Self.replayAttempts { try? await Task.sleep(for: backoff.next(retryAfter: after) { Double.random(in: 0..<1) }) }
            }
        }
        return (.stopped, lastMessage)
    }

    /// Tries of one export during a replay before it stops (the store is down: replay later).
    static let replayAttempts = 3

    /// Flushes and destroys every plugin instance after a replay.
    public func finishReplay() {
        for e in exporters { e.flush() }
        release()
    }
}
