import CFireflyPlugin
import FireflyModel
import FireflyPluginKit
public import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
public import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The assembled collector: configuration, loaded plugins, live receiver and exporter instances.
/// `prepare` does everything `firefly check` verifies; `run` serves until SIGTERM/SIGINT.
public final class Collector: @unchecked Sendable {
    public let config: FireflyConfig
    public let metrics: SelfMetrics
    let registry: PluginRegistry
    let adapters: [AdapterInstance]
    let exporters: [ExporterInstance]
    let queueBox: QueueBox
    var queue: any TelemetryQueue { queueBox.queue! }
    let router: Router
    let logger: Logger
    private var services: [HostServices]

    /// Loads the configuration and plugins and creates every instance; throws every problem at once.
    public static func prepare(configFile: String, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) throws(ConfigError) -> Collector {
        let (config, problems) = ConfigLoader(environment: environment).loadCollectingProblems(file: configFile)
        if problems.contains(where: { $0.location == nil && $0.path.isEmpty }) {
            throw ConfigError(problems: problems)  // unreadable or not YAML: nothing more to check
        }
        return try prepare(config: config, logger: logger, configProblems: problems)
    }

    /// Loads plugins and creates instances for an already-read configuration. `configProblems` from
    /// reading it are reported together with the plugin problems found here.
    public static func prepare(config: FireflyConfig, logger: Logger, configProblems: [ConfigProblem] = []) throws(ConfigError) -> Collector {
        let metrics = SelfMetrics()
        let registry = PluginRegistry.scan(paths: config.plugins.paths, relativeTo: FileManager.default.currentDirectoryPath)
        let used = Set(config.receivers.map(\.plugin) + config.exporters.map(\.plugin))
        let (relevant, ignorable) = registry.problems(using: used)
        for problem in ignorable {
            logger.warning("skipping \(problem.file): \(problem.message) (no receiver or exporter in \(config.file) uses it)")
        }
        var problems: [ConfigProblem] = relevant.map {
            ConfigProblem(file: $0.file, location: nil, path: "", message: $0.message)
        }
        problems += configProblems
        let router = Router(pipelines: config.pipelines)
        let queue = QueueBox()
        var services: [HostServices] = []
        var adapters: [AdapterInstance] = []
        var exporters: [ExporterInstance] = []

        func resolve(_ instance: InstanceConfig, section: String, kind: PluginKind) -> PluginLibrary? {
            guard let library = registry.plugins[instance.plugin] else {
                var message = "unknown plugin '\(instance.plugin)'"
                if let s = Suggestion.closest(to: instance.plugin, among: registry.plugins.keys) { message += " (did you mean '\(s)'?)" }
                let available = registry.plugins.values.filter { $0.kind == kind }.map(\.name).sorted()
                message += available.isEmpty
                    ? "; no \(kind.rawValue) plugins were found in \(config.plugins.paths.joined(separator: ", "))"
                    : "; available \(kind.rawValue)s: \(available.joined(separator: ", "))"
                problems.append(ConfigProblem(file: config.file, location: instance.pluginLocation, path: "\(section).\(instance.name).plugin", message: message))
                return nil
            }
            guard library.kind == kind else {
                problems.append(ConfigProblem(
                    file: config.file, location: instance.pluginLocation, path: "\(section).\(instance.name).plugin",
                    message: "plugin '\(library.name)' (\(library.file)) is an \(library.kind.rawValue), but \(section) need an \(kind.rawValue)"))
                return nil
            }
            return library
        }

        func create(_ instance: InstanceConfig, _ library: PluginLibrary, section: String) -> (UnsafeMutableRawPointer, HostServices)? {
            let host = HostServices(instanceName: instance.name, logger: logger, metrics: metrics, clock: HostServices.wallClock)
            switch PluginInstantiation.create(library, name: instance.name, settingsJSON: instance.settingsJSON, services: host) {
            case .success(let pointer):
                services.append(host)
                return (pointer, host)
            case .failure(let error):
                for line in error.lines {
                    let (key, message) = Self.splitProblem(line)
                    let first = String(key.prefix { $0 != "." && $0 != "[" })
                    problems.append(ConfigProblem(
                        file: config.file, location: instance.keyLocations[first] ?? instance.location,
                        path: key.isEmpty ? "\(section).\(instance.name)" : "\(section).\(instance.name).\(key)",
                        message: key.isEmpty ? "plugin '\(library.name)' (\(library.file)): \(message)" : message))
                }
                return nil
            }
        }

        let emit: @Sendable (String, UnsafePointer<firefly_batch>) -> (firefly_emit_status, UInt32) = { receiver, cBatch in
            guard let queue = queue.queue else { return (FIREFLY_EMIT_CLOSED, 1000) }
            return Self.emit(receiver: receiver, cBatch: cBatch, router: router, queue: queue, metrics: metrics, logger: logger)
        }
        for instance in config.receivers {
            guard let library = resolve(instance, section: "receivers", kind: .adapter),
                  let (pointer, host) = create(instance, library, section: "receivers") else { continue }
            adapters.append(AdapterInstance(name: instance.name, library: library, instance: pointer, services: host, emit: emit))
        }
        for instance in config.exporters {
            guard let library = resolve(instance, section: "exporters", kind: .exporter),
                  let (pointer, host) = create(instance, library, section: "exporters") else { continue }
            exporters.append(ExporterInstance(name: instance.name, library: library, instance: pointer, services: host))
        }
        // Routes: unique across adapters and clear of the built-in endpoints.
        var owners: [CollectorResponder.RouteKey: String] = [:]
        for adapter in adapters {
            let location = config.receivers.first { $0.name == adapter.name }?.location
            for route in adapter.routes {
                let key = CollectorResponder.RouteKey(method: route.method, path: route.path)
                if CollectorResponder.builtInPaths.contains(route.path) {
                    problems.append(ConfigProblem(file: config.file, location: location, path: "receivers.\(adapter.name)", message: "route \(route.path) is reserved for the collector itself"))
                } else if let other = owners[key] {
                    problems.append(ConfigProblem(file: config.file, location: location, path: "receivers.\(adapter.name)", message: "route \(route.method) \(route.path) is already served by receiver '\(other)'; give one of them another path"))
                } else {
                    owners[key] = adapter.name
                }
            }
        }
        problems.sort { ($0.file != config.file ? 0 : 1, $0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.file != config.file ? 0 : 1, $1.location?.line ?? 0, $1.location?.column ?? 0) }
        if !problems.isEmpty {
            for a in adapters { a.destroy() }
            for e in exporters { e.destroy() }
            throw ConfigError(problems: problems)
        }
        for instance in config.receivers + config.exporters {
            let used = config.pipelines.contains { $0.receivers.contains(instance.name) || $0.exporters.contains(instance.name) }
            if !used { logger.warning("'\(instance.name)' is defined but no pipeline uses it") }
        }
        return Collector(config: config, metrics: metrics, registry: registry, adapters: adapters, exporters: exporters,
                         queueBox: queue, router: router, logger: logger, services: services)
    }

