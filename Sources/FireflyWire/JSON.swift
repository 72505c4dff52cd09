// A JSON tree that keeps numbers as written, built with `JSONScanner`.

/// A parsed JSON value. Numbers keep their source text: payloads carry 64-bit integers (nanosecond
/// timestamps, ids) that a `Double` would round, and the reader of each field decides how to
/// convert them. Object members keep their order; duplicate keys are all kept, and `self[key]`
/// finds the last one, as most parsers do.
public indirect enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number as written (validated against RFC 8259's grammar).
    case number(String)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    /// Parses one complete JSON text (whitespace around it allowed).
    /// `maxDepth` bounds the nesting of arrays and objects.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws(JSONSyntaxError) -> JSON {
        try JSONScanner.withScanner(bytes) { (scanner) throws(JSONSyntaxError) -> JSON in
            let value = try scanner.readTree(depth: 0, maxDepth: maxDepth)
            try scanner.expectEnd()
            return value
        }
    }

    /// Parses a body holding one or more values, each on its own line or lines: a single document
    /// or newline-delimited JSON. Two values may not share a line.
    public static func parseSequence(_ bytes: [UInt8], maxDepth: Int = 512) throws(JSONSyntaxError) -> [JSON] {
        try JSONScanner.withScanner(bytes) { (scanner) throws(JSONSyntaxError) -> [JSON] in
            let buffer = scanner.bytes
            var out: [JSON] = []
            scanner.skipWhitespace()
            while scanner.index < scanner.end {
                out.append(try scanner.readTree(depth: 0, maxDepth: maxDepth))
                // After a value: optional blanks, then a newline or the end.
                while scanner.index < scanner.end, [0x20, 0x09, 0x0D].contains(buffer[scanner.index]) { scanner.index += 1 }
                if scanner.index < scanner.end, buffer[scanner.index] != 0x0A {
                    throw JSONSyntaxError(.valuesNotSeparated, at: scanner.index)
                }
                scanner.skipWhitespace()
            }
            return out
        }
    }

    /// The value of the last member named `key`, if this is an object that has one.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .number(let t): hasher.combine(2); hasher.combine(t)
        case .string(let s): hasher.combine(3); hasher.combine(s)
        case .array(let items): hasher.combine(4); hasher.combine(items)
        case .object(let members):
            hasher.combine(5)
            for m in members {
                hasher.combine(m.key)
                hasher.combine(m.value)
            }
        }
    }
}

extension JSONScanner {
    /// Runs `body` with a scanner over `bytes`, keeping the buffer alive for the scanner's life.
    public static func withScanner<T>(
        _ bytes: [UInt8], _ body: (inout JSONScanner) throws(JSONSyntaxError) -> T
    ) throws(JSONSyntaxError) -> T {
        let result: Result<T, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            do throws(JSONSyntaxError) {
                return .success(try body(&scanner))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Reads one value as a tree; `depth` is the number of arrays and objects around it.
    mutating func readTree(depth: Int, maxDepth: Int) throws(JSONSyntaxError) -> JSON {
        let b = try peek()
        switch b {
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw JSONSyntaxError(.tooDeep(limit: maxDepth), at: index) }
            var members: [(key: String, value: JSON)] = []
            try readObject { (s, key) throws(JSONSyntaxError) in
                members.append((key: s.string(key), value: try s.readTree(depth: depth + 1, maxDepth: maxDepth)))
            }
            return .object(members)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw JSONSyntaxError(.tooDeep(limit: maxDepth), at: index) }
            var items: [JSON] = []
            try readArray { (s, _) throws(JSONSyntaxError) in items.append(try s.readTree(depth: depth + 1, maxDepth: maxDepth)) }
            return .array(items)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumberText())
        default: throw JSONSyntaxError(.unexpectedByte(b, expected: .value), at: index)
        }
    }
}
