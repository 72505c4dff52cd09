import CFireflyPlugin
import FireflyModel
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Builds the C descriptor (`firefly_plugin`) for a Swift plugin type: the glue between the C ABI
/// and `AdapterPlugin` / `ExporterPlugin`, so Swift plugin authors never touch C.
///
/// A plugin's entry module holds exactly one line of glue:
///
///     @_cdecl("firefly_plugin_v1")
///     public func fireflyPluginV1() -> UnsafeRawPointer { PluginExport.exporter(MyExporter.self) }
public enum PluginExport {
    // One plugin type per shared object: the C callbacks cannot capture, so they read these.
    nonisolated(unsafe) private static var descriptor: UnsafeMutablePointer<firefly_plugin>?
    nonisolated(unsafe) fileprivate static var adapterType: (any AdapterPlugin.Type)?
    nonisolated(unsafe) fileprivate static var exporterType: (any ExporterPlugin.Type)?
    private static let lock = Mutex(())

    /// The descriptor for an adapter type.
    public static func adapter(_ type: any AdapterPlugin.Type) -> UnsafeRawPointer {
        lock.withLock { _ in
            if descriptor == nil {
                adapterType = type
                descriptor = makeDescriptor(
                    kind: FIREFLY_PLUGIN_ADAPTER, name: type.pluginName, version: type.pluginVersion,
                    description: type.pluginDescription, signals: type.signals)
                descriptor!.pointee.routes = adapterRoutes
                descriptor!.pointee.handle = adapterHandle
                descriptor!.pointee.release_response = adapterReleaseResponse
                descriptor!.pointee.reject = adapterReject
                descriptor!.pointee.start = adapterStart
                descriptor!.pointee.stop = adapterStop
                descriptor!.pointee.authorize = adapterAuthorize
            }
            return UnsafeRawPointer(descriptor!)
        }
    }

    /// The descriptor for an exporter type.
    public static func exporter(_ type: any ExporterPlugin.Type) -> UnsafeRawPointer {
        lock.withLock { _ in
            if descriptor == nil {
                exporterType = type
                descriptor = makeDescriptor(
                    kind: FIREFLY_PLUGIN_EXPORTER, name: type.pluginName, version: type.pluginVersion,
                    description: type.pluginDescription, signals: type.signals)
                descriptor!.pointee.export_batch = exporterExport
                descriptor!.pointee.flush = exporterFlush
            }
            return UnsafeRawPointer(descriptor!)
        }
    }

    private static func makeDescriptor(
        kind: firefly_plugin_kind, name: String, version: String, description: String, signals: Signals
    ) -> UnsafeMutablePointer<firefly_plugin> {
        let d = UnsafeMutablePointer<firefly_plugin>.allocate(capacity: 1)
        d.initialize(to: firefly_plugin())
        d.pointee.abi_version = firefly_abi_version
        d.pointee.struct_size = UInt32(MemoryLayout<firefly_plugin>.size)
        d.pointee.kind = kind.rawValue
        d.pointee.name = UnsafePointer(strdup(name))
        d.pointee.version = UnsafePointer(strdup(version))
        d.pointee.description = UnsafePointer(strdup(description))
        d.pointee.signals = signals.rawValue
        d.pointee.create = pluginCreate
        d.pointee.release_string = { free($0) }
        d.pointee.destroy = pluginDestroy
        return d
    }
}

/// Blocks the calling (host, non-async) thread until an async operation finishes.
private func runBlocking(_ operation: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        await operation()
        done.signal()
    }
    done.wait()
}

private final class AdapterPluginInstance {
    let plugin: any AdapterPlugin
    let routeArena = CArena()
    let routes: UnsafePointer<firefly_route>?
    let routeCount: Int

    init(plugin: any AdapterPlugin) {
        self.plugin = plugin
        let r = plugin.routes
        let arena = routeArena
        routes = arena.array(r.map { firefly_route(method: arena.str($0.method), path: arena.str($0.path)) })
        routeCount = r.count
    }
}

private final class ExporterPluginInstance {
    let plugin: any ExporterPlugin
    init(plugin: any ExporterPlugin) { self.plugin = plugin }
}

