// Closed-loop HTTP load: N workers, each sending its next request when the previous one is answered.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What a load run measured.
struct LoadResult: Sendable {
    var requests = 0
    var ok = 0
    var statuses: [Int: Int] = [:]
    var transportErrors = 0
    var latenciesMs: [Double] = []
    var seconds = 0.0
    var bytesSent = 0

    mutating func merge(_ other: LoadResult) {
        requests += other.requests
        ok += other.ok
        for (k, v) in other.statuses { statuses[k, default: 0] += v }
        transportErrors += other.transportErrors
        latenciesMs += other.latenciesMs
        bytesSent += other.bytesSent
    }

    /// Nearest-rank percentile of the per-request latencies, milliseconds.
    func percentile(_ q: Double) -> Double {
        guard !latenciesMs.isEmpty else { return .nan }
        let sorted = latenciesMs.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }

    var statusSummary: String {
        var parts = statuses.sorted { $0.key < $1.key }.map { "\($0.value)×\($0.key)" }
        if transportErrors > 0 { parts.append("\(transportErrors) unanswered") }
        return parts.joined(separator: " ")
    }
}

/// One request of a load run.
struct LoadRequest: Sendable {
    var url: String
    var headers: [(String, String)]
    var body: ByteBuffer
}

enum LoadGenerator {
    static func makeClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(120))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Runs `concurrency` workers for `duration`; `make(n)` builds the n-th request.
    static func run(
        client: HTTPClient, concurrency: Int, duration: Duration, make: @escaping @Sendable (Int) -> LoadRequest
    ) async -> LoadResult {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + duration
        let counter = Counter()
        var total = await withTaskGroup(of: LoadResult.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var result = LoadResult()
                    while clock.now < deadline {
                        let spec = make(counter.next())
                        var request = HTTPClientRequest(url: spec.url)
                        request.method = .POST
                        for (name, value) in spec.headers { request.headers.add(name: name, value: value) }
                        request.body = .bytes(spec.body)
                        let t0 = clock.now
                        result.requests += 1
                        result.bytesSent += spec.body.readableBytes
                        do {
                            let response = try await client.execute(request, timeout: .seconds(120))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            let code = Int(response.status.code)
                            result.statuses[code, default: 0] += 1
                            if code == 200 { result.ok += 1 }
                        } catch {
                            result.transportErrors += 1
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                        let d = clock.now - t0
                        result.latenciesMs.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                    }
                    return result
                }
            }
            var total = LoadResult()
            for await r in group { total.merge(r) }
            return total
        }
        let elapsed = clock.now - started
        total.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return total
    }
}

/// A thread-safe sequence number.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}
