// Starts otlp_receiver.py (opentelemetry-proto + grpcio) on free loopback ports for one test.
import FireflyTestSupport
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A receiver independent of Firefly's decoder: what it records is what the exporter really sent.
final class PythonReceiver: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "otlp_receiver.py"
    ).path

    let httpPort = freePort()
    let grpcPort = freePort()
    let httpsPort = freePort()
    /// The certificate and key to serve TLS with (gRPC, and OTLP/HTTP on `httpsPort`).
    let tls: (cert: String, key: String)?
    private let process = Process()
    private let directory = NSTemporaryDirectory() + "firefly-otlp-receiver-\(UUID().uuidString)"

    init(tls: (cert: String, key: String)? = nil) {
        self.tls = tls
    }

    var httpEndpoint: String { "http://127.0.0.1:\(httpPort)" }
    var grpcEndpoint: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(grpcPort)" }
    var httpsEndpoint: String { "https://127.0.0.1:\(httpsPort)" }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the receiver and waits (off Swift concurrency's pool) until both ports listen.
    static func start(tls: (cert: String, key: String)? = nil) async throws -> PythonReceiver {
        let receiver = PythonReceiver(tls: tls)
        try await offThePool { try receiver.launch() }
        return receiver
    }

    private func launch() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ready = directory + "/ready"
        let log = directory + "/receiver.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", Self.script, "--http-port", "\(httpPort)", "--grpc-port", "\(grpcPort)", "--ready-file", ready,
        ]
        if let tls {
            process.arguments! += ["--tls-cert", tls.cert, "--tls-key", tls.key, "--https-port", "\(httpsPort)"]
        }
        let handle = FileHandle(forWritingAtPath: log)!
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: ready) { return }
            if !process.isRunning { break }
            usleep(50_000)
        }
        throw Failure(
            description: "otlp_receiver.py did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// Changes how the receiver answers (see otlp_receiver.py).
    func control(_ change: [String: Any]) async throws {
        let result = try await http(
            "POST", httpEndpoint + "/_control", body: try JSONSerialization.data(withJSONObject: change),
            headers: ["Content-Type": "application/json"])
        guard result.status == 200 else { throw Failure(description: "control answered \(result.status)") }
    }

    struct Received: Decodable {
        struct Span: Decodable {
            var trace_id: String
            var span_id: String
            var name: String
            var resource: [String: String?]
        }
        struct Point: Decodable {
            var name: String
            var kind: String
            var attributes: [String: String?]
        }
        struct Log: Decodable {
            var body: String?
            var trace_id: String
        }
        var spans: [Span]
        var points: [Point]
        var logs: [Log]
        var answers: [String: Int]
        var headers: [[String: String]]
    }

    func received() async throws -> Received {
        let result = try await http("GET", httpEndpoint + "/_received")
        return try JSONDecoder().decode(Received.self, from: Data(result.body.utf8))
    }
}
