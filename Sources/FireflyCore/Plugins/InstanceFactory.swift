import FireflyModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Creates receiver and exporter instances from their configuration: finds each instance's plugin,
/// calls its `create`, and turns every refusal into a problem at the file position of the key it is
/// about (`access_keys[1]: must not be empty` → the line of `access_keys`).
struct InstanceFactory {
    let config: FireflyConfig
    let registry: PluginRegistry
    let logger: Logger
    let metrics: SelfMetrics
    /// What could not be created, and why.
    private(set) var problems: [ConfigProblem] = []
    /// The host services of every instance created.
    private(set) var services: [HostServices] = []

    init(config: FireflyConfig, registry: PluginRegistry, logger: Logger, metrics: SelfMetrics) {
        self.config = config
        self.registry = registry
        self.logger = logger
        self.metrics = metrics
    }

    /// The loaded plugin an instance names, if it is of the kind its section needs.
    mutating func library(for instance: InstanceConfig, section: String, kind: PluginKind) -> PluginLibrary? {
        guard let library = registry.plugins[instance.plugin] else {
            var message = "unknown plugin '\(instance.plugin)'"
            if let s = Suggestion.closest(to: instance.plugin, among: registry.plugins.keys) { message += " (did you mean '\(s)'?)" }
            let available = registry.plugins.values.filter { $0.kind == kind }.map(\.name).sorted()
            message += available.isEmpty
                ? "; no \(kind.rawValue) plugins were found in \(config.plugins.paths.joined(separator: ", "))"
                : "; available \(kind.rawValue)s: \(available.joined(separator: ", "))"
            problems.append(ConfigProblem(file: config.file, location: instance.pluginLocation, path: "\(section).\(instance.name).plugin", message: message))
            return nil
        }
        guard library.kind == kind else {
            problems.append(ConfigProblem(
                file: config.file, location: instance.pluginLocation, path: "\(section).\(instance.name).plugin",
                message: "plugin '\(library.name)' (\(library.file)) is an \(library.kind.rawValue), but \(section) need an \(kind.rawValue)"))
            return nil
        }
        return library
    }

    /// A live instance and its host services; nil after recording what the plugin refused.
    mutating func create(_ instance: InstanceConfig, _ library: PluginLibrary, section: String) -> (UnsafeMutableRawPointer, HostServices)? {
        let host = HostServices(instanceName: instance.name, logger: logger, metrics: metrics, clock: HostServices.wallClock)
        switch PluginInstantiation.create(library, name: instance.name, settingsJSON: instance.settingsJSON, services: host) {
        case .success(let pointer):
            services.append(host)
            return (pointer, host)
        case .failure(let error):
            for line in error.lines {
                let (key, message) = Self.splitProblem(line)
                let first = String(key.prefix { $0 != "." && $0 != "[" })
                problems.append(ConfigProblem(
                    file: config.file, location: instance.keyLocations[first] ?? instance.location,
                    path: key.isEmpty ? "\(section).\(instance.name)" : "\(section).\(instance.name).\(key)",
                    message: key.isEmpty ? "plugin '\(library.name)' (\(library.file)): \(message)" : message))
            }
            return nil
        }
    }

    /// `key.path: message` → (key.path, message); lines without a key path → ("", line).
    static func splitProblem(_ line: String) -> (String, String) {
        guard let colon = line.firstRange(of: ": ") else { return ("", line) }
        let key = line[..<colon.lowerBound]
        guard !key.isEmpty, !key.contains(" ") else { return ("", line) }
        return (String(key), String(line[colon.upperBound...]))
    }
}
