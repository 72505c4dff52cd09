public import FireflyModel

/// Which exporters take which signal from which receiver, from the `pipelines:` section.
public struct Router: Sendable {
    /// exporter → receivers whose metrics it takes
    private var metricSources: [String: Set<String>] = [:]
    /// exporter → receivers whose spans it takes
    private var traceSources: [String: Set<String>] = [:]

    public init(pipelines: [PipelineConfig]) {
        for p in pipelines {
            for e in p.exporters {
                switch p.signal {
                case .metrics: metricSources[e, default: []].formUnion(p.receivers)
                case .traces: traceSources[e, default: []].formUnion(p.receivers)
                }
            }
        }
    }

    /// Whether any exporter wants this receiver's points / spans.
    public func routes(receiver: String, signal: Signal) -> Bool {
        let table = signal == .metrics ? metricSources : traceSources
        return table.values.contains { $0.contains(receiver) }
    }

    /// The part of an entry an exporter takes (possibly empty).
    public func share(of entry: QueueEntry, for exporter: String) -> TelemetryBatch {
        var out = TelemetryBatch()
        if metricSources[exporter]?.contains(entry.receiver) == true { out.points = entry.batch.points }
        if traceSources[exporter]?.contains(entry.receiver) == true { out.spans = entry.batch.spans }
        return out
    }
}
