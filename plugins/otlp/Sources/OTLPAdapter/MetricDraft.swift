// The data of one OTLP metric as either decoder reads it, and the shared conversion to model points.
import FireflyModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Aggregation temporality values (OTLP `AggregationTemporality`).
enum Temporality {
    static let unspecified: UInt64 = 0
    static let delta: UInt64 = 1
    static let cumulative: UInt64 = 2
}

/// Fields every OTLP data point has.
struct PointCommon {
    var attributes: [Attribute] = []
    var startTimeUnixNano: UInt64 = 0
    var timeUnixNano: UInt64 = 0
    var flags: UInt64 = 0

    /// `DataPointFlags.NO_RECORDED_VALUE`: a staleness marker, not a measurement.
    var hasNoRecordedValue: Bool { flags & 1 != 0 }
}

struct NumberPointDraft {
    var common = PointCommon()
    /// `as_double` or `as_int`; nil when neither was sent.
    var value: Double?
}

struct HistogramPointDraft {
    var common = PointCommon()
    var count: UInt64 = 0
    var sum: Double?
    var bucketCounts: [UInt64] = []
    var explicitBounds: [Double] = []
    var min: Double?
    var max: Double?
}

struct ExponentialBucketsDraft {
    var offset: Int32 = 0
    var bucketCounts: [UInt64] = []
}

struct ExponentialHistogramPointDraft {
    var common = PointCommon()
    var count: UInt64 = 0
    var sum: Double?
    var scale: Int32 = 0
    var zeroCount: UInt64 = 0
    var positive = ExponentialBucketsDraft()
    var negative = ExponentialBucketsDraft()
    var min: Double?
    var max: Double?
    var zeroThreshold: Double = 0
}

struct SummaryPointDraft {
    var common = PointCommon()
    var count: UInt64 = 0
    var sum: Double = 0
    var quantiles: [Quantile] = []
}

/// The `data` oneof of a Metric.
enum MetricData {
    case none
    case gauge([NumberPointDraft])
    case sum([NumberPointDraft], temporality: UInt64, isMonotonic: Bool)
    case histogram([HistogramPointDraft], temporality: UInt64)
    case exponentialHistogram([ExponentialHistogramPointDraft], temporality: UInt64)
    case summary([SummaryPointDraft])
}

/// One metric as decoded.
struct MetricDraft {
    var name = ""
    var unit = ""
    var data = MetricData.none

    var pointCount: Int {
        switch data {
        case .none: return 0
        case .gauge(let p), .sum(let p, _, _): return p.count
        case .histogram(let p, _): return p.count
        case .exponentialHistogram(let p, _): return p.count
        case .summary(let p): return p.count
        }
    }

    /// Appends the model points to `outcome`, rejecting (and counting) what cannot be represented.
    func convert(resource: ResourceContext, into outcome: inout DecodeOutcome) {
        guard !name.isEmpty else {
            outcome.reject(pointCount, "a metric has no name")
            return
        }
        switch data {
        case .none:
            return
        case .gauge(let points):
            for p in points where !p.common.hasNoRecordedValue {
                guard let value = p.value else { outcome.reject(1, "a data point of '\(name)' has no value"); continue }
                outcome.batch.points.append(point(.gauge, p.common, resource) { $0.value = value })
            }
        case .sum(let points, let temporality, let isMonotonic):
            guard let kind = sumKind(temporality) else {
                outcome.reject(points.count, "sum '\(name)' has no aggregation temporality")
                return
            }
            for p in points where !p.common.hasNoRecordedValue {
                guard let value = p.value else { outcome.reject(1, "a data point of '\(name)' has no value"); continue }
                outcome.batch.points.append(
                    point(kind, p.common, resource) {
                        $0.value = value
                        $0.isMonotonic = isMonotonic
                        $0.isDelta = kind == .deltaSum
                    })
            }
        case .histogram(let points, let temporality):
            guard temporality != Temporality.unspecified else {
                outcome.reject(points.count, "histogram '\(name)' has no aggregation temporality")
                return
            }
            for p in points where !p.common.hasNoRecordedValue {
                var counts = p.bucketCounts
                let bounds = p.explicitBounds
                if counts.isEmpty && bounds.isEmpty {
                    counts = [p.count]  // no buckets: one bucket (-Inf, +Inf] holding every value
                } else if counts.count != bounds.count + 1 {
                    outcome.reject(
                        1, "histogram '\(name)' has \(counts.count) bucket counts for \(bounds.count) bounds (want bounds + 1)")
                    continue
                }
                outcome.batch.points.append(
                    point(.histogram, p.common, resource) {
                        $0.isDelta = temporality == Temporality.delta
                        $0.count = Double(p.count)
                        $0.sum = p.sum ?? 0
                        if let min = p.min, let max = p.max {
                            $0.hasMinMax = true
                            $0.min = min
                            $0.max = max
                        }
                        $0.bounds = bounds
                        $0.bucketCounts = counts
                    })
            }
        case .exponentialHistogram(let points, let temporality):
            guard temporality != Temporality.unspecified else {
                outcome.reject(points.count, "exponential histogram '\(name)' has no aggregation temporality")
                return
            }
            for p in points where !p.common.hasNoRecordedValue {
                guard p.scale >= -10, p.scale <= 20 else {
                    outcome.reject(1, "exponential histogram '\(name)' has scale \(p.scale) outside -10...20")
                    continue
                }
                let (bounds, counts) = Self.explicitBuckets(p)
                outcome.batch.points.append(
                    point(.histogram, p.common, resource) {
                        $0.isDelta = temporality == Temporality.delta
                        $0.count = Double(p.count)
                        $0.sum = p.sum ?? 0
                        if let min = p.min, let max = p.max {
                            $0.hasMinMax = true
                            $0.min = min
                            $0.max = max
                        }
                        $0.bounds = bounds
                        $0.bucketCounts = counts
                    })
            }
        case .summary(let points):
            for p in points where !p.common.hasNoRecordedValue {
                outcome.batch.points.append(
                    point(.summary, p.common, resource) {
                        $0.count = Double(p.count)
                        $0.sum = p.sum
                        $0.quantiles = p.quantiles
                        if let min = p.quantiles.first(where: { $0.quantile == 0 }),
                            let max = p.quantiles.first(where: { $0.quantile == 1 })
                        {
                            $0.hasMinMax = true
                            $0.min = min.value
                            $0.max = max.value
                        }
                    })
            }
        }
    }

