import FireflyPluginKitTesting
import Crypto
import FireflyModel
import FireflyPluginKit
import Foundation
import Synchronization
import WebhookAdapter

/// A JSON configuration value from a Swift literal-ish tree.
func config(_ json: String) throws -> PluginConfig { try PluginConfig(json: json) }

func adapter(_ json: String, instance: String = "webhook/test") throws -> WebhookAdapter {
    try WebhookAdapter(context: .standalone(instanceName: instance), config: config(json))
}

/// A mapping-only adapter (no auth) with the given `metrics` list.
func mapper(_ metrics: String) throws -> WebhookAdapter {
    try adapter(#"{"metrics": \#(metrics)}"#)
}

func body(_ text: String) -> [UInt8] { Array(text.utf8) }

func post(
    _ adapter: WebhookAdapter, _ text: String, headers: [(name: String, value: String)] = [], sink: RecordingSink = RecordingSink()
) -> PluginResponse {
    adapter.handle(PluginRequest(method: "POST", path: adapter.path, headers: headers, body: body(text)), sink: sink)
}

func gauge(_ name: String, _ labels: [String: String] = [:], at time: UInt64, _ value: Double, unit: String = "", function: String = "")
    -> MetricPoint
{
    MetricPoint(
        name: name, unit: unit, function: function, kind: .gauge, labels: labels.map { Label($0.key, $0.value) },
        timeUnixNano: time, value: value)
}

func counter(_ name: String, _ labels: [String: String] = [:], at time: UInt64, _ value: Double = 1, function: String = "")
    -> MetricPoint
{
    MetricPoint(
        name: name, function: function, kind: .deltaSum, isMonotonic: true, labels: labels.map { Label($0.key, $0.value) },
        timeUnixNano: time, value: value)
}

func hmacHex(_ secret: String, _ message: String) -> String {
    HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        .map { String(format: "%02x", $0) }.joined()
}

func nowSeconds() -> UInt64 { UInt64(Date().timeIntervalSince1970) }

/// Files in plugins/webhook/testdata.
let testdata = TestData(besides: #filePath)

extension TestData {
    /// The expected points of a sample: the compact form written by hand (see testdata/README.md).
    func expected(_ name: String) throws -> [MetricPoint] {
        struct Expected: Decodable {
            var name, unit, function, kind: String
            var labels: [String: String]
            var time_unix_nano: UInt64
            var value: Double
        }
        return try JSONDecoder().decode([Expected].self, from: data(name)).map { e in
            MetricPoint(
                name: e.name, unit: e.unit, function: e.function, kind: e.kind == "counter" ? .deltaSum : .gauge,
                isMonotonic: e.kind == "counter", labels: e.labels.map { Label($0.key, $0.value) },
                timeUnixNano: e.time_unix_nano, value: e.value)
        }
    }
}
