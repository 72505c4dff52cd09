public import CFireflyPlugin
public import FireflyModel

/// A route an adapter serves: an exact path and a method.
public struct Route: Sendable, Hashable {
    public var method: String
    public var path: String

    public init(_ method: String, _ path: String) {
        self.method = method
        self.path = path
    }
}

/// An HTTP request as an adapter sees it: body already decompressed and size-checked by the host,
/// header names lowercase.
public struct PluginRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var remoteAddress: String

    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [],
        body: [UInt8] = [], remoteAddress: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The first value of a header (name compared case-insensitively).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }
}

/// An adapter's answer.
public struct PluginResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, contentType: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }
}

/// The outcome of handing a batch to the collector.
public enum EmitStatus: Sendable, Equatable {
    /// In the queue: safe to acknowledge the sender.
    case ok
    /// The queue is over its budget: answer 503 / 429 with `Retry-After`.
    case busy(retryAfterMilliseconds: UInt32)
    /// The collector rejected the batch as malformed (a bug in the adapter).
    case invalid
    /// The collector is shutting down: answer 503.
    case closed(retryAfterMilliseconds: UInt32)
}

/// Where an adapter delivers telemetry. `emit` blocks until the batch is durable.
public protocol TelemetrySink: Sendable {
    func emit(_ batch: TelemetryBatch) -> EmitStatus

    /// Delivers a batch already in the C ABI's form, for receivers that build `firefly_batch`
    /// themselves (no Swift values in between). The batch and what it points to need only live
    /// for the call. Default: converts it with `BatchBridge.telemetry(from:)` (`.invalid` when it
    /// cannot be read) and calls the Swift `emit`, so a test sink sees what the host would store.
    func emit(_ batch: UnsafePointer<firefly_batch>) -> EmitStatus
}

extension TelemetrySink {
    public func emit(_ batch: UnsafePointer<firefly_batch>) -> EmitStatus {
        do {
            return emit(try BatchBridge.telemetry(from: batch))
        } catch {
            return .invalid
        }
    }
}

/// A receiver plugin: serves HTTP routes and turns requests into telemetry.
///
/// Conform one type and export it with one line in the plugin's entry module:
///
///     @_cdecl("firefly_plugin_v1")
///     public func fireflyPluginV1() -> UnsafeRawPointer { PluginExport.adapter(MyAdapter.self) }
public protocol AdapterPlugin: AnyObject, Sendable {
    /// The name users write in `plugin:`.
    static var pluginName: String { get }
    static var pluginVersion: String { get }
    static var pluginDescription: String { get }
    /// The signals this adapter emits; `firefly check` refuses pipelines of other signals naming it.
    static var signals: Signals { get }

    /// Validates the configuration and prepares the instance; no network I/O here
    /// (`firefly check` creates instances too). Throw `PluginConfigError` listing every problem.
    init(context: PluginContext, config: PluginConfig) throws

    /// The routes this instance serves.
    var routes: [Route] { get }

    /// Answers one request; runs on a host worker thread and may block in `sink.emit`.
    func handle(_ request: PluginRequest, sink: any TelemetrySink) -> PluginResponse

    /// Decides on the headers alone, before the host reads the body: `nil` lets the request go on,
    /// a response (e.g. 401 for a missing or wrong credential) answers at once and the body is never
    /// read. Runs on an event loop: must not block. `request.body` is empty. Default: `nil`.
    func authorize(_ request: PluginRequest) -> PluginResponse?

    /// Formats an error the host found before `handle` (413 too large, 400 bad gzip, 415 unknown
    /// encoding) in the adapter's protocol. `request.body` is empty.
    func reject(_ request: PluginRequest, status: Int, message: String) -> PluginResponse

    /// Starts listeners of the plugin's own (e.g. another port) when the collector starts serving;
    /// `sink` stays valid until `stop()` returns. Throw to refuse to start (the message is shown).
    func start(sink: any TelemetrySink) throws

    /// Stops what `start` started; afterwards the plugin must not call the sink.
    func stop()
}

extension AdapterPlugin {
    public func start(sink: any TelemetrySink) throws {}
    public func stop() {}
    public func authorize(_ request: PluginRequest) -> PluginResponse? { nil }

    /// Default: `{"errorMessage": "..."}`.
    public func reject(_ request: PluginRequest, status: Int, message: String) -> PluginResponse {
        PluginResponse(status: status, contentType: "application/json", body: Array(JSONText.object(["errorMessage": message]).utf8))
    }
}

/// JSON text helpers (defined in FireflyModel, shared by the collector and plugins).
public typealias JSONText = FireflyModel.JSONText
