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

        public init(errorRate: Double? = nil, coldStartRate: Double? = nil, iteratorAge: Duration? = nil) {
            self.errorRate = errorRate
            self.coldStartRate = coldStartRate
            self.iteratorAge = iteratorAge
        }
    }

    public var errorRate: Double = 0.05
    public var coldStartRate: Double = 0.2
    public var iteratorAge: Duration = .seconds(60)
    /// Concurrent executions of the whole account above which the account rule fires (80 % of
    /// Lambda's default quota of 1,000).
    public var accountConcurrency: Int = 800
    /// Per-function thresholds, by function name.
    public var functions: [String: Thresholds] = [:]

    public init() {}
}
