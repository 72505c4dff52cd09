import FireflyTestSupport
import FireflyDemo
import FireflyWire
import Foundation
import Testing

/// The protobuf reader and writer against Google's Python implementation, on random OpenTelemetry
/// `HistogramDataPoint`s (fixed64, doubles, packed repeated fields, nested attribute values of every
/// kind, negative int64s, empty and non-ASCII strings): the writer's bytes must equal Python's
/// deterministic serialization and parse back to an equal message there; the reader must decode
/// Python's bytes to the generated values; and of every prefix of those bytes, the reader must
/// accept exactly those Python accepts (a truncated message ends with an error, never a loop).
@Suite struct ProtobufOracleTests {
    indirect enum Value: Equatable {
        case string(String), bool(Bool), int(Int64), double(UInt64), bytes([UInt8]), array([Value]), kvlist([KeyValue])
    }

    struct KeyValue: Equatable {
        var key: String
        var value: Value
    }

    /// Doubles are kept as bit patterns: exact comparison, -0.0 and infinities included (no NaN:
    /// message equality in Python treats NaN as unequal to itself).
    struct Point: Equatable {
        var start: UInt64 = 0, time: UInt64 = 0, count: UInt64 = 0
        var sum: UInt64?
        var buckets: [UInt64] = []
        var bounds: [UInt64] = []
        var attributes: [KeyValue] = []
        var flags: UInt32 = 0
        var min: UInt64?, max: UInt64?
    }

    // MARK: Generation

    static func string(_ g: inout SeededGenerator) -> String {
        let pieces = ["", "a", "service.name", "é", "中文", "😀", " ", "\u{7F}", "\\", "\"", "x-y_z", "0"]
        return (0..<g.int(0...4)).map { _ in g.pick(pieces) }.joined()
    }

    static func double(_ g: inout SeededGenerator) -> UInt64 {
        switch g.int(0...5) {
        case 0: return g.pick([0.0, -0.0, 1.0, -1.5, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]).bitPattern
        case 1: return Double(g.int(-1_000_000...1_000_000)).bitPattern
        case 2: return Double.random(in: -1e6...1e6, using: &g).bitPattern
        default:
            var bits = g.next()
            while Double(bitPattern: bits).isNaN { bits = g.next() }
            return bits
        }
    }

    static func uint64(_ g: inout SeededGenerator) -> UInt64 {
        switch g.int(0...3) {
        case 0: return 0
        case 1: return UInt64(g.int(1...300))
        case 2: return g.next() >> UInt64(g.int(0...63))
        default: return g.next()
        }
    }

    static func value(_ g: inout SeededGenerator, depth: Int) -> Value {
        switch g.int(0...(depth < 2 ? 6 : 4)) {
        case 0: return .string(string(&g))
        case 1: return .bool(g.chance(0.5))
        case 2: return .int(g.pick([0, -1, Int64.min, Int64.max, Int64(g.int(-1000...1000)), Int64(bitPattern: g.next())]))
        case 3: return .double(double(&g))
        case 4: return .bytes((0..<g.int(0...20)).map { _ in UInt8.random(in: 0...255, using: &g) })
        case 5: return .array((0..<g.int(0...3)).map { _ in value(&g, depth: depth + 1) })
        default: return .kvlist((0..<g.int(0...3)).map { _ in KeyValue(key: string(&g), value: value(&g, depth: depth + 1)) })
        }
    }

    static func point(_ g: inout SeededGenerator) -> Point {
        var p = Point()
        p.start = uint64(&g)
        p.time = uint64(&g)
        p.count = uint64(&g)
        if g.chance(0.7) { p.sum = double(&g) }
        p.buckets = (0..<g.int(0...12)).map { _ in uint64(&g) }
        p.bounds = (0..<g.int(0...11)).map { _ in double(&g) }
        p.attributes = (0..<g.int(0...5)).map { _ in KeyValue(key: string(&g), value: value(&g, depth: 0)) }
        p.flags = g.chance(0.5) ? 0 : UInt32(truncatingIfNeeded: g.next())
        if g.chance(0.5) { p.min = double(&g) }
        if g.chance(0.5) { p.max = double(&g) }
        return p
    }