    private func sumKind(_ temporality: UInt64) -> MetricKind? {
        switch temporality {
        case Temporality.delta: return .deltaSum
        case Temporality.cumulative: return .cumulativeSum
        default: return nil
        }
    }

    /// A point with the fields every kind shares: labels are the resource's label subset overlaid
    /// with the data point attributes; the function is resolved from both.
    private func point(
        _ kind: MetricKind, _ common: PointCommon, _ resource: ResourceContext, _ fill: (inout MetricPoint) -> Void
    ) -> MetricPoint {
        var labels = resource.labels
        for a in common.attributes {
            let text = a.value.labelText
            if !text.isEmpty { labels.append(Label(a.key, text)) }
        }
        let (namespace, metricName) = CloudWatchMetricName.split(name)
        var p = MetricPoint(
            name: metricName, namespace: namespace, unit: unit,
            function: FunctionResolver.function(spanAttributes: common.attributes, resourceAttributes: resource.attributes),
            kind: kind, labels: labels, startTimeUnixNano: common.startTimeUnixNano, timeUnixNano: common.timeUnixNano)
        fill(&p)
        if !namespace.isEmpty {
            // A CloudWatch metric relayed over OTLP (a Firefly edge, or a collector forwarding a
            // metric stream): its function and delta nature as the Firehose receiver reads them.
            let function = FunctionResolver.function(cloudWatchDimensions: p.labels)
            if !function.isEmpty { p.function = function }
            if kind == .summary { p.isDelta = true }
        }
        return p
    }

    /// Converts exponential buckets to explicit ones. With base = 2^(2^-scale), positive bucket
    /// index i holds (base^i, base^(i+1)] and negative index i holds [-base^(i+1), -base^i).
    /// Bounds, ascending: -base^(n+1) for the top negative index n down to -base^(offset) (each
    /// bound closes one negative bucket; a leading empty bucket holds nothing below), then the
    /// zero threshold (the zero bucket, also catching anything between the last negative bound
    /// and it), then base^(offset) (an empty gap bucket when above the zero threshold) and
    /// base^(i+1) for each positive bucket, and finally an empty +Inf bucket.
    static func explicitBuckets(_ p: ExponentialHistogramPointDraft) -> (bounds: [Double], counts: [UInt64]) {
        let indexWidth = exp2(-Double(p.scale))
        func power(_ index: Int64) -> Double { exp2(Double(index) * indexWidth) }
        var bounds: [Double] = []
        var counts: [UInt64] = []
        let neg = p.negative
        if !neg.bucketCounts.isEmpty {
            let top = Int64(neg.offset) + Int64(neg.bucketCounts.count) - 1
            counts.append(0)
            bounds.append(-power(top + 1))
            var index = top
            while index >= Int64(neg.offset) {
                counts.append(neg.bucketCounts[Int(index - Int64(neg.offset))])
                bounds.append(-power(index))
                index -= 1
            }
        }
        counts.append(p.zeroCount)
        bounds.append(p.zeroThreshold)
        let pos = p.positive
        if !pos.bucketCounts.isEmpty {
            let lowest = power(Int64(pos.offset))
            if lowest > p.zeroThreshold {
                counts.append(0)
                bounds.append(lowest)
            }
            for (k, c) in pos.bucketCounts.enumerated() {
                counts.append(c)
                bounds.append(power(Int64(pos.offset) + Int64(k) + 1))
            }
        }
        counts.append(0)
        return (bounds, counts)
    }
}
