import Hummingbird
import NIOCore

/// Reads a request body within `server.max_body_bytes`, decompressing `Content-Encoding: gzip`
/// with the same cap on the decompressed size, and within `server.body_timeout` (checked as each
/// chunk arrives; a sender that stops altogether is closed by `server.idle_timeout`).
enum BodyReader {
    enum Failure: Error, Equatable {
        case tooLarge(limit: Int)
        case badEncoding(String)
        case unsupportedEncoding(String)
        case tooSlow(timeout: Duration)
    }

    static func read(_ request: Request, limit: Int, timeout: Duration) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        func inTime() throws(Failure) {
            if ContinuousClock.now > deadline { throw Failure.tooSlow(timeout: timeout) }
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Failure.tooLarge(limit: limit)
        }
        let encoding = request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces) ?? "identity"
        switch encoding {
        case "", "identity":
            var out: [UInt8] = []
            for try await chunk in request.body {
                try inTime()
                if out.count + chunk.readableBytes > limit { throw Failure.tooLarge(limit: limit) }
                chunk.withUnsafeReadableBytes { out.append(contentsOf: $0) }
            }
            return out
        case "gzip", "x-gzip":
            let inflater: GzipInflater
            do { inflater = try GzipInflater(limit: limit) } catch { throw Failure.badEncoding("\(error)") }
            var compressed = 0
            for try await chunk in request.body {
                try inTime()
                compressed += chunk.readableBytes
                if compressed > limit { throw Failure.tooLarge(limit: limit) }
                do {
                    try chunk.withUnsafeReadableBytes { (bytes) throws(GzipInflater.Failure) in try inflater.feed(bytes) }
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
