/// The configured Firehose access keys, checked without leaking through timing which key (or how
/// much of one) matched. `description` never prints a key.
struct AccessKeys: Sendable, CustomStringConvertible {
    private let keys: [[UInt8]]

    init(_ keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
    }

    /// No keys configured: every request is accepted.
    var isEmpty: Bool { keys.isEmpty }

    /// Whether `presented` equals one of the keys. Every key is compared in full whatever matched
    /// before, and each comparison's time depends only on that key's length.
    func accepts(_ presented: String?) -> Bool {
        guard let presented else { return false }
        let p = Array(presented.utf8)
        var matched: UInt8 = 0
        for key in keys { matched |= Self.constantTimeEquals(key, p) }
        return matched == 1
    }

    /// 1 when equal, 0 otherwise; touches every byte of `secret`.
    static func constantTimeEquals(_ secret: [UInt8], _ presented: [UInt8]) -> UInt8 {
        var diff = UInt64(UInt(bitPattern: secret.count ^ presented.count))
        let n = presented.count
        for i in 0..<secret.count {
            let other = n == 0 ? 0 : presented[i % n]
            diff |= UInt64(secret[i] ^ other)
        }
        // Branch-free: the top bit of diff | -diff is set exactly when diff != 0.
        return UInt8(truncatingIfNeeded: (diff | (0 &- diff)) >> 63) ^ 1
    }

    var description: String { "AccessKeys(\(keys.count) configured, values redacted)" }
}
