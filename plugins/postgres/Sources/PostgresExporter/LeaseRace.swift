// Leasing a connection for one write, bounded by the lease and write timeouts.
import PostgresNIO
import Synchronization

extension PostgresWriter {
    /// Leases a connection for `body`, giving up when none comes within `timeout`, or when `body`
    /// has not finished `writeTimeout` after it got one. The pool would otherwise queue the request
    /// for as long as connection attempts keep failing, and it does not always give up a waiting
    /// lease when cancelled (seen when the server stopped while the pool was connecting), so either
    /// timeout answers without waiting for the work to end: the work is cancelled and, should the
    /// lease still come, runs nothing on it.
    static func withLease<T: Sendable>(
        client: PostgresClient, timeout: Duration, writeTimeout: Duration = writeTimeout,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let race = LeaseRace<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard race.start(continuation) else { return }
                let work = Task {
                    do {
                        let value = try await client.withConnection { connection in
                            guard race.leased() else { throw CancellationError() }
                            race.addTimer(Task {
                                try await Task.sleep(for: writeTimeout)
                                race.writeTimedOut()
                            })
                            return try await body(connection)
                        }
                        race.finish(.success(value))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
                race.setCancelWork { work.cancel() }
                race.addTimer(Task {
                    try await Task.sleep(for: timeout)
                    race.timeOut()
                })
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// Who answers a lease first: the work (with its result), the lease timeout (while no connection
    /// has been leased), the write timeout (once one has) or the caller's cancellation. Only the
    /// first answer resumes the caller.
    final class LeaseRace<T: Sendable>: Sendable {
        private enum Phase {
            case waiting, leased, answered
        }
        private struct State {
            var phase = Phase.waiting
            var continuation: CheckedContinuation<T, any Error>?
            var cancelWork: (@Sendable () -> Void)?
            /// Timeouts still sleeping; cancelled once the caller is answered.
            var timers: [Task<Void, any Error>] = []
        }
        private let state = Mutex(State())

        /// False when the caller was cancelled before the lease began (and has been answered).
        func start(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
            let cancelled = state.withLock { state in
                if state.phase == .answered { return true }
                state.continuation = continuation
                return false
            }
            if cancelled { continuation.resume(throwing: CancellationError()) }
            return !cancelled
        }

        func setCancelWork(_ cancelWork: @escaping @Sendable () -> Void) {
            state.withLock { $0.cancelWork = cancelWork }
        }

        func addTimer(_ timer: Task<Void, any Error>) {
            let answered = state.withLock { state in
                if state.phase != .answered { state.timers.append(timer) }
                return state.phase == .answered
            }
            if answered { timer.cancel() }
        }

        /// A connection was leased; false when the caller was already answered (run nothing).
        func leased() -> Bool {
            state.withLock { state in
                guard state.phase == .waiting else { return false }
                state.phase = .leased
                return true
            }
        }

        func finish(_ result: Result<T, any Error>) {
            let (continuation, timers) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, any Error>]) in
                guard state.phase != .answered else { return (nil, []) }
                state.phase = .answered
                defer { state.continuation = nil; state.timers = [] }
                return (state.continuation, state.timers)
            }
            for timer in timers { timer.cancel() }
            continuation?.resume(with: result)
        }

        func timeOut() { fail(LeaseTimeout(), in: [.waiting]) }
        func writeTimedOut() { fail(WriteTimeout(), in: [.leased]) }
        func cancel() { fail(CancellationError(), in: [.waiting, .leased]) }

        private func fail(_ error: any Error, in phases: Set<Phase>) {
            let (continuation, cancelWork, timers) = state.withLock {
                state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, [Task<Void, any Error>]) in
                guard phases.contains(state.phase) else { return (nil, nil, []) }
                state.phase = .answered
                defer { state.continuation = nil; state.timers = [] }
                return (state.continuation, state.cancelWork, state.timers)
            }
            for timer in timers { timer.cancel() }
            cancelWork?()
            continuation?.resume(throwing: error)
        }
    }
}
