// Sends the scenario to a collector in real time over HTTP, with progress and a summary.
import FireflyOTLP
import AsyncHTTPClient
import FireflyModel
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
import NIOCore
import NIOHTTP1

/// What `firefly demo` was asked to do.
public struct DemoOptions: Sendable {
    /// Base URL of the collector.
    public var target = "http://127.0.0.1:4318"
    public var functions = 10
    public var duration: Duration = .seconds(60)
    /// Traces started per second.
    public var rate = 5.0
    public var seed: UInt64 = 1
    public var accessKey = ""
    public var region = "us-east-1"
    public var accountID = "123456789012"
    public var firehosePath = "/firehose"
    public var tracesPath = "/v1/traces"
    public var formats: MetricStreamFormats = .both
    public var sendMetrics = true
    public var sendTraces = true
    /// Send the invocations' CloudWatch Logs (a subscription's Firehose deliveries) to `firehosePath`.
    public var sendLogs = true
    /// How often spans are sent.
    public var tick: Duration = .seconds(1)

    public init() {}
}

/// Counters of a demo run, shown as progress and in the summary.
public struct DemoReport: Sendable, Equatable {
    public var requests = 0
    /// Requests the collector answered 200.
    public var accepted = 0
    /// Requests answered with another status.
    public var refused = 0
    /// Requests that got no answer (connection refused, timeout).
    public var failed = 0
    public var points = 0
    public var spans = 0
    /// CloudWatch Logs events sent, and the invocations (REPORT lines) among them.
    public var logEvents = 0
    public var reports = 0
    public var traces = 0
    public var coldStarts = 0
    public var failedInvocations = 0
    public var bytesSent = 0
    /// Status code → count, for the summary.
    public var statuses: [Int: Int] = [:]
    public var lastProblem: String?

    public init() {}

    /// The collector took nothing: every request was refused or failed.
    public var nothingAccepted: Bool { requests > 0 && accepted == 0 }

    public var progressLine: String {
        "sent \(requests) requests (\(accepted) ok, \(refused + failed) errors), \(points) points, \(spans) spans in \(traces) traces, \(logEvents) log events, \(coldStarts) cold starts, \(failedInvocations) failed invocations"
    }
}

/// Runs a `DemoScenario` against a collector: metric deliveries at the start of every demo
/// minute (stamped with the current minute), spans every tick.
public final class DemoRunner: Sendable {
    public let options: DemoOptions
    private let progress: @Sendable (DemoReport, Duration) -> Void

    /// `progress` is called after every tick with the counters so far and the time elapsed.
    public init(options: DemoOptions, progress: @escaping @Sendable (DemoReport, Duration) -> Void = { _, _ in }) {
        self.options = options
        self.progress = progress
    }

    /// Runs for `options.duration` or until `shouldStop` says so.
    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }) async -> DemoReport {
        var scenario = DemoScenario(
            functions: options.functions, tracesPerSecond: options.rate, seed: options.seed, formats: options.formats,
            region: options.region, accountID: options.accountID, accessKey: options.accessKey)
        var report = DemoReport()
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let base = options.target.hasSuffix("/") ? String(options.target.dropLast()) : options.target

        let clock = ContinuousClock()
        let started = clock.now
        let wallStart = Self.wallClockNano()
        var nextMinute = 0
        var pendingTraces = 0.0
        var tick = 0
        while true {
            let elapsed = clock.now - started
            let now = wallStart + Self.nanoseconds(elapsed)
            let finished = elapsed >= options.duration || shouldStop()
            if options.sendMetrics, !finished, elapsed >= .seconds(60 * nextMinute) {
                let minuteStart = now / 60_000_000_000 * 60_000
                nextMinute += 1
                do {
                    for (request, points) in try scenario.metricDeliveries(minuteStartMs: minuteStart, nowMs: now / 1_000_000) {
                        let ok = await post(client, base + options.firehosePath, request.headers, request.body, &report)
                        if ok { report.points += points }
                    }
                } catch {
                    report.lastProblem = "\(error)"
                }
            }
            if options.sendTraces || options.sendLogs {
                // The invocations run whenever traces or logs are wanted; each is sent only if asked for.
                var spans: [Span]  // emptied as they are sent
                if finished {
                    spans = scenario.spans(until: now, newTraces: 0) + scenario.remainingSpans()
                } else {
                    pendingTraces += options.rate * Self.seconds(options.tick)
                    let count = Int(pendingTraces)
                    pendingTraces -= Double(count)
                    spans = scenario.spans(until: now, newTraces: count)
                }
                // Keep requests well under collectors' body limits.
                while options.sendTraces, !spans.isEmpty {
                    let chunk = Array(spans.prefix(2000))
                    spans.removeFirst(chunk.count)
                    let body = OTLPRequestEncoder.traces(chunk)
                    let ok = await post(client, base + options.tracesPath, [("Content-Type", "application/x-protobuf")], body, &report)
                    if ok { report.spans += chunk.count }
                }
                // The invocations' logs, as a log group subscription delivers them (a few seconds
                // late in AWS; at once here).
                do {
                    let deliveries = try scenario.logDeliveries(nowMs: now / 1_000_000)
                    for (request, events, invocations) in deliveries where options.sendLogs {
                        let ok = await post(client, base + options.firehosePath, request.headers, request.body, &report)
                        if ok {
                            report.logEvents += events
                            report.reports += invocations
                        }
                    }
                } catch {
                    report.lastProblem = "\(error)"
                }
                let stats = scenario.traces.stats
                report.traces = stats.traces
                report.coldStarts = stats.coldStarts
                report.failedInvocations = stats.failedInvocations
            }
            progress(report, clock.now - started)
            if finished { break }
            tick += 1
            let deadline = started + options.tick * tick
            if deadline > clock.now { try? await Task.sleep(until: deadline, clock: clock) }
        }
        try? await client.shutdown()
        return report
    }

    /// POSTs one request; returns whether the collector answered 200.
    private func post(
        _ client: HTTPClient, _ url: String, _ headers: [(name: String, value: String)], _ body: [UInt8],
        _ report: inout DemoReport
    ) async -> Bool {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        report.requests += 1
        report.bytesSent += body.count
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 1 << 20)
            let code = Int(response.status.code)
            report.statuses[code, default: 0] += 1
            if code == 200 {
                report.accepted += 1
                return true
            }
            report.refused += 1
            let text = String(buffer: answer).prefix(300)
            report.lastProblem = "\(url) answered \(code): \(text)"
            return false
        } catch {
            report.failed += 1
            report.lastProblem = "\(url): \(error)"
            return false
        }
    }

    static func wallClockNano() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func nanoseconds(_ d: Duration) -> UInt64 {
        UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
