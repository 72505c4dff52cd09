import CFireflyPlugin

/// Log levels a plugin can use; they map to the host's logger.
public enum PluginLogLevel: UInt32, Sendable {
    case debug = 1, info, warning, error
}

/// The host's services for one plugin instance: logging, clock and self-metric counters.
/// Thread-safe; valid for the life of the instance.
public struct PluginContext: @unchecked Sendable {
    /// The instance name from firefly.yaml, e.g. `firehose` or `webhook/github`.
    public let instanceName: String
    private let host: UnsafePointer<firefly_host>?

    init(instanceName: String, host: UnsafePointer<firefly_host>?) {
        self.instanceName = instanceName
        self.host = host
    }

    /// A context that talks to no host, for unit tests of plugin logic.
    public static func standalone(instanceName: String) -> PluginContext {
        PluginContext(instanceName: instanceName, host: nil)
    }

    public func log(_ level: PluginLogLevel, _ message: String) {
        guard let host, let log = host.pointee.log else { return }
        var message = message
        message.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                log(host.pointee.ctx, level.rawValue, firefly_str(ptr: chars.baseAddress, len: chars.count))
            }
        }
    }

    /// Wall-clock time, nanoseconds since the Unix epoch (the host's clock, injectable in tests).
    public func nowUnixNano() -> UInt64 {
        guard let host, let now = host.pointee.now_unix_nano else {
            return UInt64(clock_gettime_nsec_np_fallback())
        }
        return now(host.pointee.ctx)
    }

    /// Adds to the counter `firefly_plugin_<name>_total{labels…, instance}` on the host's /metrics.
    public func count(_ name: String, labels: [(String, String)] = [], by delta: UInt64 = 1) {
        guard let host, let add = host.pointee.counter_add else { return }
        let arena = CArena()
        let kvs = arena.kvArray(labels.map { Label($0.0, $0.1) })
        add(host.pointee.ctx, arena.str(name), kvs, labels.count, delta)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

private func clock_gettime_nsec_np_fallback() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

import FireflyModel
