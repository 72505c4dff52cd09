// Running the built `firefly` in tests: shared by IntegrationTests and FireflyGrafanaTests.
public import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Paths to what `swift build` produced: `FIREFLY_BUILD_DIR` (set by `make test`) or `.build/debug`.
public enum Build {
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["FIREFLY_BUILD_DIR"], !dir.isEmpty { return dir }
        return packageRoot.appendingPathComponent(".build/debug").path
    }

    public static var firefly: String { directory + "/firefly" }

    public static func library(_ product: String) -> String { directory + "/lib\(product).so" }
}

/// A scratch directory per test, with chosen plugins copied into `plugins/`.
public struct Workspace: Sendable {
    public let path: String

    public init(plugins: [String]) throws {
        path = NSTemporaryDirectory() + "firefly-it-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/plugins", withIntermediateDirectories: true)
        // Hard links, not copies: a debug build's plugins are ~190 MB a workspace, and a test run
        // makes dozens of workspaces (copies filled a disk). No test writes to them.
        for p in plugins {
            let target = "\(path)/plugins/lib\(p).so"
            do {
                try FileManager.default.linkItem(atPath: Build.library(p), toPath: target)
            } catch {
                try FileManager.default.copyItem(atPath: Build.library(p), toPath: target)  // another file system
            }
        }
    }

    public func write(_ name: String, _ text: String) throws -> String {
        let file = "\(path)/\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    public func read(_ name: String) -> String {
        (try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)) ?? ""
    }
}

/// Decodes every complete line of a JSON-lines file that a running exporter appends to. A line
/// without its newline yet is still being written and is left for the next look; a complete line
/// that does not decode is an error, never skipped (a test must not pass on output it cannot read).
public func jsonLines<T: Decodable>(_ text: String, as type: T.Type) throws -> [T] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    lines.removeLast()  // "" after the last newline, or the line still being written
    return try lines.map { line in
        do {
            return try JSONDecoder().decode(T.self, from: Data(line.utf8))
        } catch {
            throw FireflyServer.ServerError(message: "undecodable output line \(line.prefix(300)): \(error)")
        }
    }
}

/// The result of running the `firefly` CLI to completion.
public func runFirefly(_ arguments: [String], in directory: String) throws -> ProcessResult {
    try run(Build.firefly, arguments, cwd: directory)
}

/// Runs a program to completion and collects its output. Input and output go through files, not
/// pipes: a pipe's end is inherited by any other child spawned at the same moment by another test
/// (Foundation's `Process` does not close it there), so reading a pipe to its end could wait for
/// that other, long-lived process (seen: a finished `nm` whose output never reached its end while
/// a `firefly serve` started alongside held the pipe). A file has no end to wait for.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var output: Data
    public var stderr: String
    public var stdout: String { String(decoding: output, as: UTF8.self) }
}

public func run(_ executable: String, _ arguments: [String], stdin: String? = nil, cwd: String? = nil) throws -> ProcessResult {
    try run(executable, arguments, input: Data((stdin ?? "").utf8), cwd: cwd)
}

