public import CFireflyPlugin
import FireflyModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension CArena {
    /// A copy of `values` in the arena (nil when empty): for receivers that collect C structs in
    /// a reusable scratch array and keep each finished list in the arena.
    @inlinable
    public func copy<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>) -> UnsafePointer<T>? {
        guard let base = values.baseAddress, values.count > 0 else { return nil }
        let raw = allocate(byteCount: MemoryLayout<T>.stride * values.count, alignment: MemoryLayout<T>.alignment)
        raw.copyMemory(from: base, byteCount: MemoryLayout<T>.stride * values.count)
        return UnsafePointer(raw.assumingMemoryBound(to: T.self))
    }

    /// A copy of `values` in the arena (nil when empty).
    @inlinable
    public func copy<T: BitwiseCopyable>(_ values: [T]) -> UnsafePointer<T>? {
        values.withUnsafeBufferPointer { copy($0) }
    }
}

extension firefly_str {
    /// The bytes of `buffer` as a borrowed string (no copy; valid while `buffer` is). Empty is
    /// `(NULL, 0)`, as `CArena.str` makes it.
    @inline(__always)
    public init(borrowing buffer: UnsafeRawBufferPointer) {
        if buffer.count > 0, let base = buffer.baseAddress {
            self.init(ptr: base.assumingMemoryBound(to: CChar.self), len: buffer.count)
        } else {
            self.init(ptr: nil, len: 0)
        }
    }

    /// Whether the bytes equal `utf8` exactly.
    @inline(__always)
    public func equals(_ utf8: [UInt8]) -> Bool {
        guard len == utf8.count else { return false }
        guard len > 0, let ptr else { return true }
        return utf8.withUnsafeBytes { memcmp(ptr, $0.baseAddress!, len) == 0 }
    }
}

/// `FunctionResolver.function(spanAttributes:resourceAttributes:)` and the resource's `service`
/// on C attributes, for receivers that build C batches. Keys are compared by their bytes, which
/// for these ASCII keys is exactly Swift's string comparison of the repaired text. The resource's
/// part is looked up once; `function(spanAttributes:)` then runs per span.
public struct CFunctionResolver {
    private static let keys = FunctionResolver.functionKeys.map { Array($0.utf8) }
    private static let serviceKey = Array("service.name".utf8)

    /// Per function key: the resource's first attribute of that key when it is a non-empty string.
    private let resourceCandidates: [firefly_str?]
    /// The resource's `service.name` when its first such attribute is a string, else empty.
    public let service: firefly_str

    public init(resourceAttributes: UnsafeBufferPointer<firefly_attr>) {
        resourceCandidates = Self.keys.map { Self.nonEmptyString($0, in: resourceAttributes) }
        if let a = Self.first(Self.serviceKey, in: resourceAttributes), a.type == FIREFLY_ATTR_STRING.rawValue {
            service = a.string_value
        } else {
            service = firefly_str(ptr: nil, len: 0)
        }
    }

    /// The function a span belongs to: as `FunctionResolver`, empty when none.
    public func function(spanAttributes: UnsafeBufferPointer<firefly_attr>) -> firefly_str {
        for (i, key) in Self.keys.enumerated() {
            if let v = Self.nonEmptyString(key, in: spanAttributes) { return v }
            if let v = resourceCandidates[i] { return v }
        }
        return firefly_str(ptr: nil, len: 0)
    }

    /// The first attribute whose key is `key` (as `[Attribute][key:]` finds it).
    @inline(__always)
    static func first(_ key: [UInt8], in attributes: UnsafeBufferPointer<firefly_attr>) -> firefly_attr? {
        for a in attributes where a.key.equals(key) { return a }
        return nil
    }

    /// The first attribute of `key`'s value, when it is a non-empty string.
    @inline(__always)
    static func nonEmptyString(_ key: [UInt8], in attributes: UnsafeBufferPointer<firefly_attr>) -> firefly_str? {
        guard let a = first(key, in: attributes), a.type == FIREFLY_ATTR_STRING.rawValue, a.string_value.len > 0 else { return nil }
        return a.string_value
    }
}
