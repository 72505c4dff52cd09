// Bounds how many requests are read and handled at once, so peak memory follows the limit and not
// the number of open connections.
import Synchronization

/// An async counting semaphore with FIFO waiters. A request waiting here has not read its body:
/// the bytes stay in the connection (TCP backpressure), not in the collector's memory.
final class RequestGate: Sendable {
    private struct State {
        var available: Int
        var nextID = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state: Mutex<State>
    private let limit: Int

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
        state = Mutex(State(available: limit))
    }

    /// Requests holding a slot, and requests waiting for one.
    var counts: (inFlight: Int, waiting: Int) {
        state.withLock { (limit - $0.available, $0.waiters.count) }
    }

    /// Runs `body` once a slot is free; throws `CancellationError` when cancelled while waiting, or
    /// when `abandoned` reports (through the callback it is handed) that the request's sender left:
    /// a request nobody waits for any more neither waits for a slot nor counts as waiting.
    func withSlot<T: Sendable>(
        abandoned: ((@escaping @Sendable () -> Void) -> Void)? = nil, _ body: () async throws -> T
    ) async throws -> T {
        try await acquire(abandoned)
        defer { release() }
        return try await body()
    }

    /// Takes waiter `id` out of the queue and fails it, if it is still waiting.
    private func giveUp(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume(throwing: CancellationError())
    }

    private func acquire(_ abandoned: ((@escaping @Sendable () -> Void) -> Void)?) async throws {
        let id = state.withLock { state -> Int? in
            if state.available > 0 {
                state.available -= 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Decided again under the same lock as the append: a slot freed since the first look
                // is taken here instead of being left free while this request waits.
                let outcome = state.withLock { state -> Result<Bool, CancellationError> in
                    if state.available > 0 {
                        state.available -= 1
                        return .success(true)
                    }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters.append((id, continuation))
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): abandoned? { [self] in giveUp(id) }  // after the append: a report now finds the waiter
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            giveUp(id)
        }
    }

    /// Hands the slot to the longest waiter, or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