    // MARK: Writing (proto3 rules: field order, defaults omitted, repeated scalars packed)

    static func write(_ v: Value, _ w: inout ProtobufWriter) {
        switch v {
        case .string(let s): w.stringField(1, s)
        case .bool(let b): w.boolField(2, b)
        case .int(let i): w.int64Field(3, i)
        case .double(let bits): w.fixed64Field(4, bits)
        case .array(let items): w.message(5) { a in for item in items { a.message(1) { write(item, &$0) } } }
        case .kvlist(let items): w.message(6) { l in for item in items { l.message(1) { write(item, &$0) } } }
        case .bytes(let b): w.bytesField(7, b)
        }
    }

    static func write(_ kv: KeyValue, _ w: inout ProtobufWriter) {
        if !kv.key.isEmpty { w.stringField(1, kv.key) }
        w.message(2) { write(kv.value, &$0) }
    }

    static func encode(_ p: Point) -> [UInt8] {
        var w = ProtobufWriter()
        if p.start != 0 { w.fixed64Field(2, p.start) }
        if p.time != 0 { w.fixed64Field(3, p.time) }
        if p.count != 0 { w.fixed64Field(4, p.count) }
        if let sum = p.sum { w.fixed64Field(5, sum) }
        if !p.buckets.isEmpty {
            w.lengthPrefix(6, 8 * p.buckets.count)
            for b in p.buckets { w.fixed64(b) }
        }
        if !p.bounds.isEmpty {
            w.lengthPrefix(7, 8 * p.bounds.count)
            for b in p.bounds { w.fixed64(b) }
        }
        for kv in p.attributes { w.message(9) { write(kv, &$0) } }
        if p.flags != 0 { w.varintField(10, UInt64(p.flags)) }
        if let min = p.min { w.doubleField(11, Double(bitPattern: min)) }
        if let max = p.max { w.doubleField(12, Double(bitPattern: max)) }
        return w.bytes
    }

    // MARK: Reading

