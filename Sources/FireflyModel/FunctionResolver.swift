/// Resolves which serverless function telemetry belongs to, once, at ingest, so storage and
/// dashboards filter on one column.
public enum FunctionResolver {
    /// CloudWatch: the `FunctionName` dimension (Lambda), else empty.
    public static func function(cloudWatchDimensions dimensions: [Label]) -> String {
        dimensions.first { $0.key == "FunctionName" }?.value ?? ""
    }

    /// The OpenTelemetry attributes that name the function, in order of preference. For each, the
    /// span's first attribute of that key is looked at, then the resource's; the first that is a
    /// non-empty string wins. (Receivers that build C batches apply the same rule to C attributes.)
    public static let functionKeys = ["faas.name", "service.name"]

    /// OpenTelemetry: `faas.name`, falling back to `service.name` (span, then resource attributes).
    public static func function(spanAttributes: [Attribute], resourceAttributes: [Attribute]) -> String {
        for key in functionKeys {
            if case .string(let v)? = spanAttributes[key: key], !v.isEmpty { return v }
            if case .string(let v)? = resourceAttributes[key: key], !v.isEmpty { return v }
        }
        return ""
    }
}
