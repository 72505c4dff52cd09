// The request bodies the ingest benchmarks send, built from the demo's simulators.
import FireflyOTLP
import FireflyDemo
import FireflyWire
import FireflyModel
import Foundation
import NIOCore

/// A Firehose delivery of CloudWatch JSON records of about `targetBytes` (uncompressed envelope),
/// sent gzip-compressed. Each request needs its own request id (in the header and the body) but
/// compressing megabytes per request would make the load generator the bottleneck, so the body is
/// two gzip members — a small one holding `{"requestId":"…",` and a shared one holding the rest.
/// Concatenated members are one gzip stream (RFC 1952 §2.2), which any inflater reads.
struct FirehoseWorkload: Sendable {
    let suffix: [UInt8]
    let points: Int
    let records: Int
    let uncompressedBytes: Int
    let compressedBytes: Int

    init(targetBytes: Int, linesPerRecord: Int = 10, seed: UInt64 = 1) throws {
        let topology = DemoTopology(functions: 500, seed: seed)
        let metrics = LambdaMetricsSimulator(topology: topology, tracesPerSecond: 500, seed: seed)
        var lines: [[UInt8]] = []
        var estimate = 80
        var minute: UInt64 = 1_700_000_040_000
        outer: while true {
            for f in topology.functions.indices {
                for p in metrics.points(function: f, minuteStartMs: minute, streamName: "firefly-bench") {
                    let line = Array((CloudWatchJSONEncoder.line(p) + "\n").utf8)
                    lines.append(line)
                    estimate += (line.count * 4 + 2) / 3 + (lines.count % linesPerRecord == 1 ? 12 : 0)
                    if estimate >= targetBytes { break outer }
                }
            }
            minute += 60_000
        }
        var records: [[UInt8]] = []
        var i = 0
        while i < lines.count {
            records.append(lines[i..<min(i + linesPerRecord, lines.count)].flatMap { $0 })
            i += linesPerRecord
        }
        let full = FirehoseRequest.envelope(requestId: "x", timestampMs: 1_700_000_100_000, records: records)
        let tail = Array(full.drop { $0 != UInt8(ascii: ",") }.dropFirst())  // after {"requestId":"x",
        suffix = try Gzip.compress(tail)
        points = lines.count
        self.records = records.count
        uncompressedBytes = full.count + 35
        compressedBytes = suffix.count + 60
    }

    func request(url: String, n: Int, accessKey: String) -> LoadRequest {
        let id = String(format: "bench-%08x-0000-4000-8000-%012x", n, n)
        var head = (try? Gzip.compress(Array("{\"requestId\":\"\(id)\",".utf8), level: 1)) ?? []
        head += suffix
        var headers = [
            ("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
            ("X-Amz-Firehose-Protocol-Version", "1.0"), ("X-Amz-Firehose-Request-Id", id),
            ("X-Amz-Firehose-Source-Arn", "arn:aws:firehose:us-east-1:123456789012:deliverystream/firefly-bench"),
        ]
        if !accessKey.isEmpty { headers.append(("X-Amz-Firehose-Access-Key", accessKey)) }
        return LoadRequest(url: url, headers: headers, body: ByteBuffer(bytes: head))
    }
}

/// OTLP/HTTP protobuf trace requests of the demo's spans, `spansPerRequest` each.
struct OTLPWorkload: Sendable {
    let bodies: [ByteBuffer]
    let spansPerRequest: Int

    init(spansPerRequest: Int = 1000, requests: Int = 16, seed: UInt64 = 1) {
        var sim = TraceSimulator(topology: DemoTopology(functions: 10, seed: seed), seed: seed)
        var spans: [Span] = []
        var t: UInt64 = 1_700_000_000_000_000_000
        while spans.count < spansPerRequest * requests {
            t += 1_000_000_000
            spans += sim.advance(to: t, newTraces: 200)
        }
        bodies = (0..<requests).map { i in
            ByteBuffer(bytes: OTLPRequestEncoder.traces(Array(spans[i * spansPerRequest..<(i + 1) * spansPerRequest])))
        }
        self.spansPerRequest = spansPerRequest
    }

    func request(url: String, n: Int) -> LoadRequest {
        LoadRequest(url: url, headers: [("Content-Type", "application/x-protobuf")], body: bodies[n % bodies.count])
    }
}
