/// Standard base64 (RFC 4648 §4, `+` and `/`) decoding by hand: Firehose record `data` is decoded
/// once per record on the hottest path, so it avoids Foundation's `Data(base64Encoded:)` copies.
enum Base64 {
    /// 0xFF marks a byte outside the alphabet.
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Decodes `input` into `output`, replacing its contents but keeping its capacity (callers reuse
    /// one scratch buffer per request). Padding is optional, but when present it must complete the
    /// last quantum; whitespace and characters outside the alphabet are errors. Returns false when
    /// the text is not base64.
    static func decode(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Bool {
        output.removeAll(keepingCapacity: true)
        var n = input.count
        if n == 0 { return true }
        if n % 4 == 0 {
            if input[n - 1] == UInt8(ascii: "=") { n -= 1 }
            if input[n - 1] == UInt8(ascii: "=") { n -= 1 }
        }
        let tail = n % 4
        if tail == 1 { return false }
        let full = n - tail
        let size = full / 4 * 3 + (tail == 0 ? 0 : tail - 1)
        output.append(contentsOf: repeatElement(0, count: size))
        return table.withUnsafeBufferPointer { t -> Bool in
            output.withUnsafeMutableBufferPointer { out -> Bool in
                var bad: UInt8 = 0
                var i = 0
                var o = 0
                while i < full {
                    let a = t[Int(input[i])], b = t[Int(input[i + 1])]
                    let c = t[Int(input[i + 2])], d = t[Int(input[i + 3])]
                    bad |= a | b | c | d
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4
                    o += 3
                }
                if tail >= 2 {
                    let a = t[Int(input[i])], b = t[Int(input[i + 1])]
                    bad |= a | b
                    out[o] = a << 2 | b >> 4
                    if tail == 3 {
                        let c = t[Int(input[i + 2])]
                        bad |= c
                        out[o + 1] = b << 4 | c >> 2
                    }
                }
                // Every valid sextet is below 0x40; the 0xFF marker has that bit set.
                return bad & 0x40 == 0
            }
        }
    }
}
