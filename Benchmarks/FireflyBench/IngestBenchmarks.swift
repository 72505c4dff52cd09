// Load against a running collector: Firehose deliveries and OTLP traces over loopback HTTP.
import AsyncHTTPClient
import Foundation

/// Drives Firehose and OTLP load at several concurrencies against `firefly serve`, one fresh
/// collector (and empty queue) per run, and records readiness and memory of each.
struct IngestBenchmarks {
    var arguments: Arguments
    var machine: Machine
    var firehose: [(label: String, workload: FirehoseWorkload)]
    var otlp: OTLPWorkload
    let concurrencies = [1, 4, 16]

    /// What the collector exports to.
    enum Exporter: String {
        /// `debug` writing its JSON lines to /dev/null: the cheapest real exporter.
        case devNull
        /// `debug` with `discard: true`: acknowledges without work, so the figures are the
        /// receivers' and the queue's alone (the intake targets).
        case discard
    }

    /// The intake targets, with the no-work exporter and the durable queue.
    static let firehoseTarget = 600_000.0
    static let otlpTarget = 400_000.0

    /// One load run's collector: started on a new queue, stopped after.
    struct Run {
        var load: LoadResult
        var readyMs: Double
        var idleKiB: Int
        var peakKiB: Int
        var afterKiB: Int
        var lagRecords: Double
    }

