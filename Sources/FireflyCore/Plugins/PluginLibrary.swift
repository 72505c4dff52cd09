import CFireflyPlugin
public import FireflyModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a plugin is for.
public enum PluginKind: String, Sendable {
    case adapter, exporter
}

/// A plugin shared object that loaded and passed every ABI check.
public final class PluginLibrary: @unchecked Sendable {
    public let file: String
    public let name: String
    public let version: String
    public let summary: String
    public let kind: PluginKind
    /// What an adapter emits, what an exporter accepts.
    public let signals: Signals
    /// `major.minor` of the ABI the plugin was built against.
    public let abi: String
    /// The plugin's descriptor, copied at this ABI's size (libraries are never unloaded).
    let descriptor: UnsafePointer<firefly_plugin>
    private let handle: UnsafeMutableRawPointer

    /// Checks the file's ELF structure against its size (a truncated file would otherwise crash the
    /// process with SIGBUS inside `dlopen`), loads it with `dlopen(RTLD_NOW | RTLD_LOCAL)` and checks
    /// its descriptor; throws a message naming the file on any problem. The library stays loaded for
    /// the life of the process (plugins may have started threads that unloading would pull the code
    /// from under).
    public init(file: String) throws(PluginLoadError) {
        self.file = file
        do {
            try ELFFileCheck.check(path: file)
        } catch {
            throw PluginLoadError(file: file, message: "cannot load: \(error.description)")
        }
        LibraryDefaults.apply()
        guard let handle = dlopen(file, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw PluginLoadError(file: file, message: "cannot load: \(reason)")
        }
        self.handle = handle
        guard let symbol = dlsym(handle, FIREFLY_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError(file: file, message: "not a Firefly plugin: it does not export \(FIREFLY_PLUGIN_ENTRY_SYMBOL)")
        }
        let entry = unsafeBitCast(symbol, to: (@convention(c) () -> UnsafePointer<firefly_plugin>?).self)
        guard let d = entry() else {
            throw PluginLoadError(file: file, message: "\(FIREFLY_PLUGIN_ENTRY_SYMBOL)() returned no descriptor")
        }
        // abi_version and struct_size come first in every ABI version, so they are always safe to read.
        let version = d.pointee.abi_version
        let theirs = "\(version >> 16).\(version & 0xFFFF)"
        let ours = "\(FIREFLY_ABI_MAJOR).\(FIREFLY_ABI_MINOR)"
        guard version >> 16 == FIREFLY_ABI_MAJOR else {
            throw PluginLoadError(file: file, message: "built for plugin ABI \(theirs), but this collector speaks ABI \(ours); rebuild the plugin against firefly_plugin.h \(ours)")
        }
        guard Int(d.pointee.struct_size) >= firefly_plugin_size_1_0 else {
            throw PluginLoadError(file: file, message: "descriptor is \(d.pointee.struct_size) bytes, ABI \(theirs) needs at least \(firefly_plugin_size_1_0)")
        }
        // A plugin built for an older minor version has a shorter descriptor: read only what it has
        // into one of this ABI's size, so the fields a later minor appended read as NULL.
        var p = firefly_plugin()
        withUnsafeMutableBytes(of: &p) { $0.baseAddress!.copyMemory(from: d, byteCount: min(Int(d.pointee.struct_size), $0.count)) }
        guard let namePtr = p.name, case let name = String(cString: namePtr), PluginLibrary.isValidName(name) else {
            throw PluginLoadError(file: file, message: "plugin name must be lowercase letters, digits and '-'")
        }
        let kind: PluginKind
        switch p.kind {
        case FIREFLY_PLUGIN_ADAPTER.rawValue:
            kind = .adapter
            guard p.routes != nil, p.handle != nil, p.release_response != nil else {
                throw PluginLoadError(file: file, message: "adapter '\(name)' lacks routes/handle/release_response")
            }
        case FIREFLY_PLUGIN_EXPORTER.rawValue:
            kind = .exporter
            guard p.export_batch != nil else {
                throw PluginLoadError(file: file, message: "exporter '\(name)' lacks export_batch")
            }
        default:
            throw PluginLoadError(file: file, message: "unknown plugin kind \(p.kind)")
        }
        guard p.create != nil, p.destroy != nil, p.release_string != nil else {
            throw PluginLoadError(file: file, message: "plugin '\(name)' lacks create/destroy/release_string")
        }
        let copy = UnsafeMutablePointer<firefly_plugin>.allocate(capacity: 1)
        copy.initialize(to: p)
        self.descriptor = UnsafePointer(copy)
        self.name = name
        self.version = p.version.map { String(cString: $0) } ?? ""
        self.summary = p.description.map { String(cString: $0) } ?? ""
        self.kind = kind
        // 0 — and a descriptor from before ABI 1.2, which ends before the field — means what every
        // plugin handled then.
        self.signals = p.signals == 0 ? [.metrics, .traces] : Signals(rawValue: p.signals).intersection(.all)
        self.abi = theirs
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}

/// A plugin file that could not be used, and why.
public struct PluginLoadError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    /// The plugin's name, when the file got far enough to tell it.
    public var plugin: String? = nil

    public var description: String { "\(file): \(message)" }
}