    static func readValue(_ r: inout ProtobufReader) throws(ProtobufError) -> Value {
        var value = Value.string("<unset>")
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): value = .string(try r.readString())
            case (2, 0): value = .bool(try r.readVarint() != 0)
            case (3, 0): value = .int(Int64(bitPattern: try r.readVarint()))
            case (4, 1): value = .double(try r.readFixed64())
            case (5, 2), (6, 2):
                var sub = try r.readLengthDelimited()
                var items: [Value] = []
                var pairs: [KeyValue] = []
                while !sub.isAtEnd {
                    let (f, w) = try sub.readTag()
                    guard f == 1, w == 2 else {
                        try sub.skip(w)
                        continue
                    }
                    var element = try sub.readLengthDelimited()
                    if field == 5 { items.append(try readValue(&element)) } else { pairs.append(try readKeyValue(&element)) }
                }
                value = field == 5 ? .array(items) : .kvlist(pairs)
            case (7, 2): value = .bytes(try r.readBytes())
            default: try r.skip(wire)
            }
        }
        return value
    }

    static func readKeyValue(_ r: inout ProtobufReader) throws(ProtobufError) -> KeyValue {
        var kv = KeyValue(key: "", value: .string("<unset>"))
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, 2): kv.key = try r.readString()
            case (2, 2):
                var sub = try r.readLengthDelimited()
                kv.value = try readValue(&sub)
            default: try r.skip(wire)
            }
        }
        return kv
    }

    static func decode(_ bytes: [UInt8]) throws(ProtobufError) -> Point {
        try ProtobufReader.read(bytes) { (r) throws(ProtobufError) -> Point in
            var p = Point()
            var bounds: [Double] = []
            while !r.isAtEnd {
                let (field, wire) = try r.readTag()
                switch (field, wire) {
                case (2, 1): p.start = try r.readFixed64()
                case (3, 1): p.time = try r.readFixed64()
                case (4, 1): p.count = try r.readFixed64()
                case (5, 1): p.sum = try r.readFixed64()
                case (6, _): try r.appendFixed64s(wire: wire, to: &p.buckets)
                case (7, _): try r.appendDoubles(wire: wire, to: &bounds)
                case (9, 2):
                    var sub = try r.readLengthDelimited()
                    p.attributes.append(try readKeyValue(&sub))
                case (10, 0): p.flags = UInt32(truncatingIfNeeded: try r.readVarint())
                case (11, 1): p.min = try r.readDouble().bitPattern
                case (12, 1): p.max = try r.readDouble().bitPattern
                default: try r.skip(wire)
                }
            }
            p.bounds = bounds.map(\.bitPattern)
            return p
        }
    }

    // MARK: The case as the oracle reads it

    static func json(_ v: Value) -> String {
        switch v {
        case .string(let s): #"{"kind":"string","hex":"\#(hex(s.utf8))"}"#
        case .bool(let b): #"{"kind":"bool","value":"\#(b ? 1 : 0)"}"#
        case .int(let i): #"{"kind":"int","value":"\#(i)"}"#
        case .double(let bits): #"{"kind":"double","bits":"\#(bits)"}"#
        case .bytes(let b): #"{"kind":"bytes","hex":"\#(hex(b))"}"#
        case .array(let items): #"{"kind":"array","items":[\#(items.map(json).joined(separator: ","))]}"#
        case .kvlist(let items): #"{"kind":"kvlist","items":[\#(items.map(json).joined(separator: ","))]}"#
        }
    }

    static func json(_ kv: KeyValue) -> String { #"{"key":"\#(hex(kv.key.utf8))","value":\#(json(kv.value))}"# }

    static func json(_ p: Point, swift: [UInt8]) -> String {
        var fields = [
            #""start":"\#(p.start)""#, #""time":"\#(p.time)""#, #""count":"\#(p.count)""#, #""flags":"\#(p.flags)""#,
            #""buckets":[\#(p.buckets.map { "\"\($0)\"" }.joined(separator: ","))]"#,
            #""bounds":[\#(p.bounds.map { "\"\($0)\"" }.joined(separator: ","))]"#,
            #""attributes":[\#(p.attributes.map(json).joined(separator: ","))]"#, #""swift":"\#(hex(swift))""#,
        ]
        if let sum = p.sum { fields.append(#""sum":"\#(sum)""#) }
        if let min = p.min { fields.append(#""min":"\#(min)""#) }
        if let max = p.max { fields.append(#""max":"\#(max)""#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("protobuf_oracle.py").path

    @Test func readerAndWriterAgreeWithGoogleProtobuf() async throws {
        var g = SeededGenerator(seed: 0xF1EF_1E5)
        let points = (0..<200).map { _ in Self.point(&g) }
        let ours = points.map(Self.encode)
        let input = #"{"cases":["# + zip(points, ours).map { Self.json($0, swift: $1) }.joined(separator: ",") + "]}"
        let result = try await offThePool { try run("/usr/bin/env", ["python3", Self.oracle], input: Data(input.utf8)) }
        try #require(result.status == 0, "protobuf_oracle.py failed: \(result.stderr)")
        let answer = try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any])
        let results = try #require(answer["results"] as? [[String: Any]])
        try #require(results.count == points.count)
        var prefixesChecked = 0
        for (k, (point, mine)) in zip(points, ours).enumerated() {
            let python = unhex(try #require(results[k]["python"] as? String))
            #expect(mine == python, "case \(k): writer bytes differ from google.protobuf's")
            #expect(results[k]["swift_equal"] as? Bool == true, "case \(k): google.protobuf reads the writer's bytes differently")
            #expect(try Self.decode(python) == point, "case \(k): reader decodes google.protobuf's bytes differently")
            let accepted = Array(try #require(results[k]["prefixes"] as? String).utf8).map { $0 == UInt8(ascii: "1") }
            for (n, theirs) in accepted.enumerated() {
                let mine = (try? Self.decode(Array(python.prefix(n)))) != nil
                #expect(mine == theirs, "case \(k): prefix of \(n) of \(python.count) bytes: ours \(mine), google.protobuf \(theirs)")
                prefixesChecked += 1
            }
        }
        #expect(prefixesChecked > 10_000)
    }
}