    private init(config: FireflyConfig, metrics: SelfMetrics, registry: PluginRegistry, adapters: [AdapterInstance],
                 exporters: [ExporterInstance], queueBox: QueueBox, router: Router, logger: Logger, services: [HostServices]) {
        self.config = config
        self.metrics = metrics
        self.registry = registry
        self.adapters = adapters
        self.exporters = exporters
        self.queueBox = queueBox
        self.router = router
        self.logger = logger
        self.services = services
    }

    /// Opens the configured queue (the durable one recovers what it holds).
    func openQueue() throws(ConfigError) {
        let q = config.queue
        switch q.type {
        case .memory:
            queueBox.queue = MemoryQueue(maxBytes: q.maxBytes, consumers: config.exporters.map(\.name))
        case .disk:
            do {
                queueBox.queue = try DurableQueue(
                    directory: q.directory, maxBytes: q.maxBytes, consumers: config.exporters.map(\.name),
                    fsync: q.fsync, segmentBytes: q.segmentBytes, logger: logger, metrics: metrics)
            } catch {
                throw ConfigError(problems: [ConfigProblem(file: config.file, location: nil, path: "queue.directory", message: error.description)])
            }
        }
        describeMetrics()
    }

    /// `key.path: message` → (key.path, message); lines without a key path → ("", line).
    static func splitProblem(_ line: String) -> (String, String) {
        guard let colon = line.range(of: ": ") else { return ("", line) }
        let key = line[..<colon.lowerBound]
        guard !key.isEmpty, !key.contains(" ") else { return ("", line) }
        return (String(key), String(line[colon.upperBound...]))
    }

