// Runs a real Prometheus (remote-write receiver on) on a free loopback port, in a temporary directory.
public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A Prometheus server owned by one test: `start()` launches it and waits for `/-/ready`,
/// `stop()` terminates it (the data directory stays, so a restart keeps the data).
public final class PrometheusServer: @unchecked Sendable {
    public static let binary = ProcessInfo.processInfo.environment["FIREFLY_TEST_PROMETHEUS"] ?? "/usr/bin/prometheus"

    public let port: Int
    public let directory: URL
    private var process: Process?

    public var writeURL: String { "http://127.0.0.1:\(port)/api/v1/write" }

    public init() throws {
        port = freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("firefly-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        try "global:\n  scrape_interval: 1h\n".write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    public func start() async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = [
            "--config.file=\(directory.appendingPathComponent("prometheus.yml").path)",
            "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)",
            "--web.enable-remote-write-receiver",
            "--log.level=warn",
        ]
        let log = directory.appendingPathComponent("prometheus.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !p.isRunning { throw Failure("prometheus exited: \(logText())") }
            if let (_, status) = try? await get("/-/ready", []), status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure("prometheus not ready within 60 s: \(logText())")
    }

    public func stop() {
        guard let p = process else { return }
        process = nil
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
    }

    public func logText() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
    }

    /// One sample of an instant vector.
    public struct Sample: Equatable, Sendable, CustomStringConvertible {
        public var metric: [String: String]
        public var value: String
        public var description: String { "\(metric) \(value)" }

        public init(metric: [String: String], value: String) {
            self.metric = metric
            self.value = value
        }
    }

    /// One series of a range query's matrix: values as Prometheus prints them, by Unix second.
    public struct Series: Equatable, Sendable, CustomStringConvertible {
        public var metric: [String: String]
        public var values: [(time: Double, value: String)]
        public var description: String { "\(metric) \(values.map { "\($0.value)@\($0.time)" })" }

        public static func == (a: Series, b: Series) -> Bool {
            a.metric == b.metric && a.values.map(\.time) == b.values.map(\.time) && a.values.map(\.value) == b.values.map(\.value)
        }
    }

    /// An instant query at `time` (Unix seconds); results sorted by their label sets.
    public func query(_ promQL: String, at time: Double) async throws -> [Sample] {
        struct Result: Decodable {
            var metric: [String: String]
            var value: [ValueItem]
        }
        let data: QueryData<Result> = try await api(
            "/api/v1/query", [("query", promQL), ("time", Self.timestamp(time))], what: promQL)
        return data.result.map { Sample(metric: $0.metric, value: $0.value.count == 2 ? $0.value[1].text : "") }
            .sorted { Self.sortKey($0.metric) < Self.sortKey($1.metric) }
    }

    /// A range query from `start` to `end` every `step` seconds; series sorted by their label sets.
    public func queryRange(_ promQL: String, start: Double, end: Double, step: Double) async throws -> [Series] {
        struct Result: Decodable {
            var metric: [String: String]
            var values: [[ValueItem]]
        }
        let data: QueryData<Result> = try await api(
            "/api/v1/query_range",
            [("query", promQL), ("start", Self.timestamp(start)), ("end", Self.timestamp(end)), ("step", Self.timestamp(step))],
            what: promQL)
        return data.result.map { r in
            Series(metric: r.metric, values: r.values.map { (time: $0.first?.number ?? .nan, value: $0.count == 2 ? $0[1].text : "") })
        }.sorted { Self.sortKey($0.metric) < Self.sortKey($1.metric) }
    }

    /// The values of `label` on series matching `match` between `start` and `end`, as Prometheus sorts them.
    public func labelValues(_ label: String, match: String, start: Double, end: Double) async throws -> [String] {
        try await api(
            "/api/v1/label/\(label)/values",
            [("match[]", match), ("start", Self.timestamp(start)), ("end", Self.timestamp(end))], what: "\(label) of \(match)")
    }

    /// A number (a time) or a string (a sample value) in Prometheus' JSON.
    enum ValueItem: Decodable {
        case number(Double), text(String)

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }

        var number: Double? { if case .number(let d) = self { d } else { Double(text) } }
        var text: String { if case .text(let t) = self { t } else { "" } }
    }

    /// A query's `data`: its vector or matrix.
    struct QueryData<Result: Decodable>: Decodable { var result: [Result] }

    /// Every API answer: `{"status": "success", "data": …}`.
    struct Envelope<Payload: Decodable>: Decodable {
        var status: String
        var data: Payload
    }

    /// GETs an HTTP API endpoint and returns its `data`; anything but HTTP 200 with
    /// `"status": "success"` throws with Prometheus' answer.
    private func api<T: Decodable>(_ path: String, _ parameters: [(String, String)], what: String) async throws -> T {
        let (body, status) = try await get(path, parameters)
        guard status == 200 else { throw Failure("\(what) → HTTP \(status): \(String(decoding: body, as: UTF8.self))") }
        let envelope = try JSONDecoder().decode(Envelope<T>.self, from: body)
        guard envelope.status == "success" else { throw Failure("\(what) → status \(envelope.status)") }
        return envelope.data
    }

    private func get(_ path: String, _ parameters: [(String, String)]) async throws -> (Data, Int) {
        var components = URLComponents()
        components.path = path
        if !parameters.isEmpty { components.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) } }
        // URLComponents leaves `+` alone, but Prometheus (Go's form decoding) reads it as a space.
        let query = components.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
        let url = URL(string: "http://127.0.0.1:\(port)\(components.percentEncodedPath)\(query)")!
        let (data, response) = try await URLSession.shared.data(from: url)
        return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }

    static func timestamp(_ seconds: Double) -> String { String(format: "%.3f", seconds) }

    static func sortKey(_ metric: [String: String]) -> String { metric.sorted(by: <).description }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}
