// Hand-written protobuf encoder for the remote-write 1.0 `prometheus.WriteRequest` message.
public import FireflyModel

/// One series of a write request: its complete label set (with `__name__`, sorted byte-wise)
/// and its samples in timestamp order.
public struct RemoteWriteSeries: Sendable, Hashable {
    public var labels: [Label]
    public var samples: [RemoteWriteSample]

    public init(labels: [Label], samples: [RemoteWriteSample]) {
        self.labels = labels
        self.samples = samples
    }
}

/// A sample: value and timestamp in milliseconds since the epoch.
public struct RemoteWriteSample: Sendable, Hashable {
    public var value: Double
    public var timestampMs: Int64

    public init(value: Double, timestampMs: Int64) {
        self.value = value
        self.timestampMs = timestampMs
    }
}

/// Encodes `WriteRequest { repeated TimeSeries timeseries = 1; }` with
/// `TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }`,
/// `Label { string name = 1; string value = 2; }`, `Sample { double value = 1; int64 timestamp = 2; }`.
/// Sizes are computed first so every byte is written once, straight into one buffer.
public enum WriteRequestEncoder {
    public static func encode(_ series: [RemoteWriteSeries]) -> [UInt8] {
        var total = 0
        for s in series {
            let size = seriesSize(s)
            total += 1 + varintSize(UInt64(size)) + size
        }
        var out: [UInt8] = []
        out.reserveCapacity(total)
        for s in series {
            out.append(0x0A)
            appendVarint(UInt64(seriesSize(s)), to: &out)
            for label in s.labels {
                let size = labelSize(label)
                out.append(0x0A)
                appendVarint(UInt64(size), to: &out)
                appendString(tag: 0x0A, label.key, to: &out)
                appendString(tag: 0x12, label.value, to: &out)
            }
            for sample in s.samples {
                out.append(0x12)
                appendVarint(UInt64(sampleSize(sample)), to: &out)
                if sample.value.bitPattern != 0 {
                    out.append(0x09)
                    var bits = sample.value.bitPattern.littleEndian
                    withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
                }
                if sample.timestampMs != 0 {
                    out.append(0x10)
                    appendVarint(UInt64(bitPattern: sample.timestampMs), to: &out)
                }
            }
        }
        return out
    }

    // proto3 omits fields holding their default (0.0 with a zero bit pattern, 0), as every
    // reference encoder does; -0.0 has a non-zero bit pattern and is written.
    static func sampleSize(_ s: RemoteWriteSample) -> Int {
        (s.value.bitPattern != 0 ? 9 : 0) + (s.timestampMs != 0 ? 1 + varintSize(UInt64(bitPattern: s.timestampMs)) : 0)
    }

    static func labelSize(_ l: Label) -> Int {
        stringFieldSize(l.key) + stringFieldSize(l.value)
    }

    static func seriesSize(_ s: RemoteWriteSeries) -> Int {
        var size = 0
        for l in s.labels {
            let n = labelSize(l)
            size += 1 + varintSize(UInt64(n)) + n
        }
        for sample in s.samples {
            let n = sampleSize(sample)
            size += 1 + varintSize(UInt64(n)) + n
        }
        return size
    }

    @inline(__always) static func stringFieldSize(_ s: String) -> Int {
        let n = s.utf8.count
        return n == 0 ? 0 : 1 + varintSize(UInt64(n)) + n
    }

    @inline(__always) static func appendString(tag: UInt8, _ s: String, to out: inout [UInt8]) {
        let n = s.utf8.count
        if n == 0 { return }
        out.append(tag)
        appendVarint(UInt64(n), to: &out)
        out.append(contentsOf: s.utf8)
    }

    @inline(__always) static func varintSize(_ v: UInt64) -> Int {
        v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7
    }

    @inline(__always) static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
