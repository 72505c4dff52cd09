// A Lambda function's configuration, as ListFunctions and GetFunctionConfiguration return it.

/// The parts of a function's configuration `firefly aws` reads or changes.
public struct LambdaFunction: Sendable, Equatable, Decodable {
    public var name: String
    public var arn: String
    /// nil for container-image functions.
    public var runtime: String?
    public var architectures: [String]
    public var memorySize: Int?
    public var packageType: String?
    /// Layer version ARNs, in order.
    public var layers: [String]
    public var environment: [String: String]
    public var revisionID: String?
    /// `InProgress` while an earlier update is being applied (another update would be refused).
    public var lastUpdateStatus: String?

    public init(
        name: String, arn: String, runtime: String?, architectures: [String] = ["x86_64"], memorySize: Int? = 128, layers: [String] = [],
        environment: [String: String] = [:]
    ) {
        self.name = name
        self.arn = arn
        self.runtime = runtime
        self.architectures = architectures
        self.memorySize = memorySize
        self.packageType = "Zip"
        self.layers = layers
        self.environment = environment
    }

    enum CodingKeys: String, CodingKey {
        case name = "FunctionName"
        case arn = "FunctionArn"
        case runtime = "Runtime"
        case architectures = "Architectures"
        case memorySize = "MemorySize"
        case packageType = "PackageType"
        case layers = "Layers"
        case environment = "Environment"
        case revisionID = "RevisionId"
        case lastUpdateStatus = "LastUpdateStatus"
    }

    struct Layer: Decodable { var Arn: String }
    struct Environment: Decodable { var Variables: [String: String]? }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        arn = try c.decode(String.self, forKey: .arn)
        runtime = try c.decodeIfPresent(String.self, forKey: .runtime).flatMap { $0.isEmpty ? nil : $0 }
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures) ?? ["x86_64"]
        memorySize = try c.decodeIfPresent(Int.self, forKey: .memorySize)
        packageType = try c.decodeIfPresent(String.self, forKey: .packageType)
        layers = try c.decodeIfPresent([Layer].self, forKey: .layers)?.map(\.Arn) ?? []
        environment = try c.decodeIfPresent(Environment.self, forKey: .environment)?.Variables ?? [:]
        revisionID = try c.decodeIfPresent(String.self, forKey: .revisionID)
        lastUpdateStatus = try c.decodeIfPresent(String.self, forKey: .lastUpdateStatus)
    }

    /// `x86_64` or `arm64` (Lambda functions have exactly one).
    public var architecture: String { architectures.first ?? "x86_64" }

    /// Whether an OpenTelemetry layer and its wrapper are in place (Firefly's or another tool's).
    public var hasOpenTelemetry: Bool {
        environment["AWS_LAMBDA_EXEC_WRAPPER"] != nil && layers.contains { OTelLayerTable.isOpenTelemetryLayer($0) }
    }
}
