// One libpq connection on a thread of its own: libpq blocks, so its calls never run on Swift
// concurrency's shared threads; async callers wait for them with a deadline.
import CLibpq
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyPluginKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The server rejected a statement: SQLSTATE and its own words.
struct PQServerError: Error, Sendable {
    var sqlState: String
    var message: String
    var detail: String?
    var hint: String?
    var context: String?
}

/// The connection failed below SQL (lost, closed, protocol trouble), in libpq's words.
struct PQClientError: Error, Sendable {
    var message: String
}

/// No connection could be made; libpq's reason (it never holds the password).
struct ConnectFailure: Error, Sendable {
    var message: String
}

/// Runs jobs one after another on one dedicated thread.
final class ConnectionThread: @unchecked Sendable {
    private let condition = ConditionLock()
    private var jobs: [@Sendable () -> Void] = []
    private var stopping = false

    init(name: String) {
        startThread(name: name) { [self] in loop() }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// The thread ends once the jobs already submitted have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}

/// One answer to an async caller waiting on blocking work: the work's result, a deadline's error or
/// the caller's cancellation, whichever comes first.
final class OneAnswer<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var answered = false
        var timer: Task<Void, Never>?
    }
    private let state = Mutex(State())

    /// False when the caller was answered before it started waiting (it is resumed here).
    func start(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let answered = state.withLock { state in
            if !state.answered { state.continuation = continuation }
            return state.answered
        }
        if answered { continuation.resume(throwing: CancellationError()) }
        return !answered
    }

    func setTimer(_ timer: Task<Void, Never>) {
        let answered = state.withLock { state in
            if !state.answered { state.timer = timer }
            return state.answered
        }
        if answered { timer.cancel() }
    }

    /// True when this was the answer.
    @discardableResult
    func answer(_ result: Result<T, any Error>) -> Bool {
        let (won, continuation, timer) = state.withLock { state -> (Bool, CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            guard !state.answered else { return (false, nil, nil) }
            state.answered = true
            defer { state.continuation = nil; state.timer = nil }
            return (true, state.continuation, state.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
        return won
    }

    /// Runs `work` on `thread` and waits for it at most `timeout` (then throws `timeoutError`). When the
    /// caller is answered without the work's result, `giveUp` runs at once and `late` gets the
    /// work's value once it comes.
    static func wait(
        on thread: ConnectionThread, timeout: Duration?, timeoutError: any Error,
        giveUp: @escaping @Sendable () -> Void = {}, late: @escaping @Sendable (T) -> Void = { _ in },
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let answer = OneAnswer<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard answer.start(continuation) else { return }
                thread.submit {
                    let result = Result { try work() }
                    if !answer.answer(result), case .success(let value) = result { late(value) }
                }
                if let timeout {
                    answer.setTimer(Task {
                        try? await Task.sleep(for: timeout)
                        if !Task.isCancelled && answer.answer(.failure(timeoutError)) { giveUp() }
                    })
                }
            }
        } onCancel: {
            if answer.answer(.failure(CancellationError())) { giveUp() }
        }
    }
}

/// A libpq connection (`PGconn`) and the thread that runs every call on it.
final class PQConnection: @unchecked Sendable {
    /// Touched only on `thread`, or by `close` once nothing runs there any more.
    private let handle: OpaquePointer
    /// For `PQcancel`, which may be called from any thread.
    private let cancelHandle: OpaquePointer?
    private let thread: ConnectionThread
    private let state = Mutex((broken: false, closed: false))

    private init(handle: OpaquePointer, thread: ConnectionThread) {
        self.handle = handle
        self.thread = thread
        cancelHandle = PQgetCancel(handle)
    }

    deinit {
        // Here, not in `close`: a cancel request may still be using it until the last reference goes.
        if let cancelHandle { PQfreeCancel(cancelHandle) }
    }

    /// The connection is lost or was given up: close it rather than use it again.
    var isBroken: Bool { state.withLock { $0.broken } }

    /// Connects on a new thread. Throws `LeaseTimeout` when no connection came within
    /// `settings.connectTimeout` (a connection that comes later is closed), `ConnectFailure` with
    /// libpq's reason when the server refused.
    static func connect(_ settings: PostgresSettings) async throws -> PQConnection {
        let thread = ConnectionThread(name: "firefly-postgres")
        let parameters = connectionParameters(settings)
        return try await OneAnswer<PQConnection>.wait(
            on: thread, timeout: settings.connectTimeout, timeoutError: LeaseTimeout(),
            late: { connection in connection.close() }
        ) {
            do {
                return try open(parameters, thread: thread)
            } catch {
                thread.stop()
                throw error
            }
        }
    }

