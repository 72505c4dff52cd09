// A YAML document as a tree of nodes with their positions, composed from libyaml's parser events.
import CYAML
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a node starts in the text: 1-based line and column.
public struct YAMLMark: Sendable, Equatable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// A scalar as written: its text (quotes and escapes resolved) and how it was written. Only plain
/// scalars are typed (`true`, `12`, `null`); quoted ones are always strings.
public struct YAMLScalar: Sendable {
    public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }

    public var string: String
    public var style: Style
    public var mark: YAMLMark
}

/// A mapping's entries in the order written (duplicate keys kept: the reader reports them).
public struct YAMLMapping: Sendable, Sequence {
    public var entries: [(key: YAMLNode, value: YAMLNode)]
    public var mark: YAMLMark

    public func makeIterator() -> IndexingIterator<[(key: YAMLNode, value: YAMLNode)]> { entries.makeIterator() }

    /// The value of the first entry whose key is the scalar `key`.
    public subscript(key: String) -> YAMLNode? {
        entries.first { $0.key.string == key }?.value
    }
}

/// A sequence's items in order.
public struct YAMLSequence: Sendable, Sequence {
    public var items: [YAMLNode]
    public var mark: YAMLMark

    public func makeIterator() -> IndexingIterator<[YAMLNode]> { items.makeIterator() }
}

/// One node of a composed document. Aliases are replaced by the node their anchor names.
public indirect enum YAMLNode: Sendable {
    case scalar(YAMLScalar)
    case mapping(YAMLMapping)
    case sequence(YAMLSequence)

    public var mark: YAMLMark {
        switch self {
        case .scalar(let s): s.mark
        case .mapping(let m): m.mark
        case .sequence(let s): s.mark
        }
    }

    /// The text of a scalar; nil for collections.
    public var string: String? {
        if case .scalar(let s) = self { s.string } else { nil }
    }

    public var mapping: YAMLMapping? {
        if case .mapping(let m) = self { m } else { nil }
    }

    public var sequence: YAMLSequence? {
        if case .sequence(let s) = self { s } else { nil }
    }

    /// The value of `key` when this is a mapping.
    public subscript(key: String) -> YAMLNode? { mapping?[key] }
}

/// Why a text is not a YAML document Firefly can read: libyaml's own message where it found the
/// problem, or the composer's (an undefined alias, a second document, nesting too deep).
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public var problem: String
    public var mark: YAMLMark?

    public var description: String {
        guard let mark else { return problem }
        return "\(problem) (line \(mark.line), column \(mark.column))"
    }
}

public enum YAMLDocument {
    /// Deepest nesting of collections accepted (a configuration file has a handful of levels).
    public static let maxDepth = 256

    /// The single document in `text`, or nil when the text holds none (empty or only comments).
    public static func compose(_ text: String) throws(YAMLError) -> YAMLNode? {
        var bytes = Array(text.utf8)
        let length = bytes.count
        if bytes.isEmpty { bytes.append(0) }  // libyaml wants a non-null input pointer
        // On the heap: the composer keeps the parser's address for the whole parse.
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { throw YAMLError(problem: "cannot start the YAML parser (out of memory)") }
        defer { yaml_parser_delete(parser) }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) -> YAMLNode? in
            yaml_parser_set_input_string(parser, buffer.baseAddress, length)
            var composer = Composer(parser: parser)
            return try composer.document()
        }
    }
}

/// Reads libyaml's events one at a time and builds the tree.
private struct Composer {
    /// The current event's kind, with what the composer keeps of it.
    enum Event {
        case streamStart, streamEnd, documentStart, documentEnd, sequenceEnd, mappingEnd
        case alias(String)
        case scalar(String, YAMLScalar.Style, anchor: String?)
        case sequenceStart(anchor: String?)
        case mappingStart(anchor: String?)
    }

    let parser: UnsafeMutablePointer<yaml_parser_t>
    var anchors: [String: YAMLNode] = [:]

    init(parser: UnsafeMutablePointer<yaml_parser_t>) {
        self.parser = parser
    }

