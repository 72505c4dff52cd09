public import FireflyWire

/// The thresholds of the alert rules `firefly grafana generate` writes (`alerts:` in firefly.yaml).
/// Every field has a default; `functions` overrides them for single functions.
public struct AlertsConfig: Sendable, Equatable {
    /// Thresholds that can differ per function.
    public struct Thresholds: Sendable, Equatable {
        /// Share of invocations that failed (0–1) above which the error-rate rule fires.
        public var errorRate: Double?
        /// Share of invocations that started cold (0–1).
        public var coldStartRate: Double?
        /// How far behind its stream a function may fall.
        public var iteratorAge: Duration?
        /// The function's configured timeout (Lambda does not report it in its metrics).
        public var timeout: Duration?

        public init(errorRate: Double? = nil, coldStartRate: Double? = nil, iteratorAge: Duration? = nil, timeout: Duration? = nil) {
            self.errorRate = errorRate
            self.coldStartRate = coldStartRate
            self.iteratorAge = iteratorAge
            self.timeout = timeout
        }
    }

    /// Where Grafana sends the rules' notifications (`alerts.contact_point`): one receiver of any
    /// Grafana contact point type, provisioned as contact point `Firefly`.
    public struct ContactPoint: Sendable, Equatable {
        /// Grafana's integration type: `email`, `slack`, `webhook`, `pagerduty`, `teams`, …
        public var type: String
        /// The integration's settings as Grafana reads them (always an object). Values are written
        /// as the file has them: `$NAME` stays for Grafana to read from its own environment.
        public var settings: JSON

        public init(type: String, settings: JSON) {
            self.type = type
            self.settings = settings
        }
    }

    public var errorRate: Double = 0.05
    public var coldStartRate: Double = 0.2
    public var iteratorAge: Duration = .seconds(60)
    /// Concurrent executions of the whole account above which the account rule fires (80 % of
    /// Lambda's default quota of 1,000).
    public var accountConcurrency: Int = 800
    /// The functions' timeout, for the rule on p99 duration; none by default (then only functions
    /// with their own `timeout` get that rule).
    public var timeout: Duration?
    /// Share of its timeout (0–1] a function's p99 duration may reach before the rule fires.
    public var durationNearTimeout: Double = 0.9
    /// Where notifications go; without it Grafana's notification policies route them.
    public var contactPoint: ContactPoint?
    /// Per-function thresholds, by function name.
    public var functions: [String: Thresholds] = [:]

    public init() {}
}
