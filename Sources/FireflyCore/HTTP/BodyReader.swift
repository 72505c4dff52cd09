import FireflyWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel
import Hummingbird
import NIOCore

/// How fast a request body must arrive: within `timeout` in all, and — after `grace` — at
/// `minRate` bytes per second on average (`server.body_timeout`, `body_min_rate`,
/// `body_rate_grace`). Checked as each chunk arrives; a sender that stops altogether is closed by
/// `server.idle_timeout`.
public struct BodyPace: Sendable, Equatable {
    public var timeout: Duration
    public var minRate: Int
    public var grace: Duration

    public init(timeout: Duration, minRate: Int, grace: Duration) {
        self.timeout = timeout
        self.minRate = minRate
        self.grace = grace
    }

    /// Why a body that has delivered `received` bytes after `elapsed` is too slow, or nil.
    public func violation(received: Int, elapsed: Duration) -> String? {
        if elapsed > timeout {
            return "the request body did not arrive within \(timeout) (server.body_timeout)"
        }
        // The first `grace` is free; after it, every second must have brought `minRate` bytes on
        // average: received >= minRate × (elapsed − grace).
        guard minRate > 0, elapsed > grace else { return nil }
        let owed = Double(minRate) * (elapsed - grace).seconds
        if Double(received) < owed {
            return "the request body arrived slower than \(minRate) bytes/s (server.body_min_rate): \(received) bytes in \(cFormat("%.1f", elapsed.seconds)) s"
        }
        return nil
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Reads a request body within `server.max_body_bytes`, decompressing `Content-Encoding: gzip`
/// with the same cap on the decompressed size, at the pace `BodyPace` asks for.
enum BodyReader {
    enum Failure: Error, Equatable {
        case tooLarge(limit: Int)
        case badEncoding(String)
        case unsupportedEncoding(String)
        case tooSlow(String)
    }

    static func read(_ request: Request, limit: Int, pace: BodyPace) async throws -> [UInt8] {
        let start = ContinuousClock.now
        var received = 0
        func inTime(_ chunk: ByteBuffer) throws(Failure) {
            received += chunk.readableBytes
            if let reason = pace.violation(received: received, elapsed: ContinuousClock.now - start) { throw Failure.tooSlow(reason) }
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Failure.tooLarge(limit: limit)
        }
        let encoding = request.headers[.contentEncoding]?.lowercased().trimmed(keepingNewlines: true) ?? "identity"
        switch encoding {
        case "", "identity":
            var out: [UInt8] = []
            for try await chunk in request.body {
                try inTime(chunk)
                if out.count + chunk.readableBytes > limit { throw Failure.tooLarge(limit: limit) }
                chunk.withUnsafeReadableBytes { out.append(contentsOf: $0) }
            }
            return out
        case "gzip", "x-gzip":
            let inflater: Inflater
            do { inflater = try Inflater(format: .gzip, limit: limit) } catch { throw Failure.badEncoding("\(error)") }
            var compressed = 0
            for try await chunk in request.body {
                try inTime(chunk)
                compressed += chunk.readableBytes
                if compressed > limit { throw Failure.tooLarge(limit: limit) }
                do {
                    try chunk.withUnsafeReadableBytes { (bytes) throws(Inflater.Failure) in try inflater.feed(bytes) }
                } catch .tooLarge {
                    throw Failure.tooLarge(limit: limit)
                } catch .invalid(let message) {
                    throw Failure.badEncoding(message)
                }
            }
            do { try inflater.finish() } catch { throw Failure.badEncoding("truncated gzip data") }
            return inflater.output
        default:
            throw Failure.unsupportedEncoding(encoding)
        }
    }
}
