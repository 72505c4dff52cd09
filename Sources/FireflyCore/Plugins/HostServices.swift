import CFireflyPlugin
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The `firefly_host` a plugin instance receives: logging, clock, self-metric counters.
/// Owns the C struct; keep it alive as long as the instance.
final class HostServices: @unchecked Sendable {
    let instanceName: String
    let logger: Logger
    let metrics: SelfMetrics
    let clock: @Sendable () -> UInt64
    let host: UnsafeMutablePointer<firefly_host>

    init(instanceName: String, logger: Logger, metrics: SelfMetrics, clock: @escaping @Sendable () -> UInt64) {
        self.instanceName = instanceName
        var logger = logger
        logger[metadataKey: "firefly.instance"] = "\(instanceName)"
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        host = .allocate(capacity: 1)
        host.initialize(to: firefly_host())
        host.pointee.abi_version = firefly_abi_version
        host.pointee.struct_size = UInt32(MemoryLayout<firefly_host>.size)
        host.pointee.ctx = Unmanaged.passUnretained(self).toOpaque()
        host.pointee.log = { ctx, level, message in
            let services = Unmanaged<HostServices>.fromOpaque(ctx!).takeUnretainedValue()
            let text = message.string
            switch level {
            case FIREFLY_LOG_DEBUG.rawValue: services.logger.debug("\(text)")
            case FIREFLY_LOG_WARNING.rawValue: services.logger.warning("\(text)")
            case FIREFLY_LOG_ERROR.rawValue: services.logger.error("\(text)")
            default: services.logger.info("\(text)")
            }
        }
        host.pointee.now_unix_nano = { ctx in
            Unmanaged<HostServices>.fromOpaque(ctx!).takeUnretainedValue().clock()
        }
        host.pointee.counter_add = { ctx, name, labels, count, delta in
            let services = Unmanaged<HostServices>.fromOpaque(ctx!).takeUnretainedValue()
            var pairs: [(String, String)] = [("instance", services.instanceName)]
            for i in 0..<count { pairs.append((labels![i].key.string, labels![i].value.string)) }
            let metric = "firefly_plugin_" + String(name.string.map { $0.isLetter || $0.isNumber ? $0 : "_" }) + "_total"
            services.metrics.increment(metric, pairs, by: Double(delta))
        }
    }

    deinit {
        host.deinitialize(count: 1)
        host.deallocate()
    }

    static func wallClock() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Creates plugin instances through the C ABI; shared by adapters and exporters.
enum PluginInstantiation {
    /// Calls `create`; on failure returns the plugin's message lines.
    static func create(
        _ library: PluginLibrary, name: String, settingsJSON: String, services: HostServices
    ) -> Result<UnsafeMutableRawPointer, PluginCreateError> {
        let arena = CArena()
        var instance: UnsafeMutableRawPointer?
        var error: UnsafeMutablePointer<CChar>?
        let rc = library.descriptor.pointee.create!(
            UnsafePointer(services.host), arena.str(name), arena.str(settingsJSON), &instance, &error)
        if rc == FIREFLY_OK, let instance { return .success(instance) }
        var message = "create failed"
        if let error {
            message = String(cString: error)
            library.descriptor.pointee.release_string?(error)
        }
        return .failure(PluginCreateError(lines: message.split(separator: "\n").map(String.init)))
    }
}

/// The problems a plugin reported from `create`, one per line (`key.path: message`).
struct PluginCreateError: Error {
    var lines: [String]
}