    mutating func document() throws(YAMLError) -> YAMLNode? {
        guard case .streamStart = try next().event else { throw YAMLError(problem: "expected the start of a YAML stream") }
        let (first, firstMark) = try next()
        switch first {
        case .streamEnd: return nil
        case .documentStart: break
        default: throw YAMLError(problem: "expected a document", mark: firstMark)
        }
        let root = try node(try next(), depth: 0)
        guard case .documentEnd = try next().event else { throw YAMLError(problem: "expected the end of the document") }
        let (after, afterMark) = try next()
        if case .documentStart = after {
            throw YAMLError(problem: "expected a single document in the stream, but found another document", mark: afterMark)
        }
        return root
    }

    mutating func node(_ current: (event: Event, mark: YAMLMark), depth: Int) throws(YAMLError) -> YAMLNode {
        let mark = current.mark
        let result: YAMLNode, anchor: String?
        switch current.event {
        case .alias(let name):
            guard let target = anchors[name] else { throw YAMLError(problem: "found undefined alias '\(name)'", mark: mark) }
            return target
        case .scalar(let text, let style, let a):
            anchor = a
            result = .scalar(YAMLScalar(string: text, style: style, mark: mark))
        case .sequenceStart(let a):
            anchor = a
            try checkDepth(depth, mark)
            var items: [YAMLNode] = []
            while true {
                let item = try next()
                if case .sequenceEnd = item.event { break }
                items.append(try node(item, depth: depth + 1))
            }
            result = .sequence(YAMLSequence(items: items, mark: mark))
        case .mappingStart(let a):
            anchor = a
            try checkDepth(depth, mark)
            var entries: [(key: YAMLNode, value: YAMLNode)] = []
            while true {
                let key = try next()
                if case .mappingEnd = key.event { break }
                let keyNode = try node(key, depth: depth + 1)
                entries.append((keyNode, try node(try next(), depth: depth + 1)))
            }
            result = .mapping(YAMLMapping(entries: entries, mark: mark))
        default:
            throw YAMLError(problem: "unexpected YAML event", mark: mark)
        }
        if let anchor { anchors[anchor] = result }
        return result
    }

    /// A collection may start at `depth` only below `YAMLDocument.maxDepth`.
    func checkDepth(_ depth: Int, _ mark: YAMLMark) throws(YAMLError) {
        guard depth < YAMLDocument.maxDepth else { throw YAMLError(problem: "nesting deeper than \(YAMLDocument.maxDepth) levels", mark: mark) }
    }

    /// The next event, copied out of libyaml's structure (which is freed at once).
    mutating func next() throws(YAMLError) -> (event: Event, mark: YAMLMark) {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else {
            let p = parser.pointee
            let problem = p.problem.map { String(cString: $0) } ?? "cannot parse the YAML"
            throw YAMLError(problem: problem, mark: YAMLMark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1))
        }
        defer { yaml_event_delete(&event) }
        let mark = YAMLMark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int? = nil) -> String? {
            guard let pointer else { return nil }
            let count = length ?? strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
            return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
        }
        let kind: Event
        switch event.type {
        case YAML_STREAM_START_EVENT: kind = .streamStart
        case YAML_STREAM_END_EVENT: kind = .streamEnd
        case YAML_DOCUMENT_START_EVENT: kind = .documentStart
        case YAML_DOCUMENT_END_EVENT: kind = .documentEnd
        case YAML_ALIAS_EVENT: kind = .alias(text(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let style: YAMLScalar.Style =
                switch s.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: .literal
                case YAML_FOLDED_SCALAR_STYLE: .folded
                default: .plain
                }
            kind = .scalar(text(s.value, s.length) ?? "", style, anchor: text(s.anchor))
        case YAML_SEQUENCE_START_EVENT: kind = .sequenceStart(anchor: text(event.data.sequence_start.anchor))
        case YAML_SEQUENCE_END_EVENT: kind = .sequenceEnd
        case YAML_MAPPING_START_EVENT: kind = .mappingStart(anchor: text(event.data.mapping_start.anchor))
        case YAML_MAPPING_END_EVENT: kind = .mappingEnd
        default: throw YAMLError(problem: "unexpected YAML event", mark: mark)
        }
        return (kind, mark)
    }
}
