/// One problem in the configuration (or with a plugin it names), printed compiler-style:
/// `firefly.yaml:12:7: error: exporters.postgres.url: …`. Messages never contain secret values.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var location: SourceLocation?
    public var path: String
    public var message: String

    public init(file: String, location: SourceLocation?, path: String, message: String) {
        self.file = file
        self.location = location
        self.path = path
        self.message = message
    }

    public var description: String {
        let place = location.map { "\(file):\($0.line):\($0.column)" } ?? file
        return path.isEmpty ? "\(place): error: \(message)" : "\(place): error: \(path): \(message)"
    }
}

/// Every problem found, thrown at once so users fix them all in one round.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