    /// The sink behind every adapter: keep what a pipeline routes, then store it in the queue.
    static func emit(
        receiver: String, cBatch: UnsafePointer<firefly_batch>, router: Router, queue: any TelemetryQueue,
        metrics: SelfMetrics, logger: Logger
    ) -> (firefly_emit_status, UInt32) {
        let labels = [("receiver", receiver)]
        let keepPoints = router.routes(receiver: receiver, signal: .metrics)
        let keepSpans = router.routes(receiver: receiver, signal: .traces)
        let result: AppendResult
        let stored: (points: Int, spans: Int)
        do throws(BatchBridge.InvalidBatch) {
            if let records = queue as? any RecordQueue {
                // The durable queue stores records: write one straight from the C batch.
                let header = cBatch.pointee  // counts not checked yet: capped for the size estimate
                var w = records.recordWriter(capacity: 256 * min(header.point_count, 1 << 16) + 512 * min(header.span_count, 1 << 16))
                stored = try BatchRecord.encode(cBatch, receiver: receiver, keepPoints: keepPoints, keepSpans: keepSpans, into: &w)
                countUnrouted(points: header.point_count - stored.points, spans: header.span_count - stored.spans, labels, metrics)
                if stored == (0, 0) { return (FIREFLY_EMIT_OK, 0) }
                result = records.append(record: &w.bytes)
            } else {
                var batch = try BatchBridge.telemetry(from: cBatch)
                countUnrouted(points: keepPoints ? 0 : batch.points.count, spans: keepSpans ? 0 : batch.spans.count, labels, metrics)
                if !keepPoints { batch.points = [] }
                if !keepSpans { batch.spans = [] }
                if batch.isEmpty { return (FIREFLY_EMIT_OK, 0) }
                stored = (batch.points.count, batch.spans.count)
                result = queue.append(QueueEntry(receiver: receiver, batch: batch))
            }
        } catch {
            logger.error("receiver '\(receiver)' emitted an invalid batch: \(error.description)")
            return (FIREFLY_EMIT_INVALID, 0)
        }
        switch result {
        case .stored:
            metrics.increment("firefly_points_accepted_total", labels, by: Double(stored.points))
            metrics.increment("firefly_spans_accepted_total", labels, by: Double(stored.spans))
            return (FIREFLY_EMIT_OK, 0)
        case .full(let retry):
            metrics.increment("firefly_queue_rejected_batches_total", labels + [("reason", "full")])
            return (FIREFLY_EMIT_BUSY, retry)
        case .closed:
            return (FIREFLY_EMIT_CLOSED, 1000)
        }
    }

    private static func countUnrouted(points: Int, spans: Int, _ labels: [(String, String)], _ metrics: SelfMetrics) {
        if points > 0 { metrics.increment("firefly_unrouted_points_total", labels, by: Double(points)) }
        if spans > 0 { metrics.increment("firefly_unrouted_spans_total", labels, by: Double(spans)) }
    }

