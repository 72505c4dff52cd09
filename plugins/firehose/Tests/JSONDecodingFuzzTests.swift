import FireflyPluginKitTesting
import FireflyModel
import FireflyDemo
import FirehoseAdapter
import Foundation
import Testing

/// Proves the hand-written CloudWatch JSON decoder against Foundation's general JSON parser:
/// random records (shuffled keys, unknown fields, escapes, surrogate pairs, exponents, whitespace)
/// must decode to exactly the points a straightforward `JSONSerialization`-based reading gives,
/// and mutated (often invalid) lines must be refused exactly when `JSONSerialization` refuses them.
@Suite struct JSONDecodingFuzzTests {
    // MARK: Reference decoder (JSONSerialization)

    enum Reference: Equatable {
        case point(MetricPoint)
        case rejected
        case notJSON

        /// Equal, except that doubles may differ in the last few units in the last place:
        /// Foundation's `JSONSerialization` on Linux does not round 16- and 17-digit numbers
        /// correctly (ours matches `strtod` / `Double(String)` exactly — `parsesNumbersExactly`).
        func matches(_ other: Reference) -> Bool {
            guard case .point(var a) = self, case .point(var b) = other else { return self == other }
            func close(_ x: Double, _ y: Double) -> Bool { nearlyEqual(x, y) }
            guard close(a.count, b.count), close(a.sum, b.sum), close(a.min, b.min), close(a.max, b.max),
                a.quantiles.count == b.quantiles.count,
                zip(a.quantiles, b.quantiles).allSatisfy({ $0.quantile == $1.quantile && close($0.value, $1.value) })
            else { return false }
            (a.count, a.sum, a.min, a.max, a.quantiles) = (0, 0, 0, 0, [])
            (b.count, b.sum, b.min, b.max, b.quantiles) = (0, 0, 0, 0, [])
            return a == b
        }
    }

    static func number(_ any: Any?) -> Double? {
        guard let n = any as? NSNumber, !(any is Bool) || CFNumberLikeIsNotBool(n) else { return nil }
        return n.doubleValue
    }

