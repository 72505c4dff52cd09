public import FireflyPluginKit

/// The `firehose` receiver's configuration (every key is documented in the plugin's README).
public struct FirehoseSettings: Sendable, Equatable {
    /// The route Firehose posts to; GET and HEAD on it answer 200 for load-balancer health checks.
    public var path = "/firehose"
    /// Accepted values of `X-Amz-Firehose-Access-Key` (several, for rotation); empty means no
    /// authentication. Empty strings are dropped, so an unset `${FIREHOSE_ACCESS_KEY:-}` means none.
    public var accessKeys: [String] = []
    public var recordFormat: RecordFormat = .auto
    /// Answer 400 for a request holding any malformed record instead of accepting the good ones.
    public var rejectMalformedRecords = false
    /// Points (and, separately, log records and invocations) per `sink.emit` call; huge requests
    /// are handed over in chunks of this size.
    public var maxPointsPerEmit = 10_000

    public static let `default` = FirehoseSettings()

    public init() {}

    /// Reads and validates the instance configuration, reporting every problem at once.
    public init(_ config: PluginConfig) throws(PluginConfigError) {
        let d = Self.default
        path = config.string("path", default: d.path)
        if !path.hasPrefix("/") { config.problem("path", "must start with '/', not '\(path)'") }
        if path.contains("?") || path.contains("#") { config.problem("path", "must be a plain path without query or fragment") }
        accessKeys = config.stringList("access_keys", default: d.accessKeys).filter { !$0.isEmpty }
        for (i, key) in accessKeys.enumerated() where key.utf8.count > 4096 {
            config.problem("access_keys[\(i)]", "is longer than Firehose's 4096-byte limit")
        }
        let format = config.choice("record_format", RecordFormat.allCases.map(\.rawValue), default: d.recordFormat.rawValue)
        recordFormat = RecordFormat(rawValue: format) ?? d.recordFormat
        rejectMalformedRecords = config.bool("reject_malformed_records", default: d.rejectMalformedRecords)
        maxPointsPerEmit = config.int("max_points_per_emit", default: d.maxPointsPerEmit, range: 1...1_000_000)
        try config.finish()
    }
}
