// Builds Kinesis Data Firehose HTTP-endpoint delivery requests (wire-formats.md A.2–A.3).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import FireflyWire

/// One Firehose delivery: the gzip-compressed JSON envelope and the headers Firehose sends.
public struct FirehoseRequest: Sendable {
    public var requestId: String
    public var headers: [(name: String, value: String)]
    /// The envelope `{"requestId","timestamp","records":[{"data": base64}]}`, gzip-compressed.
    public var body: [UInt8]
    /// Size of the envelope before compression (what Firehose's buffering hints count).
    public var uncompressedBytes: Int

    /// `records` are the raw record contents; `timestampMs` is when "Firehose" built the request.
    public init(
        requestId: String, timestampMs: UInt64, records: [[UInt8]], sourceArn: String, accessKey: String,
        gzipLevel: Int32 = 6
    ) throws(Gzip.Failure) {
        let envelope = Self.envelope(requestId: requestId, timestampMs: timestampMs, records: records)
        self.requestId = requestId
        uncompressedBytes = envelope.count
        body = try Gzip.compress(envelope, level: gzipLevel)
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
            ("X-Amz-Firehose-Protocol-Version", "1.0"),
            ("X-Amz-Firehose-Request-Id", requestId),
            ("X-Amz-Firehose-Source-Arn", sourceArn),
        ]
        if !accessKey.isEmpty { headers.append(("X-Amz-Firehose-Access-Key", accessKey)) }
        self.headers = headers
    }

    /// The uncompressed JSON envelope; record data is standard base64 with padding.
    public static func envelope(requestId: String, timestampMs: UInt64, records: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.reduce(64) { $0 + ($1.count + 2) / 3 * 4 + 12 })
        out.append(contentsOf: "{\"requestId\":\(CloudWatchJSONEncoder.quoted(requestId)),\"timestamp\":\(timestampMs),\"records\":[".utf8)
        for (i, record) in records.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"data\":\"".utf8)
            out.append(contentsOf: Data(record).base64EncodedData())
            out.append(contentsOf: "\"}".utf8)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }
}