/// Adapts the host's C sink to `TelemetrySink`.
private struct HostSink: TelemetrySink, @unchecked Sendable {
    let sink: UnsafePointer<firefly_sink>

    func emit(_ batch: TelemetryBatch) -> EmitStatus {
        let arena = CArena(chunkSize: 64 * 1024)
        return withExtendedLifetime(arena) { emit(BatchBridge.cBatch(batch, in: arena)) }
    }

    func emit(_ batch: UnsafePointer<firefly_batch>) -> EmitStatus {
        guard let emit = sink.pointee.emit else { return .invalid }
        var retryAfter: UInt32 = 0
        let status = emit(sink.pointee.ctx, batch, &retryAfter)
        switch status {
        case FIREFLY_EMIT_OK.rawValue: return .ok
        case FIREFLY_EMIT_BUSY.rawValue: return .busy(retryAfterMilliseconds: retryAfter)
        case FIREFLY_EMIT_CLOSED.rawValue: return .closed(retryAfterMilliseconds: retryAfter)
        default: return .invalid
        }
    }
}

private let pluginCreate: @convention(c) (
    UnsafePointer<firefly_host>?, firefly_str, firefly_str,
    UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 = { host, name, config, instanceOut, errorOut in
    func fail(_ message: String) -> Int32 {
        errorOut?.pointee = strdup(message)
        return FIREFLY_ERROR
    }
    let context = PluginContext(instanceName: name.string, host: host)
    do {
        let reader = try PluginConfig(json: config.string)
        if let type = PluginExport.adapterType {
            let plugin = try type.init(context: context, config: reader)
            instanceOut?.pointee = Unmanaged.passRetained(AdapterPluginInstance(plugin: plugin)).toOpaque()
        } else if let type = PluginExport.exporterType {
            let plugin = try type.init(context: context, config: reader)
            instanceOut?.pointee = Unmanaged.passRetained(ExporterPluginInstance(plugin: plugin)).toOpaque()
        } else {
            return fail("plugin has no registered type")
        }
        return FIREFLY_OK
    } catch let error as PluginConfigError {
        return fail(error.description)
    } catch let error as DecodingError {
        return fail("configuration is not valid JSON: \(error)")
    } catch {
        return fail("\(error)")
    }
}

private let pluginDestroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
    guard let instance else { return }
    if PluginExport.exporterType != nil {
        let box = Unmanaged<ExporterPluginInstance>.fromOpaque(instance).takeRetainedValue()
        let plugin = box.plugin
        runBlocking { await plugin.shutdown() }
    } else {
        Unmanaged<AdapterPluginInstance>.fromOpaque(instance).release()
    }
}

private let adapterRoutes: @convention(c) (
    UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafePointer<firefly_route>?>?, UnsafeMutablePointer<Int>?
) -> Int32 = { instance, routesOut, countOut in
    guard let instance else { return FIREFLY_ERROR }
    let box = Unmanaged<AdapterPluginInstance>.fromOpaque(instance).takeUnretainedValue()
    routesOut?.pointee = box.routes
    countOut?.pointee = box.routeCount
    return FIREFLY_OK
}

private final class ResponseStorage {
    let arena = CArena(chunkSize: 4096)
}

private let adapterHandle: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<firefly_http_request>?, UnsafePointer<firefly_sink>?,
    UnsafeMutablePointer<firefly_http_response>?
) -> Void = { instance, request, sink, response in
    guard let instance, let request, let sink, let response else { return }
    let box = Unmanaged<AdapterPluginInstance>.fromOpaque(instance).takeUnretainedValue()
    fill(response, with: box.plugin.handle(swiftRequest(request.pointee), sink: HostSink(sink: sink)))
}

private func swiftRequest(_ r: firefly_http_request) -> PluginRequest {
    let headers = BatchBridge.buffer(r.headers, r.header_count).map { (name: $0.key.string, value: $0.value.string) }
    return PluginRequest(
        method: r.method.string, path: r.path.string, query: r.query.string, headers: headers,
        body: r.body.array, remoteAddress: r.remote_address.string)
}

