public import FireflyModel

/// Which exporters take which signal from which receiver, from the `pipelines:` section.
public struct Router: Sendable {
    /// exporter → receiver → the signals it takes from that receiver
    private var sources: [String: [String: Signals]] = [:]
    /// receiver → the signals some exporter takes from it (asked on every emit)
    private var routedSignals: [String: Signals] = [:]

    public init(pipelines: [PipelineConfig]) {
        for p in pipelines {
            for e in p.exporters {
                for r in p.receivers {
                    sources[e, default: [:]][r, default: []].insert(Signals(p.signal))
                    routedSignals[r, default: []].insert(Signals(p.signal))
                }
            }
        }
    }

    /// The signals of this receiver that some exporter takes.
    public func routed(from receiver: String) -> Signals {
        routedSignals[receiver] ?? []
    }

    /// Whether any exporter wants this receiver's items of `signal`.
    public func routes(receiver: String, signal: Signal) -> Bool {
        routed(from: receiver).contains(Signals(signal))
    }

    /// The signals an exporter takes from a receiver (possibly none).
    public func signals(from receiver: String, for exporter: String) -> Signals {
        sources[exporter]?[receiver] ?? []
    }

    /// The part of an entry an exporter takes (possibly empty).
    public func share(of entry: QueueEntry, for exporter: String) -> TelemetryBatch {
        entry.batch.keeping(signals(from: entry.receiver, for: exporter))
    }
}

extension TelemetryBatch {
    /// The items of the given signals only.
    public func keeping(_ signals: Signals) -> TelemetryBatch {
        TelemetryBatch(
            points: signals.contains(.metrics) ? points : [],
            spans: signals.contains(.traces) ? spans : [],
            logs: signals.contains(.logs) ? logs : [],
            invocations: signals.contains(.logs) ? invocations : [])
    }
}
