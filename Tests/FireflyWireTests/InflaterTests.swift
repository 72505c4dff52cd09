import FireflyTestSupport
import FireflyWire
import Foundation
import Testing

@Suite struct InflaterTests {
    /// Compresses with the system gzip tool (an independent implementation).
    func gzip(_ data: [UInt8]) throws -> [UInt8] {
        Array(try run("/bin/gzip", ["-c"], input: Data(data)).output)
    }

    /// zlib-wrapped deflate from Python's zlib module (what gRPC clients send as `deflate`).
    func zlibCompress(_ data: [UInt8]) throws -> [UInt8] {
        let script = "import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))"
        return Array(try run("/usr/bin/env", ["python3", "-c", script], input: Data(data)).output)
    }

    /// Feeds `bytes` to a streaming inflater in pieces of `chunk` bytes.
    func inflate(_ bytes: [UInt8], limit: Int, chunk: Int = 1000) throws(Inflater.Failure) -> [UInt8] {
        let inflater = try Inflater(format: .gzip, limit: limit)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            let piece = Array(bytes[i..<end])
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece.count, alignment: 1)
            defer { buffer.deallocate() }
            buffer.copyBytes(from: piece)
            try inflater.feed(UnsafeRawBufferPointer(buffer))
            i = end
        }
        try inflater.finish()
        return inflater.output
    }

    @Test func roundTripsInAnyChunking() throws {
        let text = Array((0..<50_000).map { "line \($0)\n" }.joined().utf8)
        let compressed = try gzip(text)
        for chunk in [1, 7, 4096, compressed.count] {
            #expect(try inflate(compressed, limit: 1 << 24, chunk: chunk) == text)
        }
        #expect(try Inflater.inflate(compressed, format: .gzip, limit: 1 << 24) == text)
    }

    @Test func emptyStreamsInflateToNothing() throws {
        #expect(try inflate(try gzip([]), limit: 100) == [])
        let unfed = try Inflater(format: .gzip, limit: 100)
        #expect(unfed.output == [])
    }

    @Test func concatenatedMembersAreOneStream() throws {
        let a = try gzip(Array("hello ".utf8)), b = try gzip(Array("world".utf8))
        #expect(try inflate(a + b, limit: 100) == Array("hello world".utf8))
        #expect(try inflate(a + b, limit: 100, chunk: 1) == Array("hello world".utf8))
        #expect(try Inflater.inflate(a + b, format: .gzip, limit: 100) == Array("hello world".utf8))
    }

    @Test func stopsAtTheLimit() throws {
        let compressed = try gzip([UInt8](repeating: 0, count: 10_000_000))
        #expect(compressed.count < 20_000)
        #expect(throws: Inflater.Failure.tooLarge(limit: 1_000_000)) { try inflate(compressed, limit: 1_000_000) }
        #expect(throws: Inflater.Failure.tooLarge(limit: 1_000_000)) {
            try Inflater.inflate(compressed, format: .gzip, limit: 1_000_000)
        }
        // Output of exactly the limit is fine.
        #expect(try Inflater.inflate(compressed, format: .gzip, limit: 10_000_000).count == 10_000_000)
        #expect(try inflate(compressed, limit: 10_000_000) == [UInt8](repeating: 0, count: 10_000_000))
    }

    @Test func rejectsGarbageAndTruncation() throws {
        #expect(throws: Inflater.Failure.self) { try inflate(Array("not gzip at all".utf8), limit: 100) }
        let compressed = try gzip(Array(String(repeating: "abc", count: 1000).utf8))
        #expect(throws: Inflater.Failure.invalid("truncated gzip data")) {
            try inflate(Array(compressed.dropLast(10)), limit: 1 << 20)
        }
        #expect(throws: Inflater.Failure.invalid("truncated gzip data")) {
            try Inflater.inflate(Array(compressed.dropLast(10)), format: .gzip, limit: 1 << 20)
        }
        #expect(throws: Inflater.Failure.invalid("truncated gzip data")) { try Inflater.inflate([], format: .gzip, limit: 100) }
    }

    /// Every cut of a real gzip stream (header, deflate blocks, trailer) ends with an error, in one
    /// piece or byte by byte, instead of waiting or looping for the rest.
    @Test func everyTruncationIsAnError() throws {
        let compressed = try gzip(Array((0..<300).map { "span \($0) of a request\n" }.joined().utf8))
        for cut in 0..<compressed.count {
            let piece = Array(compressed.prefix(cut))
            for chunk in [1, max(1, cut)] {
                #expect(throws: Inflater.Failure.self, "cut at \(cut) in chunks of \(chunk)") {
                    try inflate(piece, limit: 1 << 20, chunk: chunk)
                }
            }
            #expect(throws: Inflater.Failure.self, "cut at \(cut), whole") { try Inflater.inflate(piece, format: .gzip, limit: 1 << 20) }
        }
    }

    @Test func trailingGarbageAfterAMemberIsAnError() throws {
        let compressed = try gzip(Array("hello".utf8))
        #expect(throws: Inflater.Failure.self) { try inflate(compressed + Array("garbage".utf8), limit: 100) }
        #expect(throws: Inflater.Failure.invalid("data after the end of the gzip stream at byte \(compressed.count)")) {
            try Inflater.inflate(compressed + Array("garbage".utf8), format: .gzip, limit: 100)
        }
    }

    @Test func inflatesZlibWrappedDeflateAndRefusesItsTruncation() throws {
        let body = Array((0..<2000).map { "attribute \($0)" }.joined().utf8)
        let compressed = try zlibCompress(body)
        #expect(try Inflater.inflate(compressed, format: .zlib, limit: 1 << 20) == body)
        #expect(throws: Inflater.Failure.invalid("truncated deflate data")) {
            try Inflater.inflate(Array(compressed.dropLast(5)), format: .zlib, limit: 1 << 20)
        }
        for cut in stride(from: 0, to: compressed.count, by: 7) {
            #expect(throws: Inflater.Failure.self, "cut at \(cut)") {
                try Inflater.inflate(Array(compressed.prefix(cut)), format: .zlib, limit: 1 << 20)
            }
        }
        // gzip data is not zlib data.
        #expect(throws: Inflater.Failure.self) { try Inflater.inflate(try gzip(body), format: .zlib, limit: 1 << 20) }
    }

    @Test func reusesTheCallersBufferAcrossInputs() throws {
        let first = try gzip([UInt8](repeating: 0x41, count: 200_000))
        let second = try gzip(Array("short".utf8))
        var buffer: [UInt8] = []
        let n1 = try first.withUnsafeBytes { try Inflater.inflate($0, format: .gzip, limit: 1 << 20, into: &buffer) }
        #expect(n1 == 200_000 && buffer[0..<n1].allSatisfy { $0 == 0x41 })
        let capacity = buffer.count
        let n2 = try second.withUnsafeBytes { try Inflater.inflate($0, format: .gzip, limit: 1 << 20, into: &buffer) }
        #expect(Array(buffer[0..<n2]) == Array("short".utf8))
        #expect(buffer.count == capacity)
        #expect(Inflater.isGzip(UnsafeRawBufferPointer(start: nil, count: 0)) == false)
        #expect(first.withUnsafeBytes { Inflater.isGzip($0) })
    }
}