    /// libpq's connection keywords for the settings (never a URL: libpq is not handed a string that
    /// holds the password and could end up in a message).
    static func connectionParameters(_ settings: PostgresSettings) -> [(String, String)] {
        let url = settings.url
        let seconds = settings.connectTimeout.components.seconds + (settings.connectTimeout.components.attoseconds > 0 ? 1 : 0)
        var parameters: [(String, String)] = [
            ("host", url.unixSocketDirectory ?? url.host), ("port", String(url.port)), ("user", url.user),
            ("dbname", url.database),
            // libpq waits at least 2 s; the caller's own deadline is `connect_timeout`.
            ("connect_timeout", String(max(2, seconds))),
            ("application_name", "firefly"), ("options", "-c client_min_messages=warning"),
            ("client_encoding", "UTF8"), ("gssencmode", "disable"),
            // A server that stops answering: the kernel gives up on the socket instead of waiting for ever.
            ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
            ("tcp_user_timeout", "60000"),
        ]
        if let password = url.password { parameters.append(("password", password)) }
        if url.unixSocketDirectory == nil {
            switch settings.tls {
            case .disable: parameters.append(("sslmode", "disable"))
            case .prefer: parameters.append(("sslmode", "prefer"))
            case .require: parameters.append(("sslmode", "require"))
            case .verifyFull:
                parameters.append(("sslmode", "verify-full"))
                // The system's trust roots (libpq 15 looks in ~/.postgresql/root.crt otherwise).
                for bundle in ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
                where FileManager.default.fileExists(atPath: bundle) {
                    parameters.append(("sslrootcert", bundle))
                    break
                }
            }
        }
        return parameters
    }

    private static func open(_ parameters: [(String, String)], thread: ConnectionThread) throws -> PQConnection {
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            for p in keywords { free(p) }
            // The password is wiped from memory that is about to be freed.
            for p in values {
                if let p { memset(p, 0, strlen(p)) }
                free(p)
            }
        }
        let handle: OpaquePointer? = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { k in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 0)
            }
        }
        guard let handle else { throw ConnectFailure(message: "out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = oneLine(String(cString: PQerrorMessage(handle)))
            PQfinish(handle)
            throw ConnectFailure(message: message)
        }
        // Server notices (already limited to warnings) are not printed on stderr.
        PQsetNoticeReceiver(handle, { _, _ in }, nil)
        return PQConnection(handle: handle, thread: thread)
    }

    /// Runs `work` with the connection on its thread. When it has not ended `timeout` after it began,
    /// the caller gets `WriteTimeout` at once; the server is asked to cancel the statement, and the
    /// connection is marked broken and closed when the work ends.
    func run<T: Sendable>(
        timeout: Duration? = nil, _ work: @escaping @Sendable (PQSession) throws -> T
    ) async throws -> T {
        if state.withLock({ $0.closed }) { throw PQClientError(message: "the connection was closed") }
        return try await OneAnswer<T>.wait(
            on: thread, timeout: timeout, timeoutError: WriteTimeout(), giveUp: { [self] in abandon() }
        ) { [self] in
            let session = PQSession(handle: handle)
            defer { if PQstatus(handle) != CONNECTION_OK { state.withLock { $0.broken = true } } }
            return try work(session)
        }
    }

    /// Gives the connection up while work may be running on it: asks the server to cancel that work,
    /// then closes the connection once the thread is free.
    func abandon() {
        state.withLock { $0.broken = true }
        if cancelHandle != nil {
            // PQcancel connects to the server: a thread of its own, not the caller's.
            let thread = ConnectionThread(name: "firefly-postgres-cancel")
            thread.submit { [self] in
                guard let cancelHandle else { return }
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
                close()
            }
            thread.stop()
        } else {
            close()
        }
    }

    /// Closes the connection after the work already submitted; its thread ends (`then` runs last on it).
    func close(then: (@Sendable () -> Void)? = nil) {
        let first = state.withLock { state in
            defer { state.closed = true; state.broken = true }
            return !state.closed
        }
        guard first else {
            then?()
            return
        }
        thread.submit { [self] in
            PQfinish(handle)
            then?()
        }
        thread.stop()
    }

    /// Closes the connection and waits until it is closed.
    func closeAndWait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            close { continuation.resume() }
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// The blocking calls of one connection; used only inside `PQConnection.run`, on its thread.
struct PQSession {
    fileprivate let handle: OpaquePointer

