/// A compact binary encoding of telemetry batches, used by the durable queue's records.
/// Little-endian fixed-width numbers, LEB128 lengths; a leading version byte lets the format evolve.
public enum BatchCodec {
    public static let version: UInt8 = 1

    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ batch: TelemetryBatch, receiver: String, into w: inout ByteWriter) {
        w.byte(version)
        w.string(receiver)
        w.varint(UInt64(batch.points.count))
        for p in batch.points { point(p, &w) }
        w.varint(UInt64(batch.spans.count))
        for s in batch.spans { span(s, &w) }
    }

    public static func encode(_ batch: TelemetryBatch, receiver: String) -> [UInt8] {
        var w = ByteWriter()
        encode(batch, receiver: receiver, into: &w)
        return w.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> (receiver: String, batch: TelemetryBatch) {
        var r = ByteReader(bytes)
        guard try r.byte() == version else { throw DecodeError(description: "unknown record version") }
        let receiver = try r.string()
        var batch = TelemetryBatch()
        let pointCount = try r.count()
        batch.points.reserveCapacity(pointCount)
        for _ in 0..<pointCount { batch.points.append(try point(&r)) }
        let spanCount = try r.count()
        batch.spans.reserveCapacity(spanCount)
        for _ in 0..<spanCount { batch.spans.append(try span(&r)) }
        guard r.isAtEnd else { throw DecodeError(description: "trailing bytes after batch") }
        return (receiver, batch)
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> (receiver: String, batch: TelemetryBatch) {
        let result: Result<(receiver: String, batch: TelemetryBatch), DecodeError> = bytes.withUnsafeBytes { b in
            do throws(DecodeError) { return .success(try decode(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    // MARK: Points

    static func point(_ p: MetricPoint, _ w: inout ByteWriter) {
        w.string(p.name); w.string(p.namespace); w.string(p.unit); w.string(p.function)
        w.byte(UInt8(p.kind.rawValue))
        w.byte((p.isMonotonic ? 1 : 0) | (p.hasMinMax ? 2 : 0) | (p.isDelta ? 4 : 0))
        w.varint(UInt64(p.labels.count))
        for l in p.labels { w.string(l.key); w.string(l.value) }
        w.u64(p.startTimeUnixNano); w.u64(p.timeUnixNano)
        w.double(p.value); w.double(p.count); w.double(p.sum); w.double(p.min); w.double(p.max)
        w.varint(UInt64(p.quantiles.count))
        for q in p.quantiles { w.double(q.quantile); w.double(q.value) }
        w.varint(UInt64(p.bounds.count))
        for b in p.bounds { w.double(b) }
        w.varint(UInt64(p.bucketCounts.count))
        for c in p.bucketCounts { w.u64(c) }
    }

    static func point(_ r: inout ByteReader) throws(DecodeError) -> MetricPoint {
        let name = try r.string(), namespace = try r.string(), unit = try r.string(), function = try r.string()
        guard let kind = MetricKind(rawValue: UInt32(try r.byte())) else { throw DecodeError(description: "bad metric kind") }
        let flags = try r.byte()
        var labels: [Label] = []
        let n = try r.count()
        labels.reserveCapacity(n)
        for _ in 0..<n { labels.append(Label(try r.string(), try r.string())) }
        var p = MetricPoint(name: name, namespace: namespace, unit: unit, function: function, kind: kind,
                            isMonotonic: flags & 1 != 0, hasMinMax: flags & 2 != 0, isDelta: flags & 4 != 0,
                            timeUnixNano: 0)
        p.labels = labels  // stored canonical already
        p.startTimeUnixNano = try r.u64(); p.timeUnixNano = try r.u64()
        p.value = try r.double(); p.count = try r.double(); p.sum = try r.double(); p.min = try r.double(); p.max = try r.double()
        let qn = try r.count()
        for _ in 0..<qn { p.quantiles.append(Quantile(try r.double(), try r.double())) }
        let bn = try r.count()
        for _ in 0..<bn { p.bounds.append(try r.double()) }
        let cn = try r.count()
        for _ in 0..<cn { p.bucketCounts.append(try r.u64()) }
        return p
    }

    // MARK: Spans

    static func attributes(_ attrs: [Attribute], _ w: inout ByteWriter) {
        w.varint(UInt64(attrs.count))
        for a in attrs {
            w.string(a.key)
            switch a.value {
            case .string(let s): w.byte(1); w.string(s)
            case .bool(let b): w.byte(2); w.byte(b ? 1 : 0)
            case .int(let i): w.byte(3); w.u64(UInt64(bitPattern: i))
            case .double(let d): w.byte(4); w.double(d)
            case .bytes(let b): w.byte(5); w.bytes(b)
            case .json(let s): w.byte(6); w.string(s)
            }
        }
    }

    static func attributes(_ r: inout ByteReader) throws(DecodeError) -> [Attribute] {
        let n = try r.count()
        var out: [Attribute] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let key = try r.string()
            let value: AttributeValue
            switch try r.byte() {
            case 1: value = .string(try r.string())
            case 2: value = .bool(try r.byte() != 0)
            case 3: value = .int(Int64(bitPattern: try r.u64()))
            case 4: value = .double(try r.double())
            case 5: value = .bytes(try r.byteArray())
            case 6: value = .json(try r.string())
            default: throw DecodeError(description: "bad attribute type")
            }
            out.append(Attribute(key, value))
        }
        return out
    }

    static func span(_ s: Span, _ w: inout ByteWriter) {
        w.u64(s.traceID.high); w.u64(s.traceID.low); w.u64(s.spanID.value); w.u64(s.parentSpanID.value)
        w.string(s.traceState); w.string(s.name)
        w.byte(UInt8(s.kind.rawValue)); w.byte(UInt8(s.statusCode.rawValue)); w.string(s.statusMessage)
        w.u64(s.startTimeUnixNano); w.u64(s.endTimeUnixNano)
        w.string(s.function); w.string(s.service); w.string(s.scopeName); w.string(s.scopeVersion)
        attributes(s.attributes, &w)
        attributes(s.resourceAttributes, &w)
        w.varint(UInt64(s.events.count))
        for e in s.events { w.u64(e.timeUnixNano); w.string(e.name); attributes(e.attributes, &w) }
        w.varint(UInt64(s.links.count))
        for l in s.links {
            w.u64(l.traceID.high); w.u64(l.traceID.low); w.u64(l.spanID.value); w.string(l.traceState)
            attributes(l.attributes, &w)
        }
    }

    static func span(_ r: inout ByteReader) throws(DecodeError) -> Span {
        let trace = TraceID(high: try r.u64(), low: try r.u64())
        let id = SpanID(try r.u64()), parent = SpanID(try r.u64())
        let traceState = try r.string(), name = try r.string()
        let kind = SpanKind(rawValue: UInt32(try r.byte())) ?? .unspecified
        let status = StatusCode(rawValue: UInt32(try r.byte())) ?? .unset
        let message = try r.string()
        let start = try r.u64(), end = try r.u64()
        let function = try r.string(), service = try r.string(), scopeName = try r.string(), scopeVersion = try r.string()
        let attrs = try attributes(&r), resource = try attributes(&r)
        var events: [SpanEvent] = []
        for _ in 0..<(try r.count()) { events.append(SpanEvent(timeUnixNano: try r.u64(), name: try r.string(), attributes: try attributes(&r))) }
        var links: [SpanLink] = []
        for _ in 0..<(try r.count()) {
            let t = TraceID(high: try r.u64(), low: try r.u64())
            links.append(SpanLink(traceID: t, spanID: SpanID(try r.u64()), traceState: try r.string(), attributes: try attributes(&r)))
        }
        return Span(traceID: trace, spanID: id, parentSpanID: parent, traceState: traceState, name: name, kind: kind,
                    statusCode: status, statusMessage: message, startTimeUnixNano: start, endTimeUnixNano: end,
                    function: function, service: service, scopeName: scopeName, scopeVersion: scopeVersion,
                    attributes: attrs, resourceAttributes: resource, events: events, links: links)
    }
}

/// Appends little-endian numbers, LEB128 varints and length-prefixed strings to a byte array.
public struct ByteWriter {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func double(_ d: Double) { u64(d.bitPattern) }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { lengthPrefixed(UnsafeRawBufferPointer($0)) }
    }

    public mutating func bytes(_ b: [UInt8]) {
        b.withUnsafeBytes { lengthPrefixed($0) }
    }

    /// A varint length, then the bytes.
    public mutating func lengthPrefixed(_ b: UnsafeRawBufferPointer) {
        varint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }
}

/// Reads what `ByteWriter` wrote, bounds-checked.
public struct ByteReader {
    let base: UnsafeRawBufferPointer
    var offset = 0

    public init(_ base: UnsafeRawBufferPointer) { self.base = base }

    public var isAtEnd: Bool { offset == base.count }

    @inline(__always) public mutating func byte() throws(BatchCodec.DecodeError) -> UInt8 {
        guard offset < base.count else { throw BatchCodec.DecodeError(description: "truncated record") }
        defer { offset += 1 }
        return base[offset]
    }

    public mutating func varint() throws(BatchCodec.DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw BatchCodec.DecodeError(description: "varint overflow") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A length or element count, sanity-checked against the bytes left.
    mutating func count() throws(BatchCodec.DecodeError) -> Int {
        let n = try varint()
        guard n <= UInt64(base.count - offset) else { throw BatchCodec.DecodeError(description: "count exceeds record") }
        return Int(n)
    }

    public mutating func u32() throws(BatchCodec.DecodeError) -> UInt32 {
        guard offset + 4 <= base.count else { throw BatchCodec.DecodeError(description: "truncated record") }
        defer { offset += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    public mutating func u64() throws(BatchCodec.DecodeError) -> UInt64 {
        guard offset + 8 <= base.count else { throw BatchCodec.DecodeError(description: "truncated record") }
        defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    public mutating func double() throws(BatchCodec.DecodeError) -> Double { Double(bitPattern: try u64()) }

    public mutating func string() throws(BatchCodec.DecodeError) -> String {
        let n = try count()
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: base[offset..<offset + n]), as: UTF8.self)
    }

    public mutating func byteArray() throws(BatchCodec.DecodeError) -> [UInt8] {
        let n = try count()
        defer { offset += n }
        return Array(base[offset..<offset + n])
    }
}
