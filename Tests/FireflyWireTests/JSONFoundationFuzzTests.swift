import FireflyDemo
import FireflyWire
import Foundation
import Testing

/// The JSON scanner and tree against Foundation's `JSONSerialization` on generated texts: random
/// valid documents (nesting, escapes, surrogate pairs, non-ASCII, exponents, long mantissas,
/// whitespace) and mutations of them (byte edits, insertions, deletions, truncations), most of
/// them invalid. Both readers must accept exactly what Foundation accepts and read the same
/// values; the scanner's numbers must equal `Double(String)` of the tree's text exactly.
@Suite struct JSONFoundationFuzzTests {
    /// A value as read in document order, for comparing the pull scanner with the tree.
    enum Scalar: Equatable {
        case key(String), string(String), number(Double), bool(Bool), null, open, close
    }

    // MARK: Generation

    struct Generator {
        var g: SeededGenerator

        mutating func ws() -> String {
            g.chance(0.7) ? "" : (0..<g.int(1...3)).map { _ in g.pick([" ", "\n", "\t", "\r"]) }.joined()
        }

        mutating func string() -> String {
            let pieces = [
                "a", "key", "é", "中", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u0041", "\\u00e9", "\\u4e2d", "\\ud83d\\ude00",
                "\\u0000", "\\u001f", " ", "\u{7F}", "x y", "\\b\\f\\r",
            ]
            return "\"" + (0..<g.int(0...5)).map { _ in g.pick(pieces) }.joined() + "\""
        }

        mutating func digits(_ n: Int) -> String { (0..<n).map { _ in String(g.int(0...9)) }.joined() }

        mutating func number() -> String {
            var s = g.chance(0.3) ? "-" : ""
            s += g.chance(0.2) ? "0" : String(g.int(1...9)) + digits(g.pick([0, 1, 3, 8, 15, 18, 19, 22]))
            if g.chance(0.4) { s += "." + digits(g.int(1...20)) }
            if g.chance(0.3) { s += g.pick(["e", "E"]) + g.pick(["", "+", "-"]) + String(g.int(0...9)) }
            return s
        }

        mutating func value(depth: Int) -> String {
            switch g.int(0...(depth < 4 ? 7 : 4)) {
            case 0: return string()
            case 1, 2: return number()
            case 3: return g.pick(["true", "false", "null"])
            case 4: return number()
            case 5, 6:
                var keys = Set<String>()
                let members = (0..<g.int(0...4)).compactMap { _ -> String? in
                    let k = string()
                    guard keys.insert(k).inserted else { return nil }
                    return ws() + k + ws() + ":" + ws() + value(depth: depth + 1) + ws()
                }
                return "{" + members.joined(separator: ",") + (members.isEmpty ? ws() : "") + "}"
            default:
                let items = (0..<g.int(0...4)).map { _ in ws() + value(depth: depth + 1) + ws() }
                return "[" + items.joined(separator: ",") + (items.isEmpty ? ws() : "") + "]"
            }
        }

        mutating func document() -> [UInt8] { Array((ws() + value(depth: 0) + ws()).utf8) }

        /// One random edit. No NUL bytes and no byte-order marks: Foundation would take those as
        /// signs of UTF-16/32, which JSON over HTTP never is.
        mutating func mutate(_ text: [UInt8]) -> [UInt8] {
            var b = text
            let interesting: [UInt8] = Array("\"\\{}[],:0-.eE+u9 ntf".utf8) + [0x01, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xED, 0xF4, 0xFF]
            let at = g.int(0...b.count)
            switch g.int(0...3) {
            case 0: b = Array(b.prefix(at))
            case 1: b.insert(g.pick(interesting), at: at)
            case 2: if at < b.count { b.remove(at: at) }
            default: if at < b.count { b[at] = g.pick(interesting) }
            }
            return b
        }
    }

    // MARK: Reading

