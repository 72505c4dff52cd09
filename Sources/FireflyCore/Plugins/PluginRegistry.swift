#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FireflyModel

/// Every plugin found in `plugins.paths`, by name, and every file that failed to load.
public struct PluginRegistry: Sendable {
    public private(set) var plugins: [String: PluginLibrary] = [:]
    public private(set) var problems: [PluginLoadError] = []
    /// Directories that were scanned (missing ones are skipped: `./plugins.d` is optional).
    public private(set) var scanned: [String] = []
    /// Files a scan for a configuration's plugins did not open: their names say they are plugins
    /// the configuration does not use, and every plugin it uses was found in other files.
    public private(set) var notLoaded: [String] = []

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
    ///
    /// With `used` (the plugins a configuration names), only what it needs is loaded: first the
    /// files whose names say they hold one of those plugins (`fileKey`: `libFireflyOTLPPlugin.so`
    /// and `libfirefly-otlp.so` both say `otlp`), then — only if a used plugin is still missing —
    /// every other file. A plugin loaded is mapped for the life of the process, so files nothing
    /// uses are not opened at all (`notLoaded`).
    public static func scan(paths: [String], relativeTo base: String, using used: Set<String>? = nil) -> PluginRegistry {
        var registry = PluginRegistry()
        var files: [String] = []
        for path in paths {
            let dir = path.hasPrefix("/") ? path : PathText.join(base, path)
            var isDir = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir else { continue }
            registry.scanned.append(dir)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
            files += names.map { PathText.join(dir, $0) }
        }
        guard let used else {
            for file in files { registry.load(file: file) }
            return registry
        }
        let wanted = Set(used.map(pluginKey))
        let (named, others) = (files.filter { wanted.contains(fileKey($0)) }, files.filter { !wanted.contains(fileKey($0)) })
        for file in named { registry.load(file: file) }
        if used.isSubset(of: registry.plugins.keys) {
            registry.notLoaded = others
        } else {
            for file in others { registry.load(file: file) }
        }
        return registry
    }

    /// What a plugin file's name says it holds: the name without `lib`, `firefly`, `plugin` and
    /// `.so`, lowercase letters and digits only.
    static func fileKey(_ path: String) -> String {
        var name = Substring((PathText.lastComponent(path) as String).lowercased())
        if name.hasSuffix(".so") { name = name.dropLast(3) }
        if name.hasPrefix("lib") { name = name.dropFirst(3) }
        var key = String(name.filter { $0.isLetter || $0.isNumber })
        if key.hasPrefix("firefly") { key.removeFirst("firefly".count) }
        if key.hasSuffix("plugin") { key.removeLast("plugin".count) }
        return key
    }

    /// A plugin name as `fileKey` writes it (`remote-write` → `remotewrite`).
    static func pluginKey(_ name: String) -> String { String(name.lowercased().filter { $0.isLetter || $0.isNumber }) }

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
