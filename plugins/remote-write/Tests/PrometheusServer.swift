// Runs a real Prometheus (remote-write receiver on) on a free loopback port, in a temporary directory.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A Prometheus server owned by one test: `start()` launches it and waits for `/-/ready`,
/// `stop()` terminates it (the data directory stays, so a restart keeps the data).
final class PrometheusServer: @unchecked Sendable {
    static let binary = ProcessInfo.processInfo.environment["FIREFLY_TEST_PROMETHEUS"] ?? "/usr/bin/prometheus"

    let port: Int
    let directory: URL
    private var process: Process?

    var writeURL: String { "http://127.0.0.1:\(port)/api/v1/write" }

    init() throws {
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("firefly-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        try "global:\n  scrape_interval: 1h\n".write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    func start() async throws {
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
            if let (_, status) = try? await get("/-/ready"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw Failure("prometheus not ready within 60 s: \(logText())")
    }

    func stop() {
        guard let p = process else { return }
        process = nil
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
    }

    func logText() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
    }

    struct Sample: Equatable, CustomStringConvertible {
        var metric: [String: String]
        var value: String
        var description: String { "\(metric) \(value)" }
    }

    /// An instant query at `time` (Unix seconds); results sorted by their label sets.
    func query(_ promQL: String, at time: Double) async throws -> [Sample] {
        var components = URLComponents()
        components.path = "/api/v1/query"
        components.queryItems = [URLQueryItem(name: "query", value: promQL), URLQueryItem(name: "time", value: String(format: "%.3f", time))]
        let (data, status) = try await get(components.string!)
        guard status == 200 else { throw Failure("query \(promQL) → HTTP \(status): \(String(decoding: data, as: UTF8.self))") }
        struct Response: Decodable {
            struct Data: Decodable {
                struct Result: Decodable {
                    var metric: [String: String]
                    var value: [ValueItem]
                }
                var result: [Result]
            }
            var data: Data
        }
        enum ValueItem: Decodable {
            case number(Double), text(String)
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
            }
        }
        let response = try JSONDecoder().decode(Response.self, from: data)
        return response.data.result.map { r in
            var value = ""
            if r.value.count == 2, case .text(let t) = r.value[1] { value = t }
            return Sample(metric: r.metric, value: value)
        }.sorted { $0.metric.sorted(by: <).description < $1.metric.sorted(by: <).description }
    }

    private func get(_ pathAndQuery: String) async throws -> (Data, Int) {
        let url = URL(string: "http://127.0.0.1:\(port)\(pathAndQuery)")!
        let (data, response) = try await URLSession.shared.data(from: url)
        return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A port nobody listens on right now (the kernel's choice for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw Failure("bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { throw Failure("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
