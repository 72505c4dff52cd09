// moto's server playing the Lambda API for the tests (moto_lambda.py), shared by the suite.
import FireflyAWS
import FireflyTestSupport
import Foundation

/// One moto server per test process, filled once; each test works on functions of its own.
final class MotoLambda: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("moto_lambda.py").path
    static let installed = (try? run("/usr/bin/env", ["python3", "-c", "import moto.server, flask, boto3"]).status) == 0
    static var shouldRun: Bool { installed || ProcessInfo.processInfo.environment["CI"] == "true" }
    static let shared = Task { try await MotoLambda() }

    struct Created: Decodable, Sendable {
        var runtime: String
        var layers: [String]
        var variables: [String: String]
        var architecture: String
        var memory: Int
    }

    struct Ready: Decodable, Sendable {
        var otel_layer: String
        var functions: [String: Created]
    }

    let port: Int
    let ready: Ready
    let process: Process

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The environment for `firefly aws …` and for `AWSConfiguration.resolve`.
    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint]
    }

    func lambda() throws -> LambdaAPI {
        LambdaAPI(client: AWSClient(configuration: try AWSConfiguration.resolve(environment: environment, homeDirectory: "/nonexistent")))
    }

    init() async throws {
        guard Self.installed else { throw Failure("moto[server] is not installed (pip install 'moto[server]'; `make test` installs it)") }
        port = freePort()
        let log = NSTemporaryDirectory() + "firefly-moto-\(UUID().uuidString).log"
        guard FileManager.default.createFile(atPath: log, contents: nil) else { throw Failure("cannot create \(log)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.script, String(port)]
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = handle
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(120)
        while true {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ready ") }) {
                ready = try JSONDecoder().decode(Ready.self, from: Data(line.dropFirst(6).utf8))
                return
            }
            if !p.isRunning { throw Failure("moto_lambda.py exited with \(p.terminationStatus): \(text)") }
            if Date() > deadline { throw Failure("moto_lambda.py not ready within 120 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Runs the built `firefly` with this server's environment.
    func firefly(_ arguments: [String]) throws -> ProcessResult {
        let env = environment.map { "\($0.key)=\($0.value)" } + ["HOME=/nonexistent", "AWS_PROFILE=", "AWS_SESSION_TOKEN=", "AWS_ENDPOINT_URL_LAMBDA="]
        return try run("/usr/bin/env", env + [Build.firefly] + arguments)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
