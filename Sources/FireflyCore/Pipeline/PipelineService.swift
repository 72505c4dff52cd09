import NIOPosix
import ServiceLifecycle
import Synchronization

/// Runs one worker per exporter; on graceful shutdown (after the HTTP server stopped) closes the
/// queue, lets workers drain until the deadline, then flushes and destroys every plugin instance.
struct PipelineService: Service {
    let collector: Collector
    let threadPool: NIOThreadPool
    let state: ServerState

    /// When draining must stop: set once shutdown begins.
    final class Deadline: Sendable {
        private let value = Mutex<ContinuousClock.Instant?>(nil)
        func get() -> ContinuousClock.Instant? { value.withLock { $0 } }
        func set(_ v: ContinuousClock.Instant) { value.withLock { $0 = v } }
    }

    func run() async throws {
        let c = collector
        let deadline = Deadline()
        let deadLetters = c.deadLetterFile
        let workers = c.exporters.map {
            ExporterWorker(exporter: $0, queue: c.queue, router: c.router, settings: c.config.queue,
                           metrics: c.metrics, logger: c.logger, deadLetters: deadLetters)
        }
        await withTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask { await worker.run(stopDeadline: { deadline.get() }) }
            }
            group.addTask {
                try? await gracefulShutdown()
                state.setReady(false)
                for a in c.receivers { a.stop() }
                deadline.set(.now + c.config.queue.drainTimeout)
                c.queue.close()
                c.logger.info("stopping: receivers are closed; exporters drain the queue for up to \(c.config.queue.drainTimeout)")
            }
            await group.waitForAll()
        }
        let lag = c.queue.stats.records
        if lag > 0 {
            switch c.config.queue.type {
            case .disk:
                c.logger.info("shutting down with \(lag) records not exported yet: they stay in the queue (\(c.config.queue.directory)) and are delivered after restart")
            case .memory:
                c.logger.warning("shutting down with \(lag) records not exported: the memory queue does not keep them, they are lost")
            }
        }
        let exporters = c.exporters, receivers = c.receivers
        try? await threadPool.runIfActive {
            for e in exporters { e.flush(); e.destroy() }
            for a in receivers { a.destroy() }
        }
    }
}