    private func describeMetrics() {
        metrics.describe("firefly_http_requests_total", type: "counter", "HTTP requests answered by receivers, by status")
        metrics.describe("firefly_points_accepted_total", type: "counter", "Metric points stored in the queue, by receiver")
        metrics.describe("firefly_spans_accepted_total", type: "counter", "Spans stored in the queue, by receiver")
        metrics.describe("firefly_exports_total", type: "counter", "Export attempts by exporter and result")
        metrics.describe("firefly_export_splits_total", type: "counter", "Batches rejected permanently and split in two to find the rejected items")
        metrics.describe("firefly_dead_lettered_items_total", type: "counter", "Items rejected permanently on their own and written to the dead-letter file")
        metrics.describe("firefly_export_duration_seconds", type: "histogram", "Time one export attempt took")
        metrics.describe("firefly_queue_records", type: "gauge", "Entries held in the queue")
        metrics.describe("firefly_queue_bytes", type: "gauge", "Bytes held in the queue (estimate for the memory queue)")
        metrics.describe("firefly_exporter_lag_records", type: "gauge", "Queue entries an exporter has not acknowledged yet")
        metrics.describe("firefly_exporter_lag_seconds", type: "gauge", "Age of the oldest queue entry an exporter has not acknowledged")
        metrics.describe("firefly_queue_fsync_duration_seconds", type: "histogram", "Time one group-commit fsync took")
        let queue = self.queue
        metrics.gauge("firefly_queue_records") { Double(queue.stats.records) }
        metrics.gauge("firefly_queue_bytes") { Double(queue.stats.bytes) }
        for e in exporters {
            let name = e.name
            metrics.gauge("firefly_exporter_lag_records", [("exporter", name)]) { Double(queue.lag(consumer: name).records) }
            metrics.gauge("firefly_exporter_lag_seconds", [("exporter", name)]) { queue.lag(consumer: name).seconds }
        }
    }

    /// Serves until SIGTERM/SIGINT, then stops accepting requests, drains exporters within
    /// `queue.drain_timeout`, flushes and destroys every plugin instance.
    /// `onListening` receives the bound port (useful with `listen: 127.0.0.1:0`).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        MallocArenas.limit()
        try openQueue()
        var started: [AdapterInstance] = []
        for adapter in adapters {
            do {
                try adapter.start()
                started.append(adapter)
            } catch {
                for a in started { a.stop() }
                queue.close()
                throw ConfigError(problems: error.lines.map {
                    ConfigProblem(file: config.file, location: config.receivers.first { $0.name == adapter.name }?.location,
                                  path: "receivers.\(adapter.name)", message: "cannot start: \($0)")
                })
            }
        }
        let threadPool = NIOThreadPool(numberOfThreads: config.server.workerThreads)
        threadPool.start()
        let state = ServerState()
        let responder = CollectorResponder(
            adapters: adapters, maxBodyBytes: config.server.maxBodyBytes, bodyPace: config.server.bodyPace, threadPool: threadPool,
            threadPoolSize: config.server.workerThreads, metrics: metrics, state: state, logger: logger)
        let logger = self.logger
        let http1 = HTTP1Channel.Configuration(idleTimeout: TimeAmount(config.server.idleTimeout))
        var server: HTTPServerBuilder = .http1(configuration: http1)
        if let tls = config.server.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
            server = try .tls(.http1(configuration: http1), tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let app = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "firefly"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                state.setReady(true)
                logger.info("firefly listening on \(channel.localAddress.map { "\($0)" } ?? "?")")
                onListening(port)
            },
            logger: logger)
        let pipeline = PipelineService(collector: self, threadPool: threadPool, state: state)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: pipeline), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        try? await threadPool.shutdownGracefully()
    }
}

/// Late-bound queue: instances are created (and checked) before the queue is opened.
final class QueueBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (any TelemetryQueue)?

    var queue: (any TelemetryQueue)? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Runs one worker per exporter; on graceful shutdown (after the HTTP server stopped) closes the
/// queue, lets workers drain until the deadline, then flushes and destroys every plugin instance.
struct PipelineService: Service {
    let collector: Collector
    let threadPool: NIOThreadPool
    let state: ServerState

    final class Deadline: @unchecked Sendable {
        private let lock = NSLock()
        private var value: ContinuousClock.Instant?
        func get() -> ContinuousClock.Instant? { lock.withLock { value } }
        func set(_ v: ContinuousClock.Instant) { lock.withLock { value = v } }
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
                for a in c.adapters { a.stop() }
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
        let exporters = c.exporters, adapters = c.adapters
        try? await threadPool.runIfActive {
            for e in exporters { e.flush(); e.destroy() }
            for a in adapters { a.destroy() }
        }
    }
}

extension Collector {
    /// Destroys every plugin instance without serving (used by `firefly check`).
    public func release() {
        for e in exporters { e.destroy() }
        for a in adapters { a.destroy() }
    }
}