/// Runs `executable` to completion with `input` as its standard input. The child opens its standard
/// streams from files itself (posix_spawn file actions), so no descriptor of this process is handed
/// over: with dozens of tests opening and closing descriptors on other threads, a descriptor number
/// passed to a child could be closed and reused before it is duplicated (seen: psql failing with
/// "could not read from input file: Bad file descriptor").
public func run(_ executable: String, _ arguments: [String], input: Data, cwd: String? = nil) throws -> ProcessResult {
    let base = NSTemporaryDirectory() + "firefly-run-\(UUID().uuidString)"
    let files = (in: base + ".in", out: base + ".out", err: base + ".err")
    guard FileManager.default.createFile(atPath: files.in, contents: input) else { throw POSIXError(.EIO) }
    defer { for f in [files.in, files.out, files.err] { try? FileManager.default.removeItem(atPath: f) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, files.in, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, files.out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, files.err, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    // `env -C` changes directory in the child (coreutils ≥ 8.28).
    let (path, argv0): (String, [String]) =
        if let cwd { ("/usr/bin/env", ["env", "-C", cwd, executable]) } else { (executable, [executable]) }
    let argv = (argv0 + arguments).map { strdup($0) } + [nil]
    let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for p in argv { free(p) }
        for p in envp { free(p) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exited = status & 0x7F == 0
    return ProcessResult(
        status: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
        output: FileManager.default.contents(atPath: files.out) ?? Data(),
        stderr: String(decoding: FileManager.default.contents(atPath: files.err) ?? Data(), as: UTF8.self))
}

/// A running `firefly serve` on a loopback port chosen by the kernel.
public final class FireflyServer: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let workspace: Workspace
    private let log: FileHandle

    public init(workspace: Workspace, config: String, environment: [String: String] = [:]) throws {
        self.workspace = workspace
        let configFile = try workspace.write("firefly.yaml", config)
        let portFile = workspace.path + "/port"
        try? FileManager.default.removeItem(atPath: portFile)
        process.executableURL = URL(fileURLWithPath: Build.firefly)
        process.arguments = ["serve", "--config", configFile, "--port-file", portFile]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.path)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: workspace.path + "/server.log") {
            _ = FileManager.default.createFile(atPath: workspace.path + "/server.log", contents: nil)
        }
        log = FileHandle(forWritingAtPath: workspace.path + "/server.log")!
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var port = 0
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                port = p
                break
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        guard port > 0 else {
            process.terminate()
            throw ServerError(message: "firefly serve did not start:\n" + workspace.read("server.log"))
        }
        self.port = port
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        public init(message: String) { self.message = message }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var isRunning: Bool { process.isRunning }
    public var logText: String { workspace.read("server.log") }

    /// Resident memory of the server process in KiB.
    public var rssKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// SIGKILL: the crash the durable queue must survive.
    public func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? log.close()
    }

    /// SIGTERM, then wait for a graceful exit; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try? log.close()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// A minimal HTTP client for tests.
public struct HTTPResult: Sendable {
    public var status: Int
    public var body: String
    public var headers: [String: String]
}

public func http(_ method: String, _ url: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> HTTPResult {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.httpBody = body
    request.timeoutInterval = 60
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let r = response as! HTTPURLResponse
    var h: [String: String] = [:]
    for (k, v) in r.allHeaderFields { h["\(k)".lowercased()] = "\(v)" }
    return HTTPResult(status: r.statusCode, body: String(decoding: data, as: UTF8.self), headers: h)
}

/// Polls until `condition` holds or `seconds` pass.
public func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// `eventually` for async tests: sleeps without holding one of the few threads Swift concurrency
/// shares among all the tests running at once (a test blocking two of them stalls every other).
public func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try condition()
}

/// The test PostgreSQL started by `make test` (`FIREFLY_TEST_POSTGRES_URL`).
public enum TestPostgres {
    public static var url: String? {
        let v = ProcessInfo.processInfo.environment["FIREFLY_TEST_POSTGRES_URL"]
        return (v?.isEmpty ?? true) ? nil : v
    }

    public static var available: Bool { url != nil }

    /// Runs SQL with psql; returns rows as arrays of fields (unaligned, tab-separated).
    public static func query(_ sql: String) throws -> [[String]] {
        let r = try run("/usr/bin/psql", [url!, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard r.status == 0 else { throw FireflyServer.ServerError(message: "psql failed: " + r.stderr) }
        return r.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The plugins `collectorConfig` uses.
    public static let collectorPlugins = ["FireflyFirehosePlugin", "FireflyOTLPPlugin", "FireflyPostgresPlugin"]

    /// The default `firefly.yaml`'s shape — receivers firehose and otlp, the postgres exporter,
    /// pipelines metrics, traces and logs — on loopback ports (`port` 0: the kernel picks) with the
    /// exporter on `schema`, and a queue that flushes and retries quickly.
    public static func collectorConfig(schema: String, url: String = TestPostgres.url ?? "", port: Int = 0, queueBytes: Int = 1 << 30) -> String {
        """
        server:
          listen: 127.0.0.1:\(port)
        plugins:
          paths: [plugins]
        queue:
          max_bytes: \(queueBytes)
          batch_max_wait: 20ms
          retry_initial: 100ms
          retry_max: 1s
        receivers:
          firehose:
          otlp:
            grpc: {listen: 127.0.0.1:0}
        exporters:
          postgres:
            url: \(url)
            schema: \(schema)
        pipelines:
          metrics: {receivers: [firehose, otlp], exporters: [postgres]}
          traces: {receivers: [otlp], exporters: [postgres]}
          logs: {receivers: [firehose, otlp], exporters: [postgres]}
        """
    }

    /// A schema name of its own for one test.
    public static func freshSchema(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }

    public static func drop(schema: String) {
        _ = try? query("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }
}

/// A TCP port on 127.0.0.1 that is free now and that nothing else in this machine's tests will take
/// before its caller binds it. A port bound and released is up for grabs again: the kernel hands
/// ports out for every `listen: 127.0.0.1:0` and every outgoing connection, and another test may
/// get it in between. So the ports come from below the kernel's ephemeral range
/// (`net.ipv4.ip_local_port_range`), which it never hands out on its own, each one at most once per
/// test process, starting at a random place so that two test processes rarely meet.
public func freePort() -> Int {
    for _ in 0..<TestPorts.count {
        let port = TestPorts.next()
        if TestPorts.canBind(port) { return port }
    }
    fatalError("no free TCP port below the ephemeral range")
}

enum TestPorts {
    static let low = 15000
    /// The first port of the kernel's ephemeral range (32768 when it cannot be read).
    static let high: Int = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) } ?? 32768
        return max(first, low + 1000)
    }()
    static var count: Int { high - low }
    private static let cursor = Mutex(Int.random(in: 0..<(high - low)))

    static func next() -> Int {
        cursor.withLock { c in
            defer { c = (c + 1) % count }
            return low + c
        }
    }

    static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// Runs blocking work (a subprocess, a polling loop) on a Dispatch thread and awaits it, so the wait
/// does not hold one of the few threads Swift concurrency shares among all the tests running at once.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// A plain TCP connection to a loopback port, for clients that misbehave on purpose.
public final class RawConnection: @unchecked Sendable {
    private let fd: Int32

    /// The descriptor is stored only once connected: a class initializer that throws after every
    /// stored property is set still runs `deinit`, which would close it a second time — by then
    /// perhaps another thread's file, socket or pipe under the same number (seen: queue segments and
    /// psql's standard input closed under other tests while a test posted to a stopped server).
    public init(port: Int) throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(socketFD)
            throw POSIXError(.ECONNREFUSED)
        }
        fd = socketFD
    }

    deinit { close(fd) }

    /// Makes closing this connection abort it (RST), as a sender that crashes or is reset does.
    public func abortOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    public func send(_ text: String) {
        send(Data(text.utf8))
    }

    /// Sends all of `bytes`; false when the connection broke first.
    @discardableResult
    public func send(_ bytes: Data) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
    }

    /// Everything the peer sends until it closes the connection, or nil when it has not closed it
    /// within `seconds`.
    public func readToEnd(within seconds: Double) -> Data? {
        let deadline = Date().addingTimeInterval(seconds)
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return out }
            out.append(contentsOf: buffer[..<n])
        }
        return nil
    }

    /// What the peer has sent so far, without waiting.
    public func received() -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the peer closed the connection within `seconds` (whatever it sent before is skipped).
    public func closedByPeer(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return true }
        }
        return false
    }
}

/// One HTTP/1.1 POST on a connection of its own (`Connection: close`), blocking the calling thread:
/// the response status, or 0 when the connection failed or no complete answer came within
/// `timeout`. No client library state (pooled connections, shared sessions) survives a call, so a
/// test that kills and restarts servers under a steady client sees each call on its own.
public func blockingPost(port: Int, path: String, body: Data, headers: [String: String] = [:], timeout: Double = 5) -> Int {
    guard let connection = try? RawConnection(port: port) else { return 0 }
    var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    guard connection.send(Data((head + "\r\n").utf8) + body), let answer = connection.readToEnd(within: timeout) else { return 0 }
    // "HTTP/1.1 200 OK": the status is the second word of the first line.
    let statusLine = answer.prefix { $0 != UInt8(ascii: "\r") }
    let words = String(decoding: statusLine, as: UTF8.self).split(separator: " ")
    return words.count >= 2 ? Int(words[1]) ?? 0 : 0
}
