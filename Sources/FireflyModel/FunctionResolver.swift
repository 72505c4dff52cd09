/// Resolves which serverless function telemetry belongs to, once, at ingest, so storage and
/// dashboards filter on one column.
public enum FunctionResolver {
    /// CloudWatch: the `FunctionName` dimension (Lambda), else empty.
    public static func function(cloudWatchDimensions dimensions: [Label]) -> String {
        dimensions.first { $0.key == "FunctionName" }?.value ?? ""
    }

    /// OpenTelemetry: `faas.name`, falling back to `service.name` (span, then resource attributes).
    public static func function(spanAttributes: [Attribute], resourceAttributes: [Attribute]) -> String {
        for key in ["faas.name", "service.name"] {
            if case .string(let v)? = spanAttributes[key: key], !v.isEmpty { return v }
            if case .string(let v)? = resourceAttributes[key: key], !v.isEmpty { return v }
        }
        return ""
    }
}
