/// A Lambda function's instruction set, which sets its compute price.
public enum LambdaArchitecture: String, CaseIterable, Sendable {
    case x86_64, arm64
}

/// The prices `firefly grafana generate` puts into the cost panels (`pricing:` in firefly.yaml):
/// on-demand list prices in USD, us-east-1 by default. The collector itself does not read them.
public struct PricingConfig: Sendable, Equatable {
    /// Per request.
    public var request: Double = 0.0000002
    /// Per GB-second of x86_64 compute.
    public var x86GBSecond: Double = 0.0000166667
    /// Per GB-second of arm64 compute.
    public var arm64GBSecond: Double = 0.0000133334
    /// The architecture of functions `functions` does not name.
    public var architecture: LambdaArchitecture = .x86_64
    /// Architecture by function name.
    public var functions: [String: LambdaArchitecture] = [:]
    /// Memory assumed for a function no telemetry gives the size of (Lambda's default).
    public var defaultMemoryMB: Int = 128

    public init() {}
}
