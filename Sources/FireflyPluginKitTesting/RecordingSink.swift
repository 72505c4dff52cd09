// Test helpers for plugin authors, as HummingbirdTesting and NIOTestUtils are for their libraries:
// an adapter's `handle` is a plain function of a request and a sink, so tests call it directly.
public import FireflyModel
public import FireflyPluginKit
import Synchronization

/// A sink that keeps every batch it is given and answers with `answer` (`.ok` unless a test wants
/// to see the adapter's busy or shutting-down answer).
public final class RecordingSink: TelemetrySink {
    private let state: Mutex<(answer: EmitStatus, batches: [TelemetryBatch])>

    public init(answer: EmitStatus = .ok) {
        state = Mutex((answer: answer, batches: []))
    }

    public func emit(_ batch: TelemetryBatch) -> EmitStatus {
        state.withLock {
            $0.batches.append(batch)
            return $0.answer
        }
    }

    /// What later emits answer.
    public func answer(_ status: EmitStatus) {
        state.withLock { $0.answer = status }
    }

    public var batches: [TelemetryBatch] { state.withLock { $0.batches } }
    public var points: [MetricPoint] { batches.flatMap(\.points) }
    public var spans: [Span] { batches.flatMap(\.spans) }
}
