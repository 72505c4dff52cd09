// Decodes a binary ExportMetricsServiceRequest (field numbers: wire-formats.md C.5) into model points.
import FireflyModel
import FireflyWire

/// The hand-written protobuf decoder for metrics; same skipping and error rules as `TraceProtoDecoder`.
enum MetricsProtoDecoder {
    static func decode(_ body: [UInt8]) throws(OTLPDecodeError) -> DecodeOutcome {
        try OTLPDecodeError.mapping { () throws -> DecodeOutcome in
            var outcome = DecodeOutcome()
            // The scope is not part of a metric's identity in Firefly.
            try ProtoCommon.forEachItem(in: body) { (r: inout ProtobufReader, resource, _) throws in
                try metric(&r).convert(resource: resource, into: &outcome)
            }
            return outcome
        }
    }

    static func metric(_ r: inout ProtobufReader) throws -> MetricDraft {
        var m = MetricDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): m.name = try r.readString()
            case (3, 2): m.unit = try r.readString()
            case (5, 2):
                var sub = try r.readLengthDelimited()
                var points: [NumberPointDraft] = []
                if case .gauge(let existing) = m.data { points = existing }
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    if f == 1, w == 2 {
                        var p = try sub.readLengthDelimited()
                        points.append(try numberPoint(&p))
                    } else {
                        try sub.skip(w)
                    }
                }
                m.data = .gauge(points)
            case (7, 2):
                var sub = try r.readLengthDelimited()
                var points: [NumberPointDraft] = []
                var temporality: UInt64 = 0
                var monotonic = false
                if case .sum(let p, let t, let mono) = m.data { (points, temporality, monotonic) = (p, t, mono) }
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    switch (f, w) {
                    case (1, 2):
                        var p = try sub.readLengthDelimited()
                        points.append(try numberPoint(&p))
                    case (2, 0): temporality = try sub.readVarint()
                    case (3, 0): monotonic = try sub.readVarint() != 0
                    default: try sub.skip(w)
                    }
                }
                m.data = .sum(points, temporality: temporality, isMonotonic: monotonic)
            case (9, 2):
                var sub = try r.readLengthDelimited()
                var points: [HistogramPointDraft] = []
                var temporality: UInt64 = 0
                if case .histogram(let p, let t) = m.data { (points, temporality) = (p, t) }
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    switch (f, w) {
                    case (1, 2):
                        var p = try sub.readLengthDelimited()
                        points.append(try histogramPoint(&p))
                    case (2, 0): temporality = try sub.readVarint()
                    default: try sub.skip(w)
                    }
                }
                m.data = .histogram(points, temporality: temporality)
            case (10, 2):
                var sub = try r.readLengthDelimited()
                var points: [ExponentialHistogramPointDraft] = []
                var temporality: UInt64 = 0
                if case .exponentialHistogram(let p, let t) = m.data { (points, temporality) = (p, t) }
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    switch (f, w) {
                    case (1, 2):
                        var p = try sub.readLengthDelimited()
                        points.append(try exponentialPoint(&p))
                    case (2, 0): temporality = try sub.readVarint()
                    default: try sub.skip(w)
                    }
                }
                m.data = .exponentialHistogram(points, temporality: temporality)
            case (11, 2):
                var sub = try r.readLengthDelimited()
                var points: [SummaryPointDraft] = []
                if case .summary(let existing) = m.data { points = existing }
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    if f == 1, w == 2 {
                        var p = try sub.readLengthDelimited()
                        points.append(try summaryPoint(&p))
                    } else {
                        try sub.skip(w)
                    }
                }
                m.data = .summary(points)
            default: try r.skip(wire)
            }
        }
        return m
    }

    @inline(__always)
    private static func attribute(_ r: inout ProtobufReader, into common: inout PointCommon) throws {
        var sub = try r.readLengthDelimited()
        try ProtoCommon.appendAttribute(&sub, to: &common.attributes)
    }

    static func numberPoint(_ r: inout ProtobufReader) throws -> NumberPointDraft {
        var p = NumberPointDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (7, 2): try attribute(&r, into: &p.common)
            case (2, 1): p.common.startTimeUnixNano = try r.readFixed64()
            case (3, 1): p.common.timeUnixNano = try r.readFixed64()
            case (4, 1): p.value = try r.readDouble()
            case (6, 1): p.value = Double(Int64(bitPattern: try r.readFixed64()))
            case (8, 0): p.common.flags = try r.readVarint()
            default: try r.skip(wire)
            }
        }
        return p
    }

    static func histogramPoint(_ r: inout ProtobufReader) throws -> HistogramPointDraft {
        var p = HistogramPointDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (9, 2): try attribute(&r, into: &p.common)
            case (2, 1): p.common.startTimeUnixNano = try r.readFixed64()
            case (3, 1): p.common.timeUnixNano = try r.readFixed64()
            case (4, 1): p.count = try r.readFixed64()
            case (5, 1): p.sum = try r.readDouble()
            case (6, _): try r.appendFixed64s(wire: wire, to: &p.bucketCounts)
            case (7, _): try r.appendDoubles(wire: wire, to: &p.explicitBounds)
            case (10, 0): p.common.flags = try r.readVarint()
            case (11, 1): p.min = try r.readDouble()
            case (12, 1): p.max = try r.readDouble()
            default: try r.skip(wire)
            }
        }
        return p
    }

    static func exponentialPoint(_ r: inout ProtobufReader) throws -> ExponentialHistogramPointDraft {
        var p = ExponentialHistogramPointDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): try attribute(&r, into: &p.common)
            case (2, 1): p.common.startTimeUnixNano = try r.readFixed64()
            case (3, 1): p.common.timeUnixNano = try r.readFixed64()
            case (4, 1): p.count = try r.readFixed64()
            case (5, 1): p.sum = try r.readDouble()
            case (6, 0): p.scale = Int32(zigZag: try r.readVarint())
            case (7, 1): p.zeroCount = try r.readFixed64()
            case (8, 2):
                var sub = try r.readLengthDelimited()
                try buckets(&sub, into: &p.positive)
            case (9, 2):
                var sub = try r.readLengthDelimited()
                try buckets(&sub, into: &p.negative)
            case (10, 0): p.common.flags = try r.readVarint()
            case (12, 1): p.min = try r.readDouble()
            case (13, 1): p.max = try r.readDouble()
            case (14, 1): p.zeroThreshold = try r.readDouble()
            default: try r.skip(wire)
            }
        }
        return p
    }

    static func buckets(_ r: inout ProtobufReader, into b: inout ExponentialBucketsDraft) throws {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 0): b.offset = Int32(zigZag: try r.readVarint())
            case (2, _): try r.appendVarints(wire: wire, to: &b.bucketCounts)
            default: try r.skip(wire)
            }
        }
    }

    static func summaryPoint(_ r: inout ProtobufReader) throws -> SummaryPointDraft {
        var p = SummaryPointDraft()
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (7, 2): try attribute(&r, into: &p.common)
            case (2, 1): p.common.startTimeUnixNano = try r.readFixed64()
            case (3, 1): p.common.timeUnixNano = try r.readFixed64()
            case (4, 1): p.count = try r.readFixed64()
            case (5, 1): p.sum = try r.readDouble()
            case (6, 2):
                var sub = try r.readLengthDelimited()
                var q = Quantile(0, 0)
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    switch (f, w) {
                    case (1, 1): q.quantile = try sub.readDouble()
                    case (2, 1): q.value = try sub.readDouble()
                    default: try sub.skip(w)
                    }
                }
                p.quantiles.append(q)
            case (8, 0): p.common.flags = try r.readVarint()
            default: try r.skip(wire)
            }
        }
        return p
    }
}
