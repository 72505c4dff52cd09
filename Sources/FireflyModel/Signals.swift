/// A set of signals — metrics (points), traces (spans), logs (log records and invocations). The raw
/// value uses the plugin ABI's `FIREFLY_SIGNAL_*` bits.
public struct Signals: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let metrics = Signals(rawValue: 0x1)
    public static let traces = Signals(rawValue: 0x2)
    public static let logs = Signals(rawValue: 0x4)
    public static let all: Signals = [.metrics, .traces, .logs]

    /// "metrics, traces", in that order.
    public var description: String {
        [(Signals.metrics, "metrics"), (.traces, "traces"), (.logs, "logs")].filter { contains($0.0) }.map(\.1).joined(separator: ", ")
    }
}