    /// Foundation's reading, or nil when it refuses the text.
    static func foundation(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    static func flatten(_ v: JSON, into out: inout [Scalar]) {
        switch v {
        case .null: out.append(.null)
        case .bool(let b): out.append(.bool(b))
        case .number(let text): out.append(.number(Double(text)!))
        case .string(let s): out.append(.string(s))
        case .array(let items):
            out.append(.open)
            for item in items { flatten(item, into: &out) }
            out.append(.close)
        case .object(let members):
            out.append(.open)
            for m in members {
                out.append(.key(m.key))
                flatten(m.value, into: &out)
            }
            out.append(.close)
        }
    }

    /// The pull scanner's reading of one value, in document order.
    static func pull(_ s: inout JSONScanner, into out: inout [Scalar]) throws(JSONSyntaxError) {
        switch try s.peek() {
        case UInt8(ascii: "{"):
            out.append(.open)
            try s.readObject { (s, key) throws(JSONSyntaxError) in
                out.append(.key(s.string(key)))
                try pull(&s, into: &out)
            }
            out.append(.close)
        case UInt8(ascii: "["):
            out.append(.open)
            try s.readArray { (s, _) throws(JSONSyntaxError) in try pull(&s, into: &out) }
            out.append(.close)
        case UInt8(ascii: "\""): out.append(.string(try s.readString()))
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            let first = try s.peek()
            try s.skipValue()
            out.append(.bool(first == UInt8(ascii: "t")))
        default:
            if try s.consumeNull() { out.append(.null) } else { out.append(.number(try s.readNumber())) }
        }
    }

    static func scanner(_ bytes: [UInt8]) -> [Scalar]? {
        try? JSONScanner.withScanner(bytes) { (s) throws(JSONSyntaxError) -> [Scalar] in
            var out: [Scalar] = []
            try pull(&s, into: &out)
            try s.expectEnd()
            return out
        }
    }

    static func skips(_ bytes: [UInt8]) -> Bool {
        do {
            try JSONScanner.withScanner(bytes) { (s) throws(JSONSyntaxError) -> Void in
                try s.skipValue()
                try s.expectEnd()
            }
            return true
        } catch {
            return false
        }
    }

    static func close(_ a: Double, _ b: Double) -> Bool {
        // Foundation on Linux does not round every 16- and 17-digit number correctly.
        a == b || abs(a - b) <= 1e-14 * max(abs(a), abs(b))
    }

    /// Whether Foundation's value is the tree's.
    static func same(_ ours: JSON, _ theirs: Any) -> Bool {
        switch ours {
        case .null: return theirs is NSNull
        case .bool(let b): return (theirs as? Bool) == b
        case .number(let text):
            guard let n = theirs as? NSNumber else { return false }
            return close(Double(text)!, n.doubleValue)
        case .string(let s): return (theirs as? String) == s
        case .array(let items):
            guard let a = theirs as? [Any], a.count == items.count else { return false }
            return zip(items, a).allSatisfy { same($0, $1) }
        case .object(let members):
            // Keys equal once unescaped ("\u00e9" and "é") are one key; the last one wins.
            var last: [String: JSON] = [:]
            for m in members { last[m.key] = m.value }
            guard let o = theirs as? [String: Any], o.count == last.count else { return false }
            return last.allSatisfy { key, value in o[key].map { same(value, $0) } ?? false }
        }
    }

    /// Whether our refusal is of a comma right before `}` or `]`: RFC 8259 has no trailing
    /// commas, but Foundation's parser accepts them.
    static func isTrailingComma(_ bytes: [UInt8], _ error: JSONSyntaxError) -> Bool {
        switch error.reason {
        case .unexpectedByte(UInt8(ascii: "}"), .key), .unexpectedByte(UInt8(ascii: "]"), .value): break
        default: return false
        }
        return bytes[..<error.offset].last { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: ",")
    }

    /// Checks one text; returns whether Foundation accepted it.
    @discardableResult
    static func check(_ bytes: [UInt8]) -> Bool {
        let label = String(decoding: bytes, as: UTF8.self)
        var theirs = foundation(bytes)
        var tree: JSON?
        do {
            tree = try JSON.parse(bytes)
        } catch {
            if theirs != nil, isTrailingComma(bytes, error) { theirs = nil }
        }
        let pulled = scanner(bytes)
        #expect((tree != nil) == (theirs != nil), "tree vs Foundation on \(label.debugDescription)")
        #expect((pulled != nil) == (theirs != nil), "scanner vs Foundation on \(label.debugDescription)")
        #expect(skips(bytes) == (theirs != nil), "skipValue vs Foundation on \(label.debugDescription)")
        if let tree, let theirs {
            #expect(same(tree, theirs), "values differ on \(label.debugDescription)")
        }
        if let tree, let pulled {
            var flat: [Scalar] = []
            flatten(tree, into: &flat)
            #expect(flat == pulled, "scanner and tree differ on \(label.debugDescription)")
        }
        return theirs != nil
    }

    @Test func validDocumentsReadLikeFoundation() {
        var gen = Generator(g: SeededGenerator(seed: 0x15_0A))
        var accepted = 0
        for _ in 0..<3000 where Self.check(gen.document()) { accepted += 1 }
        #expect(accepted == 3000)
    }

    @Test func mutatedDocumentsAreRefusedExactlyWhenFoundationRefusesThem() {
        var gen = Generator(g: SeededGenerator(seed: 0xBAD_15_0A))
        var refused = 0
        for _ in 0..<6000 where !Self.check(gen.mutate(gen.document())) { refused += 1 }
        #expect(refused > 1000)
    }

    /// Every prefix of a document (a body cut short) is refused, except the ones that happen to
    /// be complete values themselves; the scanner never reads past the end.
    @Test func truncatedDocumentsEndWithAnError() {
        var gen = Generator(g: SeededGenerator(seed: 0x7_2C))
        for _ in 0..<200 {
            let doc = gen.document()
            for n in 0..<doc.count { Self.check(Array(doc.prefix(n))) }
        }
    }
}
