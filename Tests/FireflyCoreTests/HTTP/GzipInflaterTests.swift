import FireflyTestSupport
import Foundation
import Testing

@testable import FireflyCore

@Suite struct GzipInflaterTests {
    /// Compresses with the system gzip tool (an independent implementation).
    func gzip(_ data: [UInt8]) throws -> [UInt8] {
        Array(try run("/bin/gzip", ["-c"], input: Data(data)).output)
    }

    func inflate(_ bytes: [UInt8], limit: Int, chunk: Int = 1000) throws(GzipInflater.Failure) -> [UInt8] {
        let inflater = try GzipInflater(limit: limit)
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
    }

    @Test func concatenatedMembersAreOneStream() throws {
        let a = try gzip(Array("hello ".utf8)), b = try gzip(Array("world".utf8))
        #expect(try inflate(a + b, limit: 100) == Array("hello world".utf8))
    }

    @Test func stopsAtTheLimit() throws {
        let compressed = try gzip([UInt8](repeating: 0, count: 10_000_000))
        #expect(compressed.count < 20_000)
        #expect(throws: GzipInflater.Failure.tooLarge) { try inflate(compressed, limit: 1_000_000) }
    }

    @Test func rejectsGarbageAndTruncation() throws {
        #expect(throws: GzipInflater.Failure.self) { try inflate(Array("not gzip at all".utf8), limit: 100) }
        let compressed = try gzip(Array(String(repeating: "abc", count: 1000).utf8))
        #expect(throws: GzipInflater.Failure.invalid("truncated gzip data")) {
            try inflate(Array(compressed.dropLast(10)), limit: 1 << 20)
        }
    }

    /// Every cut of a real gzip stream (header, deflate blocks, trailer) ends with an error, in one
    /// piece or byte by byte, instead of waiting or looping for the rest.
    @Test func everyTruncationIsAnError() throws {
        let compressed = try gzip(Array((0..<300).map { "span \($0) of a request\n" }.joined().utf8))
        for cut in 0..<compressed.count {
            let piece = Array(compressed.prefix(cut))
            for chunk in [1, max(1, cut)] {
                #expect(throws: GzipInflater.Failure.self, "cut at \(cut) in chunks of \(chunk)") {
                    try inflate(piece, limit: 1 << 20, chunk: chunk)
                }
            }
        }
    }

    @Test func trailingGarbageAfterAMemberIsAnError() throws {
        let compressed = try gzip(Array("hello".utf8))
        #expect(throws: GzipInflater.Failure.self) { try inflate(compressed + Array("garbage".utf8), limit: 100) }
    }
}
