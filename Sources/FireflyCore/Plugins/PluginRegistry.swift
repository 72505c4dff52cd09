import Foundation

/// Every plugin found in `plugins.paths`, by name, and every file that failed to load.
public struct PluginRegistry: Sendable {
    public private(set) var plugins: [String: PluginLibrary] = [:]
    public private(set) var problems: [PluginLoadError] = []
    /// Directories that were scanned (missing ones are skipped: `./plugins.d` is optional).
    public private(set) var scanned: [String] = []

    public init() {}

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
                problems.append(PluginLoadError(file: file, message: "plugin '\(library.name)' is already provided by \(existing.file)"))
                return
            }
            plugins[library.name] = library
        } catch {
            problems.append(error)
        }
    }
}