    /// NSNumber bridging on Linux turns true/false into NSNumber too; a JSON boolean is never a
    /// statistic, and the generator never puts booleans where numbers belong, so this is only a guard.
    static func CFNumberLikeIsNotBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) != "c" }

    static func percentile(_ key: String) -> Double? {
        guard key.hasPrefix("p") else { return nil }
        let body = key.dropFirst()
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }) else { return nil }
        let digits = parts.joined()
        guard digits.count <= 15, let m = UInt64(digits) else { return nil }
        let scale = 2 + (parts.count == 2 ? parts[1].count : 0)
        guard scale <= 22 else { return nil }
        let q = Double(m) / pow(10.0, Double(scale))
        return q > 0 && q < 1 ? q : nil
    }

    static func reference(_ line: String) -> Reference { reference(Array(line.utf8)) }

    static func reference(_ line: [UInt8]) -> Reference {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) else { return .notJSON }
        guard let o = object as? [String: Any] else { return .rejected }
        func optionalString(_ key: String) -> (ok: Bool, value: String?) {
            guard let v = o[key], !(v is NSNull) else { return (true, nil) }
            guard let s = v as? String else { return (false, nil) }
            return (true, s)
        }
        let namespace = optionalString("namespace"), name = optionalString("metric_name"), unit = optionalString("unit")
        let account = optionalString("account_id"), region = optionalString("region")
        guard namespace.ok, name.ok, unit.ok, account.ok, region.ok,
            let ns = namespace.value, !ns.isEmpty, let metric = name.value, !metric.isEmpty
        else { return .rejected }
        guard let ms = number(o["timestamp"]), ms >= 0, ms <= 18_446_744_073_709, ms.rounded(.towardZero) == ms else {
            return .rejected
        }
        var dims: [Label] = []
        if let d = o["dimensions"], !(d is NSNull) {
            guard let map = d as? [String: Any] else { return .rejected }
            for (k, v) in map {
                guard let s = v as? String else { return .rejected }
                dims.append(Label(k, s))
            }
        }
        guard let value = o["value"] as? [String: Any] else { return .rejected }
        guard let min = number(value["min"]), let max = number(value["max"]), let sum = number(value["sum"]),
            let count = number(value["count"])
        else { return .rejected }
        var percentiles: [Quantile] = []
        for (k, v) in value {
            if let q = percentile(k), let n = number(v) { percentiles.append(Quantile(q, n)) }
        }
        percentiles.sort { $0.quantile < $1.quantile }
        var labels = dims
        if let a = account.value, !a.isEmpty { labels.append(Label("cloud.account.id", a)) }
        if let r = region.value, !r.isEmpty { labels.append(Label("cloud.region", r)) }
        return .point(
            MetricPoint(
                name: metric, namespace: ns, unit: (unit.value?.isEmpty ?? true) ? "None" : unit.value!,
                function: dims.first { $0.key == "FunctionName" }?.value ?? "", kind: .summary, hasMinMax: true,
                isDelta: true, labels: Label.canonical(dims.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) + [],
                timeUnixNano: UInt64(ms) * 1_000_000, count: count, sum: sum, min: min, max: max,
                quantiles: [Quantile(0, min)] + percentiles + [Quantile(1, max)]
            ).with(labels: labels))
    }

    static func ours(_ line: String) -> Reference { ours(Array(line.utf8)) }

    static func ours(_ line: [UInt8]) -> Reference {
        // Forced to JSON: in `auto` mode a record not starting with "{" is read as protobuf.
        let d = decodeRecord(line, format: .json)
        // A blank line is skipped (no point, no rejection); as a document it is not JSON.
        if d.points.isEmpty && d.rejections.isEmpty { return .notJSON }
        if let p = d.points.first, d.points.count == 1, d.rejections.isEmpty { return .point(p) }
        if d.rejections.count == 1, d.points.isEmpty { return d.rejections[0].reason == .invalidJSON ? .notJSON : .rejected }
        return .rejected
    }

    // MARK: Generator

    struct Generator {
        var rng: SeededGenerator

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

        mutating func ws() -> String {
            guard chance(0.3) else { return "" }
            return String((0..<int(1...3)).map { _ in pick([" ", "\t", "\r", "  "]) }.joined())
        }

        static let alphabet: [Unicode.Scalar] =
            Array("abcXYZ09 -_/:.é東京ü".unicodeScalars) + ["\"", "\\", "\u{08}", "\u{0C}", "\n", "\r", "\t", "\u{01}", "\u{1F}", "\u{7F}", "\u{2028}", "😀", "🚀", "𝄞", "\u{FFFD}"]

        mutating func text(maxLength: Int = 12) -> String {
            var s = String.UnicodeScalarView()
            for _ in 0..<int(0...maxLength) { s.append(pick(Self.alphabet)) }
            return String(s)
        }

        /// JSON string literal with a random mix of raw characters and escapes.
        mutating func literal(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += chance(0.5) ? "\\n" : "\\u000a"
                case "\t": out += chance(0.5) ? "\\t" : "\\u0009"
                case "\r": out += "\\r"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case "/": out += chance(0.5) ? "\\/" : "/"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                case _ where chance(0.25):
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += String(format: "\\u%04X\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                    } else {
                        out += String(format: chance(0.5) ? "\\u%04x" : "\\u%04X", scalar.value)
                    }
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }

        /// A number in a random but valid JSON spelling.
        mutating func numberText() -> String {
            switch int(0...7) {
            case 0: return String(int(0...1_000_000))
            case 1: return String(-int(0...1_000))
            case 2: return "\(int(0...9999)).\(int(0...99999))"
            case 3: return "\(int(1...9)).\(int(0...999))e\(pick(["", "+", "-"]))\(int(0...30))"
            case 4: return "\(int(1...999))E\(pick(["", "+", "-"]))\(int(0...5))"
            case 5: return "0.\(String(repeating: "0", count: int(0...8)))\(int(1...99999))"
            case 6: return String(Double.random(in: -1e6...1e6, using: &rng))  // shortest round-trip form, up to 17 digits
            default: return "\(int(1...9))\(String((0..<int(18...24)).map { _ in "0123456789".randomElement(using: &rng)! }))"
                + pick(["", ".5", "e-3", "E+2"])  // beyond 19 digits: the slow path
            }
        }

        mutating func anyValue(depth: Int = 0) -> String {
            switch int(0...(depth > 2 ? 3 : 5)) {
            case 0: return literal(text())
            case 1: return numberText()
            case 2: return pick(["true", "false", "null"])
            case 3: return literal("")
            case 4: return "[" + (0..<int(0...3)).map { _ in ws() + anyValue(depth: depth + 1) + ws() }.joined(separator: ",") + "]"
            default:
                return "{" + (0..<int(0...3)).map { _ in ws() + literal(text()) + ws() + ":" + ws() + anyValue(depth: depth + 1) }
                    .joined(separator: ",") + "}"
            }
        }

        mutating func object(_ members: [(String, String)]) -> String {
            var m = members
            m.shuffle(using: &rng)
            return "{" + ws() + m.map { literal($0.0) + ws() + ":" + ws() + $0.1 }.joined(separator: ws() + "," + ws()) + ws() + "}"
        }

        mutating func line() -> String {
            var members: [(String, String)] = []
            if chance(0.9) { members.append(("metric_stream_name", literal(text()))) }
            if chance(0.9) { members.append(("account_id", literal(String(int(100_000_000_000...999_999_999_999))))) }
            if chance(0.9) { members.append(("region", literal(pick(["us-east-1", "eu-west-3", "ap-northeast-1", ""])))) }
            members.append(("namespace", literal(pick(["AWS/Lambda", "AWS/SQS", "Custom/Ünïcode", text(maxLength: 8) + "x"]))))
            members.append(("metric_name", literal(pick(["Duration", "Invocations", "Errors", text(maxLength: 8) + "m"]))))
            if chance(0.85) {
                var used = Set<String>()
                var dims: [(String, String)] = []
                for _ in 0..<int(0...4) {
                    let key = pick(["FunctionName", "Resource", "ExecutedVersion", text(maxLength: 6)])
                    guard used.insert(key).inserted else { continue }
                    dims.append((key, literal(text())))
                }
                members.append(("dimensions", object(dims)))
            }
            let ms = int(1_600_000_000_000...1_800_000_000_000)
            members.append(("timestamp", chance(0.8) ? String(ms) : "\(Double(ms) / 1e12)e12"))
            var stats: [(String, String)] = [("max", numberText()), ("min", numberText()), ("sum", numberText()), ("count", numberText())]
            var percentileKeys = Set<String>()
            for _ in 0..<int(0...4) {
                let key = pick(["p50", "p90", "p95", "p99", "p99.9", "p99.99", "p0", "p100", "p10.5", "tm99", "IQM", "TM(25%:75%)", "PR(:300)", "wm90", "p", "px"])
                // Two keys naming one quantile (p50 and p50.0) have no defined order in a dictionary.
                guard percentileKeys.insert(key).inserted else { continue }
                stats.append((key, numberText()))
            }
            members.append(("value", object(stats)))
            if chance(0.85) { members.append(("unit", literal(pick(["Milliseconds", "Count", "Bytes/Second", "None", ""])))) }
            for _ in 0..<int(0...2) { members.append(("x_" + text(maxLength: 5), anyValue())) }
            return ws() + object(members) + ws()
        }

        /// One random byte edit: most results are invalid JSON (or invalid UTF-8), some stay valid
        /// with other values.
        mutating func mutate(_ line: String) -> [UInt8] {
            var bytes = Array(line.utf8)
            guard !bytes.isEmpty else { return bytes }
            let at = int(0...bytes.count - 1)
            let junk: [UInt8] = Array("{}[],:\"\\0123456789.eE+-tfnu ".utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xE2, 0xFF, 0x80]
            switch int(0...3) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(pick(junk), at: at)
            case 2: bytes[at] = pick(junk)
            default: bytes = Array(bytes[0..<at])
            }
            return bytes
        }
    }

    // The comparisons run on a thread of their own and are checked afterwards: seconds of parsing on
    // one of Swift concurrency's few shared threads would stall the in-process servers of other suites.

    @Test func decodesRandomRecordsExactlyLikeJSONSerialization() async {
        let (mismatches, points) = await Timing.onItsOwnThread { () -> ([String], Int) in
            var g = Generator(rng: SeededGenerator(seed: 0xF1EE_F1E5))
            var mismatches: [String] = []
            var points = 0
            for i in 0..<3000 {
                let line = g.line()
                let expected = Self.reference(line)
                if !Self.ours(line).matches(expected) { mismatches.append("line \(i): \(line)\nexpected \(expected)") }
                if case .point = expected { points += 1 }
            }
            return (mismatches, points)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(3))")
        // The generator mostly makes valid records; make sure the comparison was not vacuous.
        #expect(points > 2500)
    }

    @Test func refusesExactlyWhatJSONSerializationRefuses() async {
        let (mismatches, refused) = await Timing.onItsOwnThread { () -> ([String], Int) in
            var g = Generator(rng: SeededGenerator(seed: 0xBAD_5EED))
            var mismatches: [String] = []
            var refused = 0
            for i in 0..<3000 {
                let line = g.mutate(g.line())
                let expected = Self.reference(line)
                if !Self.ours(line).matches(expected) { mismatches.append("mutated line \(i): \(line) expected \(expected)") }
                if expected == .notJSON { refused += 1 }
            }
            return (mismatches, refused)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(3))")
        #expect(refused > 1000)
    }

    @Test func parsesNumbersExactly() {
        var g = Generator(rng: SeededGenerator(seed: 42))
        for _ in 0..<5000 {
            let text = g.numberText()
            let line = #"{"namespace":"N","metric_name":"M","timestamp":0,"value":{"min":0,"max":0,"count":0,"sum":"# + text + "}}"
            let ours = decodeRecord(Array(line.utf8)).points.first?.sum
            // Correctly rounded, as the standard library's (strtod-based) parser rounds.
            #expect(ours == Double(text), "\(text)")
            // And within a few ulps of Foundation's JSON parser.
            let reference = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            let foundation = ((reference?["value"] as? [String: Any])?["sum"] as? NSNumber)?.doubleValue
            #expect(foundation.map { nearlyEqual($0, ours ?? .nan) } == true, "\(text) \(String(describing: foundation))")
        }
    }
}

/// Within 8 units in the last place.
func nearlyEqual(_ x: Double, _ y: Double) -> Bool {
    x == y || abs(x - y) <= 8 * Swift.max(x.magnitude.ulp, y.magnitude.ulp)
}

extension MetricPoint {
    func with(labels: [Label]) -> MetricPoint {
        var p = self
        p.labels = Label.canonical(labels)
        return p
    }
}
