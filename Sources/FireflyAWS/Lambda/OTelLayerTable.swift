// Which OpenTelemetry Lambda layer instruments which runtime: the table `firefly aws instrument` picks from.

/// The OpenTelemetry project's Lambda layers (github.com/open-telemetry/opentelemetry-lambda,
/// published by account 184161586896). The language layers hold the SDK and auto-instrumentation
/// only, with no collector, so with `OTEL_EXPORTER_OTLP_ENDPOINT` set they export straight to
/// Firefly's OTLP receiver; being pure JavaScript / Python they serve both architectures.
///
/// Table as of 2026-12-03. Newer releases appear on the project's releases page; `--layer ARN`
/// overrides the table for one run.
public enum OTelLayerTable {
    public static let asOf = "2026-12-03"
    public static let publisher = "184161586896"

    /// One runtime family's layer.
    public struct Entry: Sendable, Equatable {
        /// Runtime identifiers this layer supports (`nodejs20.x`).
        public var runtimes: [String]
        public var layerName: String
        public var version: Int
        /// The script Lambda runs the runtime through (`AWS_LAMBDA_EXEC_WRAPPER`).
        public var wrapper: String
        public var architectures: [String]
    }

    public static let entries: [Entry] = [
        Entry(
            runtimes: ["nodejs18.x", "nodejs20.x", "nodejs22.x"], layerName: "opentelemetry-nodejs-0_15_0", version: 1, wrapper: "/opt/otel-handler",
            architectures: ["x86_64", "arm64"]),
        Entry(
            runtimes: ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13"], layerName: "opentelemetry-python-0_17_0", version: 1,
            wrapper: "/opt/otel-instrument", architectures: ["x86_64", "arm64"]),
    ]

    /// Commercial regions the project publishes its layers in.
    public static let regions: Set<String> = [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-central-1", "eu-west-1", "eu-west-2",
        "eu-west-3", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    ]

    /// The entry for a runtime, if the table has one.
    public static func entry(runtime: String) -> Entry? { entries.first { $0.runtimes.contains(runtime) } }

    /// The layer version ARN for `runtime` on `architecture` in `region`, or why there is none.
    public static func layerARN(runtime: String, architecture: String, region: String) -> Result<String, LayerLookupFailure> {
        guard let entry = entry(runtime: runtime) else { return .failure(.runtime) }
        guard entry.architectures.contains(architecture) else { return .failure(.architecture) }
        guard regions.contains(region) else { return .failure(.region) }
        return .success("arn:aws:lambda:\(region):\(publisher):layer:\(entry.layerName):\(entry.version)")
    }

    public enum LayerLookupFailure: Error, Sendable { case runtime, architecture, region }

    /// Whether a layer ARN is an OpenTelemetry layer (this table's publisher, or AWS's ADOT layers).
    public static func isOpenTelemetryLayer(_ arn: String) -> Bool {
        let name = arn.split(separator: ":").dropFirst(6).first.map(String.init) ?? ""
        return name.hasPrefix("opentelemetry-") || name.hasPrefix("aws-otel-")
    }
}