    /// Runs statements (simple query protocol) and throws if any failed.
    func execute(_ sql: String) throws {
        clear(try result(PQexec(handle, sql), expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK]))
    }

    /// The rows of a query, every value as text (nil for NULL).
    func query(_ sql: String) throws -> [[String?]] {
        let res = try result(PQexec(handle, sql), expecting: [PGRES_TUPLES_OK])
        defer { PQclear(res) }
        let rows = Int(PQntuples(res))
        let columns = Int(PQnfields(res))
        var out: [[String?]] = []
        out.reserveCapacity(rows)
        for r in 0..<rows {
            var row: [String?] = []
            for c in 0..<columns {
                row.append(PQgetisnull(res, Int32(r), Int32(c)) == 1 ? nil : String(cString: PQgetvalue(res, Int32(r), Int32(c))))
            }
            out.append(row)
        }
        return out
    }

    /// The first column of the first row as an integer (0 when there is none).
    func integer(_ sql: String) throws -> Int {
        try query(sql).first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
    }

    /// Runs `COPY … FROM STDIN (FORMAT binary)` and returns how many rows the server stored. The rows
    /// are `encoder`'s bytes from `start` on, then those `rows` appends: they go out while they are
    /// encoded (every 64 KiB), so the server stores them meanwhile. `encoder` keeps every row (for a
    /// second COPY of the same rows). When `rows` throws, the COPY is aborted and its error thrown.
    func copyBinary(
        _ sql: String, encoder: inout RowEncoder, from start: Int = 0, rows: (inout RowEncoder) throws -> Void = { _ in }
    ) throws -> Int {
        clear(try result(PQexec(handle, sql), expecting: [PGRES_COPY_IN]))
        final class Flag { var failed = false }
        let send = Flag()
        let handle = handle
        send.failed = !Self.put(handle, RowEncoder.copyHeader[...])
        encoder.flushed = start
        encoder.sink = { piece in
            if !send.failed { send.failed = !Self.put(handle, piece) }
        }
        var encodeError: (any Error)?
        do {
            try rows(&encoder)
        } catch {
            encodeError = error
        }
        encoder.flush()
        encoder.sink = nil
        if !send.failed { send.failed = !Self.put(handle, RowEncoder.copyTrailer[...]) }
        // A failed send usually means the server ended the COPY with an error: the result says which.
        _ = PQputCopyEnd(handle, encodeError == nil && !send.failed ? nil : "firefly: the rows were not sent whole")
        let res = PQgetResult(handle)
        if let encodeError {
            if let res { PQclear(res) }
            drain()
            throw encodeError
        }
        let done = try result(res, expecting: [PGRES_COMMAND_OK])
        let count = Int(String(cString: PQcmdTuples(done))) ?? 0
        PQclear(done)
        drain()
        if send.failed { throw PQClientError(message: Self.message(handle)) }
        return count
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if PQtransactionStatus(handle) != PQTRANS_IDLE { try? execute("ROLLBACK") }
            throw error
        }
    }

    private static func put(_ handle: OpaquePointer, _ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return true }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                PQputCopyData(handle, $0, Int32(buffer.count)) == 1
            }
        }
    }

    /// Reads what is left of a command's results (libpq needs this before the next command).
    private func drain() {
        while let res = PQgetResult(handle) { PQclear(res) }
    }

    private func clear(_ res: OpaquePointer) {
        PQclear(res)
    }

    /// `res` when its status is one of `expecting`; otherwise the error it holds (the result is freed).
    private func result(_ res: OpaquePointer?, expecting: [ExecStatusType]) throws -> OpaquePointer {
        guard let res else { throw PQClientError(message: Self.message(handle)) }
        let status = PQresultStatus(res)
        if expecting.contains(status) { return res }
        defer {
            PQclear(res)
            if status != PGRES_COPY_IN { drain() }
        }
        if status == PGRES_COPY_IN {
            // A COPY where none was expected: end it, so the connection is usable again.
            _ = PQputCopyEnd(handle, "firefly: unexpected COPY")
            drain()
        }
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(res, Int32(code)).map { String(cString: $0) }
        }
        if let state = field(UInt8(ascii: "C")) {
            throw PQServerError(
                sqlState: state, message: field(UInt8(ascii: "M")) ?? "", detail: field(UInt8(ascii: "D")),
                hint: field(UInt8(ascii: "H")), context: field(UInt8(ascii: "W")))
        }
        let text = String(cString: PQresultErrorMessage(res))
        throw PQClientError(message: PQConnection.oneLine(text.isEmpty ? Self.message(handle) : text))
    }

    private static func message(_ handle: OpaquePointer) -> String {
        let text = PQConnection.oneLine(String(cString: PQerrorMessage(handle)))
        return text.isEmpty ? "the connection failed" : text
    }
}
