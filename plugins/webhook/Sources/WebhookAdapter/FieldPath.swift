import FireflyWire

/// A selector into an event, in the small syntax the README documents:
///
///     repository.full_name        dotted keys, relative to the current element (the event outside for_each)
///     $.repository.full_name      `$` anchors at the event root (reaches the root from inside for_each)
///     @.name                      `@` is the current element (the for_each element, else the event)
///     checks[0].name  checks[-1]  array index (negative counts from the end)
///     checks[*]                   every element (only in for_each)
///     labels["app.kubernetes.io/name"]  ['a.b']   quoted keys for dots, brackets, spaces
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public enum Anchor: Sendable, Hashable {
        /// The event (one top-level object, array element or NDJSON line).
        case root
        /// The current for_each element; the event when the mapping has no for_each.
        case current
    }

    public enum Segment: Sendable, Hashable {
        case key(String)
        case index(Int)
        case wildcard
    }

    public let anchor: Anchor
    public let segments: [Segment]
    /// The text as configured.
    public let text: String

    public var description: String { text }
    var hasWildcard: Bool { segments.contains(.wildcard) }

    /// Why a path text is not a valid path.
    public struct SyntaxError: Error, Equatable, Sendable {
        public var message: String
    }

    public init(_ text: String) throws(SyntaxError) {
        self.text = text
        var s = Substring(text)
        guard !s.isEmpty else { throw SyntaxError(message: "empty path") }
        var anchor = Anchor.current
        var needsSeparator = false
        if s.first == "$" || s.first == "@" {
            anchor = s.first == "$" ? .root : .current
            s = s.dropFirst()
            needsSeparator = true
        }
        var segments: [Segment] = []
        while !s.isEmpty || !needsSeparator {
            if s.first == "[" {
                segments.append(try Self.bracket(&s))
                needsSeparator = true
                continue
            }
            if needsSeparator {
                if s.first == "]" { throw SyntaxError(message: "unexpected ']'") }
                guard s.first == "." else { throw SyntaxError(message: "expected '.' or '[' before '\(s)'") }
                s = s.dropFirst()
            }
            let key = s.prefix { $0 != "." && $0 != "[" && $0 != "]" }
            guard !key.isEmpty else {
                if s.first == "]" { throw SyntaxError(message: "unexpected ']'") }
                throw SyntaxError(message: "empty segment")
            }
            if key.contains(where: { $0 == "\"" || $0 == "'" }) {
                throw SyntaxError(message: "quotes are only allowed inside brackets: [\"\(key)\"]")
            }
            segments.append(.key(String(key)))
            s = s.dropFirst(key.count)
            needsSeparator = true
        }
        self.anchor = anchor
        self.segments = segments
    }

    private static func bracket(_ s: inout Substring) throws(SyntaxError) -> Segment {
        s = s.dropFirst()
        guard let first = s.first else { throw SyntaxError(message: "unterminated '['") }
        if first == "\"" || first == "'" {
            s = s.dropFirst()
            var key = ""
            while true {
                guard let c = s.first else { throw SyntaxError(message: "unterminated quoted key") }
                s = s.dropFirst()
                if c == first { break }
                if c == "\\" {
                    guard let e = s.first else { throw SyntaxError(message: "unterminated quoted key") }
                    s = s.dropFirst()
                    key.append(e)
                } else {
                    key.append(c)
                }
            }
            guard s.first == "]" else { throw SyntaxError(message: "expected ']' after the quoted key") }
            s = s.dropFirst()
            return .key(key)
        }
        let inside = s.prefix { $0 != "]" }
        guard s.dropFirst(inside.count).first == "]" else { throw SyntaxError(message: "unterminated '['") }
        s = s.dropFirst(inside.count + 1)
        if inside == "*" { return .wildcard }
        guard let n = Int(inside), !inside.hasPrefix("+") else {
            throw SyntaxError(message: "'[\(inside)]' is not an index, [*] or a quoted key")
        }
        return .index(n)
    }
}

/// A value found in an event together with its concrete location (`$.checks[1].name`), which is
/// what a 400 answer names.
struct Located: Sendable {
    var value: JSON
    var path: String
}

/// Where evaluation of a path stopped: the concrete location of the missing value.
struct Missing: Error, Sendable {
    var path: String
}

/// The event being mapped and the for_each element being visited.
struct Scope: Sendable {
    var root: Located
    var current: Located

    init(event: JSON, path: String) {
        root = Located(value: event, path: path)
        current = root
    }

    /// Every value the path selects (more than one only through `[*]`). A JSON `null` counts as
    /// missing, so `{path, default}` fields and required fields treat absent and null alike.
    func select(_ path: FieldPath) throws(Missing) -> [Located] {
        var found = [path.anchor == .root ? root : current]
        for segment in path.segments {
            var next: [Located] = []
            for item in found {
                switch (segment, item.value) {
                case (.key(let key), .object):
                    let p = item.path + Self.keyText(key)
                    guard let v = item.value[key], v != .null else { throw Missing(path: p) }
                    next.append(Located(value: v, path: p))
                case (.index(let n), .array(let array)):
                    let k = n < 0 ? array.count + n : n
                    guard array.indices.contains(k), array[k] != .null else { throw Missing(path: item.path + "[\(n)]") }
                    next.append(Located(value: array[k], path: item.path + "[\(k)]"))
                case (.wildcard, .array(let array)):
                    for (k, v) in array.enumerated() { next.append(Located(value: v, path: item.path + "[\(k)]")) }
                case (.key(let key), _):
                    throw Missing(path: item.path + Self.keyText(key))
                case (.index(let n), _):
                    throw Missing(path: item.path + "[\(n)]")
                case (.wildcard, _):
                    throw Missing(path: item.path + "[*]")
                }
            }
            found = next
        }
        return found
    }

    /// The single value of a path without wildcards.
    func value(_ path: FieldPath) throws(Missing) -> Located {
        try select(path)[0]
    }

    /// `.name` when the key reads unambiguously that way, else `["key"]`.
    static func keyText(_ key: String) -> String {
        let plain = !key.isEmpty && key.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "-")
        }
        if plain { return "." + key }
        var out = "[\""
        for c in key {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\"]"
    }
}
