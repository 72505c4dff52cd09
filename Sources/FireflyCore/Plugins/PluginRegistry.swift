import Foundation

/// Every plugin found in `plugins.paths`, by name, and every file that failed to load.
public struct PluginRegistry: Sendable {
    public private(set) var plugins: [String: PluginLibrary] = [:]
    public private(set) var problems: [PluginLoadError] = []
    /// Directories that were scanned (missing ones are skipped: `./plugins.d` is optional).
    public private(set) var scanned: [String] = []

    public init() {}

    /// The problems that can matter to a configuration using plugins `used`, and the rest. A file
    /// that failed to load might have been any plugin, so it matters only while a used plugin is
    /// missing; a second copy of a plugin matters only when that plugin is used. The rest are
    /// files in a plugin directory that nothing uses: worth a warning, never a refusal to start.
    public func problems(using used: Set<String>) -> (relevant: [PluginLoadError], ignorable: [PluginLoadError]) {
        let missing = !used.isSubset(of: plugins.keys)
        var relevant: [PluginLoadError] = [], ignorable: [PluginLoadError] = []
        for problem in problems {
            let matters = problem.plugin.map { used.contains($0) } ?? missing
            if matters { relevant.append(problem) } else { ignorable.append(problem) }
        }
        return (relevant, ignorable)
    }

    /// Loads every `*.so` in the given directories (sorted, so results are reproducible).
    public static func scan(paths: [String], relativeTo base: String) -> PluginRegistry {
        var registry = PluginRegistry()
        for path in paths {
            let dir = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            registry.scanned.append(dir)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
            for file in files {
                registry.load(file: (dir as NSString).appendingPathComponent(file))
            }
        }
        return registry
    }

    public mutating func load(file: String) {
        do {
            let library = try PluginLibrary(file: file)
            if let existing = plugins[library.name] {
                problems.append(PluginLoadError(file: file, message: "plugin '\(library.name)' is already provided by \(existing.file)", plugin: library.name))
                return
            }
            plugins[library.name] = library
        } catch {
            problems.append(error)
        }
    }
}
