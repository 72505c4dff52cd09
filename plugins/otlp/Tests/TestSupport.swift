// Shared helpers for the otlp receiver tests: fixtures and requests.
import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Foundation
import OTLPAdapter
import Synchronization

/// Files in plugins/otlp/testdata.
let fixture = TestData(besides: #filePath)

extension TestData {
    /// The `<name>.expected.json` telemetry (the model's Codable form).
    func expected(_ name: String) throws -> TelemetryBatch {
        try JSONDecoder().decode(TelemetryBatch.self, from: try data("\(name).expected.json"))
    }

    func expectedObject(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try data("\(name).expected.json")) as! [String: Any]
    }
}

func makeAdapter(_ config: [String: JSONValue] = [:]) throws -> OTLPAdapter {
    try OTLPAdapter(context: .standalone(instanceName: "otlp"), config: PluginConfig(config))
}

func post(
    _ path: String, _ body: [UInt8], contentType: String? = "application/x-protobuf",
    headers: [(name: String, value: String)] = []
) -> PluginRequest {
    .post(path, body, contentType: contentType, headers: headers)
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
