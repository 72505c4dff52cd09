#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The collector's own metrics, served on `GET /metrics` in the Prometheus text format:
/// counters with labels, gauges read at scrape time, and latency histograms.
public final class SelfMetrics: Sendable {
    private struct Key: Hashable {
        var name: String
        var labels: [String]  // "k=v" pairs, sorted
    }

    private struct State {
        var counters: [Key: Double] = [:]
        var help: [String: (type: String, text: String)] = [:]
        var gauges: [(name: String, labels: [(String, String)], read: @Sendable () -> Double)] = []
        var histograms: [Key: Histogram] = [:]
    }

    private let state = Mutex(State())

    private struct Histogram {
        static let bounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        var buckets = [UInt64](repeating: 0, count: bounds.count)
        var count: UInt64 = 0
        var sum: Double = 0
    }

    /// Describes every metric of `SelfMetricCatalog`.
    public init() {
        state.withLock { s in
            for m in SelfMetricCatalog.all { s.help[m.name] = (m.type, m.help) }
        }
    }

    public func describe(_ name: String, type: String, _ text: String) {
        state.withLock { $0.help[name] = (type, text) }
    }

    public func increment(_ name: String, _ labels: [(String, String)] = [], by delta: Double = 1) {
        let key = Key(name: name, labels: Self.render(labels))
        state.withLock { $0.counters[key, default: 0] += delta }
    }

    /// The current value of a counter (tests, `firefly` status lines).
    public func value(_ name: String, _ labels: [(String, String)] = []) -> Double {
        let key = Key(name: name, labels: Self.render(labels))
        return state.withLock { $0.counters[key] ?? 0 }
    }

    public func gauge(_ name: String, _ labels: [(String, String)] = [], read: @escaping @Sendable () -> Double) {
        state.withLock { $0.gauges.append((name, labels, read)) }
    }

    public func observe(_ name: String, _ labels: [(String, String)] = [], seconds: Double) {
        let key = Key(name: name, labels: Self.render(labels))
        state.withLock { s in
            var h = s.histograms[key] ?? Histogram()
            for (i, b) in Histogram.bounds.enumerated() where seconds <= b { h.buckets[i] += 1 }
            h.count += 1
            h.sum += seconds
            s.histograms[key] = h
        }
    }

    /// The Prometheus text exposition (version 0.0.4).
    public func render() -> String {
        let (counters, gauges, histograms, help) = state.withLock { ($0.counters, $0.gauges, $0.histograms, $0.help) }
        var out = ""
        var described: Set<String> = []
        func header(_ name: String, _ fallbackType: String) {
            guard described.insert(name).inserted else { return }
            // Plugins' own counters are named at run time; the catalogue says what they all are.
            let text = help[name]?.text ?? SelfMetricCatalog.help(ofUndeclared: name)
            out += "# HELP \(name) \(text)\n# TYPE \(name) \(help[name]?.type ?? fallbackType)\n"
        }
        for key in counters.keys.sorted(by: { ($0.name, $0.labels.joined()) < ($1.name, $1.labels.joined()) }) {
            header(key.name, "counter")
            out += "\(key.name)\(Self.braces(key.labels)) \(Self.format(counters[key]!))\n"
        }
        for g in gauges.sorted(by: { $0.name < $1.name }) {
            header(g.name, "gauge")
            out += "\(g.name)\(Self.braces(Self.render(g.labels))) \(Self.format(g.read()))\n"
        }
        for key in histograms.keys.sorted(by: { ($0.name, $0.labels.joined()) < ($1.name, $1.labels.joined()) }) {
            let h = histograms[key]!
            header(key.name, "histogram")
            for (i, b) in Histogram.bounds.enumerated() {
                out += "\(key.name)_bucket\(Self.braces(key.labels + ["le=\"\(Self.format(b))\""])) \(h.buckets[i])\n"
            }
            out += "\(key.name)_bucket\(Self.braces(key.labels + ["le=\"+Inf\""])) \(h.count)\n"
            out += "\(key.name)_sum\(Self.braces(key.labels)) \(Self.format(h.sum))\n"
            out += "\(key.name)_count\(Self.braces(key.labels)) \(h.count)\n"
        }
        return out
    }

    private static func render(_ labels: [(String, String)]) -> [String] {
        labels.map { "\($0.0)=\"\(escape($0.1))\"" }.sorted()
    }

    private static func braces(_ rendered: [String]) -> String {
        rendered.isEmpty ? "" : "{" + rendered.joined(separator: ",") + "}"
    }

    private static func escape(_ v: String) -> String {
        v.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            .replacing("\n", with: "\\n")
    }

    private static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
