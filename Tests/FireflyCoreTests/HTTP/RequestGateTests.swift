// The gate that bounds how many requests are read and handled at once.
@testable import FireflyCore
import Synchronization
import Testing

@Suite struct RequestGateTests {
    /// Counts bodies running at once and remembers the most seen.
    final class Occupancy: Sendable {
        private let state = Mutex((now: 0, most: 0, order: [Int]()))
        func enter(_ id: Int) {
            state.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
                $0.order.append(id)
            }
        }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
        var order: [Int] { state.withLock { $0.order } }
    }

    @Test func noMoreThanTheLimitRunAtOnceAndEveryRequestRuns() async throws {
        let gate = RequestGate(limit: 3)
        let occupancy = Occupancy()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for id in 0..<40 {
                group.addTask {
                    try await gate.withSlot {
                        occupancy.enter(id)
                        try await Task.sleep(for: .milliseconds(2))
                        occupancy.leave()
                        return id
                    }
                }
            }
            var finished: Set<Int> = []
            for try await id in group { finished.insert(id) }
            #expect(finished == Set(0..<40))
        }
        #expect(occupancy.most == 3)
    }

    @Test func waitersAreServedInArrivalOrder() async throws {
        let gate = RequestGate(limit: 1)
        let occupancy = Occupancy()
        let release = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await gate.withSlot {
                occupancy.enter(-1)
                for await _ in release.stream { break }
            }
        }
        while occupancy.order.isEmpty { await Task.yield() }
        var waiters: [Task<Void, any Error>] = []
        for id in 0..<5 {
            waiters.append(Task { try await gate.withSlot { occupancy.enter(id) } })
            // Each waiter is in the queue before the next one arrives.
            while gate.counts.waiting < id + 1 { await Task.yield() }
        }
        #expect(gate.counts == (inFlight: 1, waiting: 5))
        release.continuation.yield()
        try await holder.value
        for waiter in waiters { try await waiter.value }
        #expect(occupancy.order == [-1, 0, 1, 2, 3, 4])
    }

    @Test func aCancelledWaiterLeavesWithoutTakingASlot() async throws {
        let gate = RequestGate(limit: 1)
        let release = AsyncStream<Void>.makeStream()
        let started = Occupancy()
        let holder = Task {
            try await gate.withSlot {
                started.enter(0)
                for await _ in release.stream { break }
            }
        }
        while started.order.isEmpty { await Task.yield() }
        let waiter = Task { try await gate.withSlot { 1 } }
        while gate.counts.waiting < 1 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        release.continuation.yield()
        try await holder.value
        // The slot came back: the next request runs at once.
        #expect(gate.counts == (inFlight: 0, waiting: 0))
        #expect(try await gate.withSlot { 2 } == 2)
    }
}
