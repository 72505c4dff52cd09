// Seeded randomness and hex text for the fuzz tests (a failure reproduces from its seed).
import FireflyDemo

/// The fuzz tests' random choices: the demo's seedable generator.
extension SeededGenerator {
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

func unhex(_ text: String) -> [UInt8] {
    let chars = Array(text.utf8)
    func nibble(_ c: UInt8) -> UInt8 { c <= UInt8(ascii: "9") ? c - 48 : (c | 0x20) - 87 }
    return stride(from: 0, to: chars.count - 1, by: 2).map { nibble(chars[$0]) << 4 | nibble(chars[$0 + 1]) }
}
