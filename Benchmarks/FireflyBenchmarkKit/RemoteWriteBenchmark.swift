// Measures how many samples per second one core turns into compressed remote-write bodies (for `make bench`).
import FireflyModel
import RemoteWriteExporter

/// Encode + compress throughput on the calling thread (so: per core). The series look like
/// CloudWatch Lambda data: each point is a summary that becomes 7 YACE series.
public enum RemoteWriteBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public var samples: Int
        public var bytesCompressed: Int
        public var seconds: Double
        public var samplesPerSecond: Double { Double(samples) / seconds }
        public var description: String {
            "remote-write encode+snappy: \(samples) samples in \(seconds) s = \(Int(samplesPerSecond)) samples/s/core, \(bytesCompressed) bytes"
        }
    }

    /// `functions` Lambda functions × `minutes` one-minute points, assembled into requests of
    /// 2000 samples, encoded and compressed `iterations` times.
    public static func run(functions: Int = 200, minutes: Int = 5, iterations: Int = 20) -> Result {
        let start: UInt64 = 1_700_000_000_000_000_000
        var points: [MetricPoint] = []
        for f in 0..<functions {
            for m in 0..<minutes {
                points.append(
                    MetricPoint(
                        name: "Duration", namespace: "AWS/Lambda", unit: "Milliseconds", function: "fn-\(f)",
                        kind: .summary, isDelta: true,
                        labels: [Label("FunctionName", "fn-\(f)"), Label("cloud.account.id", "123456789012"),
                                 Label("cloud.region", "us-east-1")],
                        timeUnixNano: start + UInt64(m) * 60_000_000_000, count: 12, sum: 1530,
                        quantiles: [Quantile(0, 3.2), Quantile(0.99, 790.1), Quantile(1, 812.5)]))
            }
        }
        let assembler = SeriesAssembler()
        let clock = ContinuousClock()
        var samples = 0
        var bytes = 0
        let elapsed = clock.measure {
            for _ in 0..<iterations {
                let plan = assembler.plan(points) { _ in nil }
                for request in plan.shards[0] {
                    samples += request.reduce(0) { $0 + $1.samples.count }
                    bytes += Snappy.compress(WriteRequestEncoder.encode(request)).count
                }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(samples: samples, bytesCompressed: bytes, seconds: seconds)
    }
}
