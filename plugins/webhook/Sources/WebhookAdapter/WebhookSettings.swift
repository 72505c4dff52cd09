import FireflyPluginKit

/// A `webhook` receiver's keys in firefly.yaml (every key is documented in the plugin's README).
struct WebhookSettings {
    /// `path`: where the sender POSTs; `/webhook/<suffix>` for an instance named `webhook/<suffix>`.
    let path: String
    /// `auth`: how a delivery proves where it comes from.
    let auth: WebhookAuth
    /// `metrics`: how events become metric points.
    let metrics: [MetricMapping]

    /// Reads and checks every key; throws every problem at once.
    init(instanceName: String, config: PluginConfig) throws {
        let suffix = instanceName.split(separator: "/", maxSplits: 1).dropFirst().first.map { "/\($0)" } ?? ""
        path = config.string("path", default: "/webhook\(suffix)")
        if !path.hasPrefix("/") || path.contains(where: { $0 == " " || $0 == "?" || $0 == "#" }) {
            config.problem("path", "must start with '/' and contain no spaces, '?' or '#'")
        }
        auth = WebhookAuth(config: config.object("auth"))
        let entries = config.objectList("metrics")
        if entries.isEmpty { config.problem("metrics", "at least one metric mapping is required") }
        metrics = entries.enumerated().map { MetricMapping(config: $1, location: "metrics[\($0)]") }
        try config.finish()
    }
}
