import FireflyModel
import Foundation
import RemoteWriteExporter
import Testing

func fixture(_ name: String) throws -> [UInt8] {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return Array(try Data(contentsOf: dir.appendingPathComponent("testdata/\(name)")))
}

@Suite struct EncodingTests {
    static let d8 = [RemoteWriteSeries(
        labels: [Label("__name__", "aws_lambda_invocations_sum"), Label("dimension_FunctionName", "checkout"), Label("region", "us-east-1")],
        samples: [RemoteWriteSample(value: 42, timestampMs: 1_700_000_000_000)])]

    @Test func writeRequestMatchesTheSpecExampleByteForByte() throws {
        let bytes = WriteRequestEncoder.encode(Self.d8)
        #expect(bytes == (try fixture("d8-writerequest.bin")))
        #expect(bytes.count == 117)
        #expect(Array(bytes.prefix(4)) == [0x0A, 0x73, 0x0A, 0x26])
        #expect(Array(bytes.suffix(18)) == [0x12, 0x10, 0x09, 0, 0, 0, 0, 0, 0, 0x45, 0x40, 0x10, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31])
    }

    @Test func edgeCasesMatchTheProtobufRuntime() throws {
        let series = [
            RemoteWriteSeries(labels: [Label("__name__", "a"), Label("x", "é✓")], samples: [
                RemoteWriteSample(value: 0, timestampMs: 0), RemoteWriteSample(value: 1.5, timestampMs: -1),
                RemoteWriteSample(value: -2.25, timestampMs: 1),
            ]),
            RemoteWriteSeries(labels: [Label("__name__", "b"), Label("long", String(repeating: "v", count: 300))], samples: [
                RemoteWriteSample(value: 1e300, timestampMs: .max)
            ]),
        ]
        #expect(WriteRequestEncoder.encode(series) == (try fixture("edge-writerequest.bin")))
    }

    @Test func snappyBlockOfTheSpecExample() throws {
        let compressed = Snappy.compress(WriteRequestEncoder.encode(Self.d8))
        #expect(compressed.count == 120)
        #expect(Array(compressed.prefix(5)) == [0x75, 0xf0, 0x74, 0x0A, 0x73])
        #expect(Snappy.uncompress(compressed) == (try fixture("d8-writerequest.bin")))
    }

    @Test func snappyRoundTripsLargeRepetitiveBodiesAsBlocksNotFrames() {
        var generator = SystemRandomNumberGenerator()
        var input: [UInt8] = []
        for i in 0..<200_000 { input.append(i % 7 == 0 ? UInt8.random(in: 0...255, using: &generator) : UInt8(i % 13)) }
        let compressed = Snappy.compress(input)
        #expect(compressed.count < input.count / 2)
        #expect(Array(compressed.prefix(2)) != [0xff, 0x06])
        #expect(Snappy.uncompress(compressed) == input)
        #expect(Snappy.uncompress([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]) == nil)
    }
}
