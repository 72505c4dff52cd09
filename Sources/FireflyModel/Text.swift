// Text helpers for what Firefly would otherwise take from the full Foundation module. The collector
// and its plugins link FoundationEssentials only, which keeps Foundation, its internationalization
// library and ICU out of the process (about 8 MiB of idle memory; docs/performance.md).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension StringProtocol {
    /// The text without leading and trailing white space: spaces, tabs and other Unicode blanks,
    /// and line breaks too unless `keepingNewlines`.
    public func trimmed(keepingNewlines: Bool = false) -> String {
        func blank(_ c: Character) -> Bool { c.isWhitespace && !(keepingNewlines && c.isNewline) }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return "" }
        return String(self[first...last])
    }

    /// The text with `%XX` escapes decoded (RFC 3986); nil when a `%` is not followed by two hex
    /// digits or the bytes are not UTF-8.
    public var percentDecoded: String? {
        var bytes: [UInt8] = []
        var utf8 = self.utf8.makeIterator()
        while let b = utf8.next() {
            guard b == UInt8(ascii: "%") else {
                bytes.append(b)
                continue
            }
            guard let h = utf8.next().flatMap(Hex.nibble), let l = utf8.next().flatMap(Hex.nibble) else { return nil }
            bytes.append(h << 4 | l)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The text with every UTF-8 byte but ASCII letters, digits and those in `kept` written as
    /// `%XX` (upper-case hex).
    public func percentEncoded(keeping kept: String) -> String {
        let keep = Set(kept.utf8)
        var out = ""
        for b in utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case _ where keep.contains(b):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// The text padded on the right with `pad` to `width` characters (longer text is kept whole).
    public func padded(to width: Int, with pad: Character = " ") -> String {
        String(self) + String(repeating: pad, count: Swift.max(0, width - count))
    }
}

/// printf-style formatting through the C library, for number formats (`%.1f`, `%020llu`); the
/// arguments are numbers (a Swift `String` is not a C string).
public func cFormat(_ format: String, _ arguments: any CVarArg...) -> String {
    // A va_list is used up by one call: the second pass, for longer output, takes a new one.
    func render(capacity: Int) -> (text: String, needed: Int) {
        withVaList(arguments) { list in
            var buffer = [CChar](repeating: 0, count: capacity)
            let needed = Int(vsnprintf(&buffer, capacity, format, list))
            return (String(decoding: buffer.prefix(min(max(0, needed), capacity - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self), needed)
        }
    }
    let first = render(capacity: 64)
    return first.needed < 64 ? first.text : render(capacity: first.needed + 1).text
}

/// File path text, as `NSString`'s path methods treat it (`/` separated, no normalisation).
public enum PathText {
    /// `directory/name`, with one `/` between them.
    public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The part after the last `/` (trailing slashes ignored).
    public static func lastComponent(_ path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/"), trimmed != "/" else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// The part before the last `/`: `""` for a bare name, `/` for a file in the root.
    public static func directory(_ path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// `path` without its trailing slashes; the root stays `/`.
    private static func withoutTrailingSlashes(_ path: String) -> Substring {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.last == "/" { trimmed.removeLast() }
        return trimmed
    }
}

/// Writes all of `bytes` to the file descriptor `fd`; false when a write fails.
@discardableResult
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        offset += n
    }
    return true
}

/// Writes `text` to standard error, unbuffered.
public func writeToStandardError(_ text: String) {
    _ = Array(text.utf8).withUnsafeBytes { writeAll(2, $0) }
}

/// The user's home directory: `$HOME`, or the password database's entry.
public func homeDirectory() -> String {
    if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) }
    if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
    return "/"
}
