// Hand-written protobuf encoder for the remote-write 1.0 `prometheus.WriteRequest` message.
public import FireflyModel
import FireflyWire

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
        for s in series { total += ProtobufWriter.lengthDelimitedSize(seriesSize(s)) }
        var w = ProtobufWriter(capacity: total)
        for s in series {
            w.lengthPrefix(1, seriesSize(s))
            for label in s.labels {
                w.lengthPrefix(1, labelSize(label))
                if !label.key.isEmpty { w.stringField(1, label.key) }
                if !label.value.isEmpty { w.stringField(2, label.value) }
            }
            for sample in s.samples {
                w.lengthPrefix(2, sampleSize(sample))
                if sample.value.bitPattern != 0 { w.doubleField(1, sample.value) }
                if sample.timestampMs != 0 { w.int64Field(2, sample.timestampMs) }
            }
        }
        return w.bytes
    }

    // proto3 omits fields holding their default (0.0 with a zero bit pattern, 0), as every
    // reference encoder does; -0.0 has a non-zero bit pattern and is written.
    static func sampleSize(_ s: RemoteWriteSample) -> Int {
        (s.value.bitPattern != 0 ? 9 : 0)
            + (s.timestampMs != 0 ? 1 + ProtobufWriter.varintSize(UInt64(bitPattern: s.timestampMs)) : 0)
    }

    static func labelSize(_ l: Label) -> Int {
        stringFieldSize(l.key) + stringFieldSize(l.value)
    }

    static func seriesSize(_ s: RemoteWriteSeries) -> Int {
        var size = 0
        for l in s.labels { size += ProtobufWriter.lengthDelimitedSize(labelSize(l)) }
        for sample in s.samples { size += ProtobufWriter.lengthDelimitedSize(sampleSize(sample)) }
        return size
    }

    /// A string field's size; an empty string is not written at all.
    @inline(__always) static func stringFieldSize(_ s: String) -> Int {
        let n = s.utf8.count
        return n == 0 ? 0 : ProtobufWriter.lengthDelimitedSize(n)
    }
}
