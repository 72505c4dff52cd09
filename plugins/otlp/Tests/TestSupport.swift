// Shared helpers for the otlp receiver tests: fixtures, a recording sink, requests.
import FireflyModel
import FireflyPluginKit
import Foundation
import OTLPAdapter
import Synchronization

/// A sink that records every batch and answers a configurable status.
final class RecordingSink: TelemetrySink {
    private let state: Mutex<(answer: EmitStatus, batches: [TelemetryBatch])>

    init(answer: EmitStatus = .ok) { state = Mutex((answer: answer, batches: [])) }

    func emit(_ batch: TelemetryBatch) -> EmitStatus {
        state.withLock {
            $0.batches.append(batch)
            return $0.answer
        }
    }

    var batches: [TelemetryBatch] { state.withLock { $0.batches } }
}

enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("testdata")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// The `<name>.expected.json` telemetry (the model's Codable form).
    static func expected(_ name: String) throws -> TelemetryBatch {
        try JSONDecoder().decode(TelemetryBatch.self, from: Data(try bytes("\(name).expected.json")))
    }

    static func expectedObject(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try bytes("\(name).expected.json"))) as! [String: Any]
    }
}

func makeAdapter(_ config: [String: JSONValue] = [:]) throws -> OTLPAdapter {
    try OTLPAdapter(context: .standalone(instanceName: "otlp"), config: PluginConfig(config))
}

func post(
    _ path: String, _ body: [UInt8], contentType: String? = "application/x-protobuf",
    headers: [(name: String, value: String)] = []
) -> PluginRequest {
    var all = headers
    if let contentType { all.append((name: "Content-Type", value: contentType)) }
    return PluginRequest(method: "POST", path: path, headers: all, body: body)
}

extension PluginResponse {
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// google.rpc.Status bytes as the spec writes them: code (field 1 varint), message (field 2).
func rpcStatusBytes(code: UInt8, message: String) -> [UInt8] {
    let m = Array(message.utf8)
    var out: [UInt8] = [0x08, code, 0x12]
    var n = m.count
    while n >= 0x80 {
        out.append(UInt8(n & 0x7F) | 0x80)
        n >>= 7
    }
    out.append(UInt8(n))
    return out + m
}