    func run(queueType: String, exporter: Exporter = .devNull) async throws -> [BenchResult] {
        let group = exporter == .discard ? "intake (\(queueType) queue, no-work exporter)" : "ingest (\(queueType) queue)"
        let m = machine.summary
        let base = "http://127.0.0.1:\(arguments.port)"
        let client = LoadGenerator.makeClient(connections: 32)
        do {
            let results = try await runAll(queueType: queueType, exporter: exporter, client: client, group: group, m: m, base: base)
            try? await client.shutdown()
            return results
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func runAll(
        queueType: String, exporter: Exporter, client: HTTPClient, group: String, m: String, base: String
    ) async throws -> [BenchResult] {
        var results: [BenchResult] = []
        var runs: [Run] = []
        var allFirehose = LoadResult()

        for (label, workload) in firehose {
            for c in concurrencies {
                log("\(group): Firehose \(label) × \(c)")
                let run = try await measure(queueType: queueType, exporter: exporter, client: client) {
                    await LoadGenerator.run(client: client, concurrency: c, duration: arguments.duration) { n in
                        workload.request(url: base + "/firehose", n: n, accessKey: "")
                    }
                }
                runs.append(run)
                let r = run.load
                allFirehose.merge(r)
                let pointsPerSecond = Double(r.ok * workload.points) / r.seconds
                let mib = Double(r.ok * workload.uncompressedBytes) / r.seconds / 1_048_576
                let gz = Double(r.ok * workload.compressedBytes) / r.seconds / 1_048_576
                results.append(
                    BenchResult(
                        group: group, name: "Firehose \(label) gzip, concurrency \(c)", value: pointsPerSecond,
                        unit: "records/s",
                        detail: String(
                            format: "%.1f MiB/s (%.1f MiB/s gzip), %.1f req/s, ack p50 %.1f ms p99 %.1f ms, %@; RSS peak %.0f MiB",
                            mib, gz, Double(r.ok) / r.seconds, r.percentile(0.5), r.percentile(0.99), r.statusSummary,
                            Double(run.peakKiB) / 1024),
                        target: nil, verdict: nil, machine: m,
                        extra: [
                            "mib_per_s": mib, "gzip_mib_per_s": gz, "requests": Double(r.requests), "ok": Double(r.ok),
                            "ack_p50_ms": r.percentile(0.5), "ack_p99_ms": r.percentile(0.99), "concurrency": Double(c),
                            "records_per_body": Double(workload.points), "rss_peak_mib": Double(run.peakKiB) / 1024,
                            "exporter_lag_records": run.lagRecords,
                        ]))
            }
        }
        if queueType == "disk", exporter == .devNull, let (label, workload) = firehose.first, let c = concurrencies.first {
            // The collector caps glibc at two malloc arenas; glibc's own default (8 per core) trades
            // memory for less lock contention. This run shows both sides of that trade.
            let arenas = String(8 * ProcessInfo.processInfo.activeProcessorCount)
            log("\(group): Firehose \(label) × \(c) with MALLOC_ARENA_MAX=\(arenas)")
            let run = try await measure(queueType: queueType, client: client, environment: ["MALLOC_ARENA_MAX": arenas]) {
                await LoadGenerator.run(client: client, concurrency: c, duration: arguments.duration) { n in
                    workload.request(url: base + "/firehose", n: n, accessKey: "")
                }
            }
            results.append(
                BenchResult(
                    group: group, name: "Firehose \(label) gzip, concurrency \(c), MALLOC_ARENA_MAX=\(arenas)",
                    value: Double(run.peakKiB) / 1024, unit: "MiB RSS peak",
                    detail: String(
                        format: "%.0f records/s, ack p50 %.1f ms p99 %.1f ms, %@ (glibc's default arenas)",
                        Double(run.load.ok * workload.points) / run.load.seconds, run.load.percentile(0.5),
                        run.load.percentile(0.99), run.load.statusSummary),
                    target: nil, verdict: nil, machine: m, extra: ["rss_peak_mib": Double(run.peakKiB) / 1024]))
        }
        results.append(
            BenchResult(
                group: group, name: "Firehose ack latency p50 / p99", value: allFirehose.percentile(0.5), unit: "ms",
                detail: String(format: "p99 %.1f ms, over the %d requests of every Firehose run above", allFirehose.percentile(0.99), allFirehose.requests),
                target: nil, verdict: nil, machine: m,
                extra: ["p50_ms": allFirehose.percentile(0.5), "p99_ms": allFirehose.percentile(0.99)]))

        for c in concurrencies {
            log("\(group): OTLP × \(c)")
            let run = try await measure(queueType: queueType, exporter: exporter, client: client) {
                await LoadGenerator.run(client: client, concurrency: c, duration: arguments.duration) { n in
                    otlp.request(url: base + "/v1/traces", n: n)
                }
            }
            runs.append(run)
            let r = run.load
            let spans = Double(r.ok * otlp.spansPerRequest) / r.seconds
            results.append(
                BenchResult(
                    group: group, name: "OTLP/HTTP protobuf, concurrency \(c)", value: spans, unit: "spans/s",
                    detail: String(
                        format: "%d spans/request, %.1f req/s, p50 %.1f ms p99 %.1f ms, %@; RSS peak %.0f MiB",
                        otlp.spansPerRequest, Double(r.ok) / r.seconds, r.percentile(0.5), r.percentile(0.99), r.statusSummary,
                        Double(run.peakKiB) / 1024),
                    target: nil, verdict: nil, machine: m,
                    extra: [
                        "p50_ms": r.percentile(0.5), "p99_ms": r.percentile(0.99), "concurrency": Double(c),
                        "rss_peak_mib": Double(run.peakKiB) / 1024,
                    ]))
        }

        if exporter == .discard {
            // The intake targets: the best run of each receiver, durable queue, nothing exported.
            for (receiver, unit, target) in [("Firehose", "records/s", Self.firehoseTarget), ("OTLP", "spans/s", Self.otlpTarget)] {
                let best = results.filter { $0.name.hasPrefix(receiver) && $0.unit == unit }.max { ($0.value ?? 0) < ($1.value ?? 0) }
                guard let best, let value = best.value else { continue }
                results.append(
                    BenchResult(
                        group: group, name: "\(receiver) intake, best run", value: value, unit: unit,
                        detail: "\(best.name), fsync per group commit, ack after fsync",
                        target: "≥ \(Int(target))", verdict: value >= target ? "met" : "missed", machine: m))
            }
        }

        let ready = runs.map(\.readyMs).sorted()
        let idle = runs.map(\.idleKiB).sorted()
        let worst = runs.max { $0.peakKiB < $1.peakKiB }
        results.append(
            BenchResult(
                group: group, name: "ready (firehose, otlp, debug)", value: ready[ready.count / 2], unit: "ms",
                detail: "median of \(ready.count) launches → /readyz 200 (min \(Int(ready.first ?? 0)), max \(Int(ready.last ?? 0)))",
                target: nil, verdict: nil, machine: m))
        results.append(
            BenchResult(
                group: group, name: "RSS idle", value: Double(idle[idle.count / 2]) / 1024, unit: "MiB",
                detail: "VmRSS once ready, median of \(idle.count) launches", target: nil, verdict: nil, machine: m))
        let peak = worst?.peakKiB ?? 0
        // The memory queue keeps what it accepted in memory, up to the 1 GiB budget these runs give
        // it, because `debug` drains slower than the receivers accept: its peak is that budget, so
        // the 200 MiB target applies to the durable queue's runs only.
        let judged = queueType != "memory"
        results.append(
            BenchResult(
                group: group, name: "RSS peak", value: Double(peak) / 1024, unit: "MiB",
                detail: String(
                    format: "largest VmHWM of the runs above; VmRSS %.0f MiB when that run ended", Double(worst?.afterKiB ?? 0) / 1024)
                    + (judged ? "" : "; the queue's own budget is 1 GiB (no target)"),
                target: judged ? "≤ 200" : nil, verdict: judged ? (peak <= 200 * 1024 ? "met" : "missed") : nil, machine: m))
        return results
    }

    /// Starts a collector on an empty queue, waits 1 s idle, runs `load`, reads memory, stops it.
    func measure(
        queueType: String, exporter: Exporter = .devNull, client: HTTPClient, environment: [String: String] = [:],
        _ load: () async -> LoadResult
    ) async throws -> Run {
        let work = Arguments.absolute(arguments.workDir)
        let queueDirectory = "\(work)/queue-\(queueType)"
        try? FileManager.default.removeItem(atPath: queueDirectory)
        let config = "\(work)/ingest-\(queueType).yaml"
        try BenchConfig.ingest(
            port: arguments.port, plugins: Arguments.absolute(arguments.plugins), queueDirectory: queueDirectory,
            queueType: queueType, maxBytes: 1 << 30, discard: exporter == .discard
        ).write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try ServeProcess.start(
            binary: Arguments.absolute(arguments.firefly), config: config, port: arguments.port, directory: work,
            log: "\(work)/serve-\(queueType).log", environment: environment)
        defer { serve.stop() }
        try await Task.sleep(for: .seconds(1))
        let idle = serve.memory()
        let result = await load()
        let lag = HTTPProbe.sum("firefly_exporter_lag_records", in: serve.metrics()) ?? 0
        let after = serve.memory()
        return Run(
            load: result, readyMs: Self.ms(serve.readyAfter), idleKiB: idle.rssKiB, peakKiB: after.peakKiB,
            afterKiB: after.rssKiB, lagRecords: lag)
    }

    /// Ready time with every plugin loaded (median of `starts` launches), and idle memory both
    /// with every plugin and with the repository's `firefly.yaml`, which loads only the plugins
    /// it uses: the ≤ 40 MiB target is about the latter.
    static func ready(arguments: Arguments, machine: Machine, starts: Int = 5) throws -> [BenchResult] {
        let work = Arguments.absolute(arguments.workDir)
        let plugins = Arguments.absolute(arguments.plugins)
        let postgresURL = arguments.postgresURL ?? "postgres://firefly@127.0.0.1:54349/firefly"
        let config = "\(work)/all-plugins.yaml"
        try BenchConfig.allPlugins(
            port: arguments.port, plugins: plugins, queueDirectory: "\(work)/queue-all", postgresURL: postgresURL,
            remoteWriteURL: (arguments.prometheusURL ?? "http://127.0.0.1:19099") + "/api/v1/write"
        ).write(toFile: config, atomically: true, encoding: .utf8)
        var times: [Double] = []
        var idle = (rssKiB: 0, peakKiB: 0, anonKiB: 0)
        for i in 0..<starts {
            let serve = try ServeProcess.start(
                binary: Arguments.absolute(arguments.firefly), config: config, port: arguments.port, directory: work,
                log: "\(work)/serve-all-plugins.log")
            times.append(ms(serve.readyAfter))
            if i == starts - 1 { idle = idleMemory(serve) }
            serve.stop()
        }
        times.sort()
        let median = times[times.count / 2]

        let shippedConfig = "\(work)/firefly-yaml.yaml"
        try BenchConfig.shipped(
            file: Arguments.absolute("firefly.yaml"), port: arguments.port, plugins: plugins, queueDirectory: "\(work)/queue-shipped"
        ).write(toFile: shippedConfig, atomically: true, encoding: .utf8)
        let serve = try ServeProcess.start(
            binary: Arguments.absolute(arguments.firefly), config: shippedConfig, port: arguments.port, directory: work,
            log: "\(work)/serve-firefly-yaml.log", environment: ["FIREFLY_POSTGRES_URL": postgresURL])
        let shipped = idleMemory(serve)
        serve.stop()

        let m = machine.summary
        func mapped(_ memory: (rssKiB: Int, peakKiB: Int, anonKiB: Int)) -> String {
            String(format: "VmRSS 2 s after ready; %.1f MiB of it private (RssAnon), the rest mapped binary and libraries", Double(memory.anonKiB) / 1024)
        }
        return [
            BenchResult(
                group: "startup (all 6 plugins)", name: "ready", value: median, unit: "ms",
                detail: "median of \(starts) launches → /readyz 200 (\(times.map { String(format: "%.0f", $0) }.joined(separator: ", ")) ms)",
                target: "≤ 150", verdict: median <= 150 ? "met" : "missed", machine: m),
            BenchResult(
                group: "startup (all 6 plugins)", name: "RSS idle", value: Double(idle.rssKiB) / 1024, unit: "MiB",
                detail: mapped(idle), target: nil, verdict: nil, machine: m),
            BenchResult(
                group: "idle (firefly.yaml: firehose, otlp, postgres)", name: "RSS idle", value: Double(shipped.rssKiB) / 1024, unit: "MiB",
                detail: mapped(shipped), target: "≤ 40", verdict: shipped.rssKiB <= 40 * 1024 ? "met" : "missed", machine: m),
        ]
    }

    /// Memory of a collector left idle for 2 s after it became ready.
    static func idleMemory(_ serve: ServeProcess) -> (rssKiB: Int, peakKiB: Int, anonKiB: Int) {
        sleep(2)
        return serve.memory()
    }

    /// Firehose throughput with the durable queue over the memory queue's, run by run (same body
    /// size and concurrency); the figure is the worst ratio, the target that it stays ≥ 0.8.
    static func durableAgainstMemory(_ results: [BenchResult], machine: Machine) -> BenchResult? {
        func firehose(_ queue: String) -> [String: Double] {
            var out: [String: Double] = [:]
            for r in results where r.group == "ingest (\(queue) queue)" && r.name.hasPrefix("Firehose") && r.unit == "records/s" {
                if let v = r.value { out[r.name] = v }
            }
            return out
        }
        let disk = firehose("disk"), memory = firehose("memory")
        let ratios = disk.keys.sorted().compactMap { name in memory[name].map { (name, disk[name]! / $0) } }
        guard let worst = ratios.min(by: { $0.1 < $1.1 }) else { return nil }
        let each = ratios.map { String(format: "%@ %.2f×", $0.0.replacingOccurrences(of: " gzip, concurrency ", with: " × "), $0.1) }
        return BenchResult(
            group: "ingest (disk vs memory)", name: "Firehose throughput, durable ÷ memory queue", value: worst.1, unit: "× (worst run)",
            detail: each.joined(separator: ", "), target: "≥ 0.8", verdict: worst.1 >= 0.8 ? "met" : "missed",
            machine: machine.summary, extra: Dictionary(uniqueKeysWithValues: ratios))
    }

    static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data("firefly-bench: \(message)\n".utf8))
}