private let adapterReject: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<firefly_http_request>?, UInt32, firefly_str,
    UnsafeMutablePointer<firefly_http_response>?
) -> Void = { instance, request, status, message, response in
    guard let instance, let request, let response else { return }
    let box = Unmanaged<AdapterPluginInstance>.fromOpaque(instance).takeUnretainedValue()
    fill(response, with: box.plugin.reject(swiftRequest(request.pointee), status: Int(status), message: message.string))
}

private let adapterAuthorize: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<firefly_http_request>?, UnsafeMutablePointer<firefly_http_response>?
) -> Int32 = { instance, request, response in
    guard let instance, let request, let response else { return 0 }
    let box = Unmanaged<AdapterPluginInstance>.fromOpaque(instance).takeUnretainedValue()
    guard let refusal = box.plugin.authorize(swiftRequest(request.pointee)) else { return 0 }
    fill(response, with: refusal)
    return 1
}

private func fill(_ response: UnsafeMutablePointer<firefly_http_response>, with answer: PluginResponse) {
    let storage = ResponseStorage()
    response.pointee.status = UInt32(clamping: answer.status)
    response.pointee.content_type = storage.arena.str(answer.contentType)
    response.pointee.headers = storage.arena.kvArray(answer.headers.map { ($0.name, $0.value) })
    response.pointee.header_count = answer.headers.count
    response.pointee.body = storage.arena.bytes(answer.body)
    response.pointee.owner = Unmanaged.passRetained(storage).toOpaque()
}

private let adapterReleaseResponse: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<firefly_http_response>?) -> Void = {
    _, response in
    guard let response, let owner = response.pointee.owner else { return }
    Unmanaged<ResponseStorage>.fromOpaque(owner).release()
    response.pointee.owner = nil
}

/// The host's completion callback and context, carried into the export task.
private struct Completion: @unchecked Sendable {
    let done: firefly_export_done
    let ctx: UnsafeMutableRawPointer?

    func callAsFunction(_ result: ExportResult) {
        var message: String
        let code: firefly_export_result
        var retryAfter: UInt32 = 0
        switch result {
        case .ok:
            code = FIREFLY_EXPORT_OK
            message = ""
        case .retryable(let after, let m):
            code = FIREFLY_EXPORT_RETRYABLE
            message = m
            if let after {
                let ms = after.components.seconds * 1000 + after.components.attoseconds / 1_000_000_000_000_000
                retryAfter = UInt32(clamping: ms)
            }
        case .permanent(let m):
            code = FIREFLY_EXPORT_PERMANENT
            message = m
        }
        message.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in
                done(ctx, code.rawValue, retryAfter, firefly_str(ptr: chars.baseAddress, len: chars.count))
            }
        }
    }
}

private let exporterExport: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<firefly_batch>?, firefly_export_done?, UnsafeMutableRawPointer?
) -> Void = { instance, batch, done, doneCtx in
    guard let done else { return }
    let complete = Completion(done: done, ctx: doneCtx)
    guard let instance, let batch else {
        complete(.permanent(message: "no batch"))
        return
    }
    let plugin = Unmanaged<ExporterPluginInstance>.fromOpaque(instance).takeUnretainedValue().plugin
    if let result = plugin.exportWithoutConversion(batch) {
        complete(result)
        return
    }
    let telemetry: TelemetryBatch
    do {
        telemetry = try BatchBridge.telemetry(from: batch)
    } catch {
        complete(.permanent(message: "\(error)"))
        return
    }
    Task.detached {
        complete(await plugin.export(telemetry))
    }
}

private let exporterFlush: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
    guard let instance else { return }
    let plugin = Unmanaged<ExporterPluginInstance>.fromOpaque(instance).takeUnretainedValue().plugin
    runBlocking { await plugin.flush() }
}

private let adapterStart: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<firefly_sink>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 = { instance, sink, errorOut in
    guard let instance, let sink else { return FIREFLY_ERROR }
    let box = Unmanaged<AdapterPluginInstance>.fromOpaque(instance).takeUnretainedValue()
    do {
        try box.plugin.start(sink: HostSink(sink: sink))
        return FIREFLY_OK
    } catch {
        errorOut?.pointee = strdup("\(error)")
        return FIREFLY_ERROR
    }
}

private let adapterStop: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<AdapterPluginInstance>.fromOpaque(instance).takeUnretainedValue().plugin.stop()
}
