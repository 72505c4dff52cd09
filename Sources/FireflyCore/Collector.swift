import CFireflyPlugin
import FireflyModel
import FireflyPluginKit
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
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
    let receivers: [ReceiverInstance]
    let exporters: [ExporterInstance]
    let ingest: Ingest
    var queue: any TelemetryQueue { ingest.queue! }
    var router: Router { ingest.router }
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
        let used = Set(config.receivers.map(\.plugin) + config.exporters.map(\.plugin))
        let registry = PluginRegistry.scan(paths: config.plugins.paths, relativeTo: FileManager.default.currentDirectoryPath, using: used)
        if !registry.notLoaded.isEmpty {
            logger.info("not loaded (no receiver or exporter in \(config.file) uses them): \(registry.notLoaded.joined(separator: ", "))")
        }
        let (relevant, ignorable) = registry.problems(using: used)
        for problem in ignorable {
            logger.warning("skipping \(problem.file): \(problem.message) (no receiver or exporter in \(config.file) uses it)")
        }
        var problems: [ConfigProblem] = relevant.map {
            ConfigProblem(file: $0.file, location: nil, path: "", message: $0.message)
        }
        problems += configProblems
        let ingest = Ingest(router: Router(pipelines: config.pipelines), metrics: metrics, logger: logger)
        var factory = InstanceFactory(config: config, registry: registry, logger: logger, metrics: metrics)
        var receivers: [ReceiverInstance] = []
        var exporters: [ExporterInstance] = []

        let emit: @Sendable (String, UnsafePointer<firefly_batch>) -> (firefly_emit_status, UInt32) = { receiver, cBatch in
            ingest.emit(receiver: receiver, batch: cBatch)
        }
        for instance in config.receivers {
            guard let library = factory.library(for: instance, section: "receivers", kind: .adapter),
                  let (pointer, host) = factory.create(instance, library, section: "receivers") else { continue }
            receivers.append(ReceiverInstance(name: instance.name, library: library, instance: pointer, services: host, emit: emit))
        }
        for instance in config.exporters {
            guard let library = factory.library(for: instance, section: "exporters", kind: .exporter),
                  let (pointer, host) = factory.create(instance, library, section: "exporters") else { continue }
            exporters.append(ExporterInstance(name: instance.name, library: library, instance: pointer, services: host))
        }
        problems += factory.problems
        problems += signalProblems(config: config, libraries: { registry.plugins[$0] })
        // Routes: unique across receivers and clear of the built-in endpoints.
        var owners: [CollectorResponder.RouteKey: String] = [:]
        for receiver in receivers {
            let location = config.receivers.first { $0.name == receiver.name }?.location
            for route in receiver.routes {
                let key = CollectorResponder.RouteKey(method: route.method, path: route.path)
                if CollectorResponder.builtInPaths.contains(route.path) {
                    problems.append(ConfigProblem(file: config.file, location: location, path: "receivers.\(receiver.name)", message: "route \(route.path) is reserved for the collector itself"))
                } else if let other = owners[key] {
                    problems.append(ConfigProblem(file: config.file, location: location, path: "receivers.\(receiver.name)", message: "route \(route.method) \(route.path) is already served by receiver '\(other)'; give one of them another path"))
                } else {
                    owners[key] = receiver.name
                }
            }
        }
        problems.sort { ($0.file != config.file ? 0 : 1, $0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.file != config.file ? 0 : 1, $1.location?.line ?? 0, $1.location?.column ?? 0) }
        if !problems.isEmpty {
            for a in receivers { a.destroy() }
            for e in exporters { e.destroy() }
            throw ConfigError(problems: problems)
        }
        for instance in config.receivers + config.exporters {
            let used = config.pipelines.contains { $0.receivers.contains(instance.name) || $0.exporters.contains(instance.name) }
            if !used { logger.warning("'\(instance.name)' is defined but no pipeline uses it") }
        }
        return Collector(config: config, metrics: metrics, registry: registry, receivers: receivers, exporters: exporters,
                         ingest: ingest, logger: logger, services: factory.services)
    }

    private init(config: FireflyConfig, metrics: SelfMetrics, registry: PluginRegistry, receivers: [ReceiverInstance],
                 exporters: [ExporterInstance], ingest: Ingest, logger: Logger, services: [HostServices]) {
        self.config = config
        self.metrics = metrics
        self.registry = registry
        self.receivers = receivers
        self.exporters = exporters
        self.ingest = ingest
        self.logger = logger
        self.services = services
    }

    /// Opens the configured queue (the durable one recovers what it holds).
    func openQueue() throws(ConfigError) {
        let q = config.queue
        switch q.type {
        case .memory:
            ingest.attach(MemoryQueue(maxBytes: q.maxBytes, consumers: config.exporters.map(\.name)))
        case .disk:
            do {
                ingest.attach(try DurableQueue(
                    directory: q.directory, maxBytes: q.maxBytes, consumers: config.exporters.map(\.name),
                    fsync: q.fsync, segmentBytes: q.segmentBytes, logger: logger, metrics: metrics))
            } catch {
                throw ConfigError(problems: [ConfigProblem(file: config.file, location: nil, path: "queue.directory", message: error.description)])
            }
        }
        registerGauges()
    }

    /// The queue and exporter gauges, read at scrape time.
    private func registerGauges() {
        let queue = self.queue
        metrics.gauge(SelfMetricCatalog.queueRecords.name) { Double(queue.stats.records) }
        metrics.gauge(SelfMetricCatalog.queueBytes.name) { Double(queue.stats.bytes) }
        for e in exporters {
            let name = e.name
            metrics.gauge(SelfMetricCatalog.exporterLagRecords.name, [("exporter", name)]) { Double(queue.lag(consumer: name).records) }
            metrics.gauge(SelfMetricCatalog.exporterLagSeconds.name, [("exporter", name)]) { queue.lag(consumer: name).seconds }
        }
    }

    /// Serves until SIGTERM/SIGINT, then stops accepting requests, drains exporters within
    /// `queue.drain_timeout`, flushes and destroys every plugin instance.
    /// `onListening` receives the bound port (useful with `listen: 127.0.0.1:0`).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        MallocTuning.apply()
        try openQueue()
        var started: [ReceiverInstance] = []
        for receiver in receivers {
            do {
                try receiver.start()
                started.append(receiver)
            } catch {
                for a in started { a.stop() }
                queue.close()
                throw ConfigError(problems: error.lines.map {
                    ConfigProblem(file: config.file, location: config.receivers.first { $0.name == receiver.name }?.location,
                                  path: "receivers.\(receiver.name)", message: "cannot start: \($0)")
                })
            }
        }
        let threadPool = NIOThreadPool(numberOfThreads: config.server.workerThreads)
        threadPool.start()
        let state = ServerState()
        let responder = CollectorResponder(
            receivers: receivers, maxBodyBytes: config.server.maxBodyBytes, bodyPace: config.server.bodyPace, threadPool: threadPool,
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

extension Collector {
    /// Destroys every plugin instance without serving (used by `firefly check`).
    public func release() {
        for e in exporters { e.destroy() }
        for a in receivers { a.destroy() }
    }
}
