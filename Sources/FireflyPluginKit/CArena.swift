public import CFireflyPlugin
public import FireflyModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A bump allocator for the C views of Swift values handed across the plugin ABI. Everything it
/// hands out lives until the arena is released, which matches the ABI's "borrowed for the call"
/// rule: build the C view, make the call, drop the arena.
public final class CArena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var chunkSizes: [Int] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private let chunkSize: Int

    public init(chunkSize: Int = 16 * 1024) {
        self.chunkSize = chunkSize
    }

    deinit {
        for chunk in chunks { free(chunk) }
    }

    /// Raw, aligned, uninitialised memory.
    public func allocate(byteCount: Int, alignment: Int = 8) -> UnsafeMutableRawPointer {
        if let c = cursor {
            let pad = (alignment - Int(bitPattern: c) % alignment) % alignment
            if pad + byteCount <= remaining {
                let p = c + pad
                cursor = p + byteCount
                remaining -= pad + byteCount
                return p
            }
        }
        let size = Swift.max(chunkSize, byteCount + alignment)
        let chunk = malloc(size)!
        chunks.append(chunk)
        chunkSizes.append(size)
        let pad = (alignment - Int(bitPattern: chunk) % alignment) % alignment
        let p = chunk + pad
        cursor = p + byteCount
        remaining = size - pad - byteCount
        return p
    }

    /// Where the next allocation goes: `reset(to:)` gives back everything allocated after it.
    public struct Mark {
        fileprivate let chunks: Int
        fileprivate let cursor: UnsafeMutableRawPointer?
        fileprivate let remaining: Int
    }

    public func mark() -> Mark { Mark(chunks: chunks.count, cursor: cursor, remaining: remaining) }

    /// Bytes held in chunks (for tests of what is given back).
    package var capacity: Int { chunkSizes.reduce(0, +) }

    /// Forgets everything handed out, for the arena to be used again. The memory is kept, as one
    /// chunk as large as all chunks were together (so an arena reused for requests of a similar
    /// size allocates nothing, and its memory stays warm), unless that is more than `limit` bytes:
    /// then all of it is freed.
    public func reset(keepingAtMost limit: Int = 4 << 20) {
        let total = capacity
        if chunks.count == 1, total <= limit {
            cursor = chunks[0]
            remaining = total
            return
        }
        for chunk in chunks { free(chunk) }
        chunks.removeAll()
        chunkSizes.removeAll()
        cursor = nil
        remaining = 0
        if total > 0, total <= limit {
            let chunk = malloc(total)!
            chunks.append(chunk)
            chunkSizes.append(total)
            cursor = chunk
            remaining = total
        }
    }

    /// Frees what was allocated since `mark` (taken from this arena); nothing allocated since may be used again.
    public func reset(to mark: Mark) {
        for chunk in chunks[mark.chunks...] { free(chunk) }
        chunks.removeSubrange(mark.chunks...)
        chunkSizes.removeSubrange(mark.chunks...)
        cursor = mark.cursor
        remaining = mark.remaining
    }

    /// Typed array storage, initialised from `values`; nil when empty.
    public func array<T>(_ values: some Collection<T>) -> UnsafePointer<T>? {
        if values.isEmpty { return nil }
        let raw = allocate(byteCount: MemoryLayout<T>.stride * values.count, alignment: MemoryLayout<T>.alignment)
        let typed = raw.bindMemory(to: T.self, capacity: values.count)
        _ = UnsafeMutableBufferPointer(start: typed, count: values.count).initialize(from: values)
        return UnsafePointer(typed)
    }

    public func str(_ string: String) -> firefly_str {
        var s = string
        return s.withUTF8 { buf in
            guard buf.count > 0 else { return firefly_str(ptr: nil, len: 0) }
            let p = allocate(byteCount: buf.count, alignment: 1)
            p.copyMemory(from: buf.baseAddress!, byteCount: buf.count)
            return firefly_str(ptr: p.assumingMemoryBound(to: CChar.self), len: buf.count)
        }
    }

    public func bytes(_ bytes: [UInt8]) -> firefly_bytes {
        bytes.withUnsafeBytes { buf in
            guard buf.count > 0 else { return firefly_bytes(ptr: nil, len: 0) }
            let p = allocate(byteCount: buf.count, alignment: 1)
            p.copyMemory(from: buf.baseAddress!, byteCount: buf.count)
            return firefly_bytes(ptr: p.assumingMemoryBound(to: UInt8.self), len: buf.count)
        }
    }

    public func kvArray(_ labels: [Label]) -> UnsafePointer<firefly_kv>? {
        array(labels.map { firefly_kv(key: str($0.key), value: str($0.value)) })
    }

    public func kvArray(_ pairs: [(String, String)]) -> UnsafePointer<firefly_kv>? {
        array(pairs.map { firefly_kv(key: str($0.0), value: str($0.1)) })
    }

    /// A NUL-terminated copy, for the few ABI fields that are C strings.
    public func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8) + [0]
        let p = allocate(byteCount: utf8.count, alignment: 1)
        utf8.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: utf8.count) }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }
}

extension firefly_str {
    /// Copies the bytes into a Swift string (invalid UTF-8 is repaired).
    public var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }
}

extension firefly_bytes {
    public var array: [UInt8] {
        guard let ptr, len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: ptr, count: len))
    }
}
