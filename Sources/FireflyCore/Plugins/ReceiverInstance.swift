import CFireflyPlugin
import FireflyPluginKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A live receiver: an adapter plugin instance with its routes and its sink into the pipeline.
final class ReceiverInstance: @unchecked Sendable {
    let name: String
    let library: PluginLibrary
    let routes: [Route]
    private let instance: UnsafeMutableRawPointer
    private let services: HostServices
    private let sink: UnsafeMutablePointer<firefly_sink>
    private let sinkTarget: SinkTarget

    /// What the sink delivers to: the pipeline, seen through the receiver's name.
    final class SinkTarget: @unchecked Sendable {
        let receiver: String
        let emit: @Sendable (String, UnsafePointer<firefly_batch>) -> (firefly_emit_status, UInt32)

        init(receiver: String, emit: @escaping @Sendable (String, UnsafePointer<firefly_batch>) -> (firefly_emit_status, UInt32)) {
            self.receiver = receiver
            self.emit = emit
        }
    }

    init(
        name: String, library: PluginLibrary, instance: UnsafeMutableRawPointer, services: HostServices,
        emit: @escaping @Sendable (String, UnsafePointer<firefly_batch>) -> (firefly_emit_status, UInt32)
    ) {
        self.name = name
        self.library = library
        self.instance = instance
        self.services = services
        var routesPtr: UnsafePointer<firefly_route>?
        var count = 0
        _ = library.descriptor.pointee.routes!(instance, &routesPtr, &count)
        var routes: [Route] = []
        for i in 0..<(routesPtr == nil ? 0 : count) {
            routes.append(Route(routesPtr![i].method.string.uppercased(), routesPtr![i].path.string))
        }
        self.routes = routes
        sinkTarget = SinkTarget(receiver: name, emit: emit)
        sink = .allocate(capacity: 1)
        sink.initialize(to: firefly_sink())
        sink.pointee.abi_version = firefly_abi_version
        sink.pointee.struct_size = UInt32(MemoryLayout<firefly_sink>.size)
        sink.pointee.ctx = Unmanaged.passUnretained(sinkTarget).toOpaque()
        sink.pointee.emit = { ctx, batch, retryAfter in
            let target = Unmanaged<SinkTarget>.fromOpaque(ctx!).takeUnretainedValue()
            guard let batch else { return FIREFLY_EMIT_INVALID.rawValue }
            let (status, retry) = target.emit(target.receiver, batch)
            retryAfter?.pointee = retry
            return status.rawValue
        }
    }

    /// Runs the plugin's `handle` (blocking: call it on a worker thread).
    func handle(_ request: PluginRequest) -> PluginResponse {
        call(request) { req, response in
            library.descriptor.pointee.handle!(instance, req, UnsafePointer(sink), response)
            return true
        }!
    }

    /// The plugin's verdict on the headers alone (ABI 1.1 `authorize`): `nil` to read the body and
    /// handle the request, or the answer to send at once. Does not block.
    func authorize(_ request: PluginRequest) -> PluginResponse? {
        guard let authorize = library.descriptor.pointee.authorize else { return nil }
        return call(request) { req, response in authorize(instance, req, response) != 0 }
    }

    /// An error the host found before `handle`, in the adapter's protocol when it offers `reject`.
    func reject(_ request: PluginRequest, status: Int, message: String) -> PluginResponse {
        guard let reject = library.descriptor.pointee.reject else {
            return PluginResponse(status: status, contentType: "application/json", body: Array(JSONText.object(["errorMessage": message]).utf8))
        }
        let arena = CArena()
        let text = arena.str(message)
        return call(request) { req, response in
            reject(instance, req, UInt32(status), text, response)
            return true
        }!
    }

    /// Calls the plugin with `request` in C form; `body` says whether the plugin filled the response
    /// (only a filled response is read and released).
    private func call(
        _ request: PluginRequest,
        _ body: (UnsafePointer<firefly_http_request>, UnsafeMutablePointer<firefly_http_response>) -> Bool
    ) -> PluginResponse? {
        let arena = CArena(chunkSize: 4096)
        var c = firefly_http_request()
        c.abi_version = firefly_abi_version
        c.struct_size = UInt32(MemoryLayout<firefly_http_request>.size)
        c.method = arena.str(request.method)
        c.path = arena.str(request.path)
        c.query = arena.str(request.query)
        c.headers = arena.kvArray(request.headers.map { ($0.name, $0.value) })
        c.header_count = request.headers.count
        c.remote_address = arena.str(request.remoteAddress)
        var response = firefly_http_response()
        response.abi_version = firefly_abi_version
        response.struct_size = UInt32(MemoryLayout<firefly_http_response>.size)
        let filled = request.body.withUnsafeBufferPointer { bytes in
            c.body = firefly_bytes(ptr: bytes.baseAddress, len: bytes.count)
            return withUnsafePointer(to: &c) { req in body(req, &response) }
        }
        guard filled else { return nil }
        let answer = PluginResponse(
            status: Int(response.status), contentType: response.content_type.string,
            headers: BatchBridge.buffer(response.headers, response.header_count).map { (name: $0.key.string, value: $0.value.string) },
            body: response.body.array)
        library.descriptor.pointee.release_response!(instance, &response)
        return answer
    }

    /// Starts the plugin's own listeners, if it has any; throws the plugin's message.
    func start() throws(PluginCreateError) {
        guard let start = library.descriptor.pointee.start else { return }
        var error: UnsafeMutablePointer<CChar>?
        if start(instance, UnsafePointer(sink), &error) != FIREFLY_OK {
            var message = "start failed"
            if let error {
                message = String(cString: error)
                library.descriptor.pointee.release_string?(error)
            }
            throw PluginCreateError(lines: [message])
        }
    }

    /// Blocking: stops the plugin's own listeners.
    func stop() {
        library.descriptor.pointee.stop?(instance)
    }

    func destroy() {
        library.descriptor.pointee.destroy!(instance)
        sink.deinitialize(count: 1)
        sink.deallocate()
    }
}
