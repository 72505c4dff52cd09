// firefly-bench: the `make bench` driver. Measures decode rates in process, then load against
// `firefly serve` on loopback, and prints a table; the JSON goes to <work-dir>/bench-<time>.json.
import Foundation

let arguments = Arguments.parse(CommandLine.arguments)
let machine = Machine.current()
let clock = ContinuousClock()
let started = clock.now
let startedAt = ISO8601DateFormatter().string(from: Date())
try FileManager.default.createDirectory(atPath: arguments.workDir, withIntermediateDirectories: true)
log("machine: \(machine.summary)")

var results: [BenchResult] = []
var failed = false

if arguments.wants("decode") {
    log("decode rates (in process, one thread)")
    results += DecodeBenchmarks.run(machine: machine, seconds: arguments.seconds)
}
if arguments.wants("queue") {
    log("queue codec (in process, one thread)")
    results += QueueCodecBenchmarks.run(machine: machine, seconds: arguments.seconds)
}
if arguments.wants("ready") {
    log("startup with every plugin")
    do {
        results += try IngestBenchmarks.ready(arguments: arguments, machine: machine)
    } catch {
        log("startup: \(error)")
        failed = true
    }
}
if arguments.wants("ingest") || arguments.wants("intake") {
    log("building request bodies")
    let bench = IngestBenchmarks(
        arguments: arguments, machine: machine,
        firehose: [("1 MiB", try FirehoseWorkload(targetBytes: 1 << 20)), ("5 MiB", try FirehoseWorkload(targetBytes: 5 << 20))],
        otlp: OTLPWorkload())
    // `--only intake`: the no-work exporter's runs alone (the intake targets).
    let configurations: [(String, IngestBenchmarks.Exporter)] =
        arguments.wants("ingest") ? [("disk", .discard), ("disk", .devNull), ("memory", .devNull)] : [("disk", .discard)]
    for (queue, exporter) in configurations {
        do {
            results += try await bench.run(queueType: queue, exporter: exporter)
        } catch {
            log("ingest with the \(queue) queue, exporter \(exporter): \(error)")
            failed = true
        }
    }
    if let comparison = IngestBenchmarks.durableAgainstMemory(results, machine: machine) { results.append(comparison) }
}
if arguments.wants("remote-write") {
    log("remote-write into Prometheus")
    results.append(
        await RemoteWriteIntoPrometheus.run(prometheusURL: arguments.prometheusURL ?? "", duration: arguments.duration, machine: machine))
}
if arguments.wants("postgres") {
    log("PostgreSQL export")
    results += await PostgresBenchmarks.run(arguments: arguments, machine: machine)
}

let elapsed = clock.now - started
let report = BenchReport(
    started: startedAt, seconds: Double(elapsed.components.seconds), commit: arguments.commit, machine: machine, results: results)
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
let json = try encoder.encode(report)
let stamp = startedAt.replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
let file = "\(arguments.workDir)/bench-\(stamp).json"
try json.write(to: URL(fileURLWithPath: file))
try json.write(to: URL(fileURLWithPath: "\(arguments.workDir)/latest.json"))
print(Table.render(results, machine: machine))
print("\nresults: \(file) (\(Int(report.seconds)) s)")
if failed { exit(1) }
