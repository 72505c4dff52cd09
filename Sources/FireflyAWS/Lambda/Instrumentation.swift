// Adding Firefly's OpenTelemetry instrumentation to a function, and taking it away again: pure planning, no I/O.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `instrument` or `uninstrument` would change on one function: the whole new layer list and
/// environment (Lambda replaces both), and the tags that record or held the previous values.
public struct FunctionChange: Sendable, Equatable {
    public var function: LambdaFunction
    public var layers: [String]
    public var environment: [String: String]
    public var tagsToAdd: [String: String] = [:]
    public var tagsToRemove: [String] = []

    /// The change as a diff: layers and variables added (`+`), removed (`-`), kept (` `). Values of
    /// variables the change does not touch are not shown (they may be secrets).
    public var diff: String {
        var lines = ["--- \(function.name) (now)", "+++ \(function.name) (after)", " Layers:"]
        let kept = Set(function.layers).intersection(layers)
        for layer in function.layers { lines.append((kept.contains(layer) ? "   " : "-  ") + layer) }
        for layer in layers where !kept.contains(layer) { lines.append("+  " + layer) }
        lines.append(" Environment:")
        for name in Set(function.environment.keys).union(environment.keys).sorted() {
            switch (function.environment[name], environment[name]) {
            case (let old?, let new?) where old == new: lines.append("   \(name)=…")
            case (let old?, let new?):
                lines.append("-  \(name)=\(old)")
                lines.append("+  \(name)=\(new)")
            case (let old?, nil): lines.append("-  \(name)=\(old)")
            case (nil, let new?): lines.append("+  \(name)=\(new)")
            case (nil, nil): break
            }
        }
        if !tagsToAdd.isEmpty || !tagsToRemove.isEmpty {
            lines.append(" Tags:")
            for key in tagsToRemove.sorted() { lines.append("-  \(key)") }
            for key in tagsToAdd.keys.sorted() { lines.append("+  \(key)=\(tagsToAdd[key]!)") }
        }
        return lines.joined(separator: "\n")
    }

    public var changesConfiguration: Bool { layers != function.layers || environment != function.environment }
}

/// Why a function is left as it is.
public struct InstrumentationRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var function: String
    public var reason: String
    public var description: String { "\(function): \(reason); nothing changed" }
}

/// Plans instrumentation that keeps every existing layer and variable, and its exact undoing.
///
/// The previous values of the variables Firefly sets (nil when absent) and the layer it adds are
/// recorded as base64 JSON in the function's tags `firefly:restore:0`, `…:1` (256 characters
/// each, Lambda's limit for a tag value; base64 is within the characters tag values allow), so
/// `uninstrument` needs nothing but the function itself.
public enum Instrumentation {
    public static let tagPrefix = "firefly:restore:"
    /// Lambda's limits.
    public static let maxLayers = 5
    public static let maxEnvironmentBytes = 4096
    public static let maxTags = 50
    static let tagValueLength = 256

    /// The variables Firefly sets, for a runtime's wrapper and the collector's OTLP endpoint.
    public static func variables(wrapper: String, endpoint: String) -> [String: String] {
        [
            "AWS_LAMBDA_EXEC_WRAPPER": wrapper,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_PROPAGATORS": "tracecontext,baggage,xray",
        ]
    }

    struct Record: Codable, Equatable {
        var v: Int
        var layer: String
        /// Variable → its value before (nil: it did not exist).
        var env: [String: String?]
    }

    public static func instrument(
        _ function: LambdaFunction, tags: [String: String], endpoint: String, layer override: String?, region: String
    ) throws(InstrumentationRefusal) -> FunctionChange {
        func refuse(_ reason: String) -> InstrumentationRefusal { InstrumentationRefusal(function: function.name, reason: reason) }
        if tags.keys.contains(where: { $0.hasPrefix(tagPrefix) }) {
            throw refuse("already instrumented by firefly (run `firefly aws uninstrument \(function.name)` first)")
        }
        guard let runtime = function.runtime else {
            throw refuse("a container image function: add OpenTelemetry to the image instead")
        }
        guard let entry = OTelLayerTable.entry(runtime: runtime) else {
            let known = OTelLayerTable.entries.flatMap(\.runtimes).joined(separator: ", ")
            throw refuse("runtime \(runtime) has no OpenTelemetry Lambda layer in firefly's table (\(known))")
        }
        let layer: String
        if let override {
            layer = override
        } else {
            switch OTelLayerTable.layerARN(runtime: runtime, architecture: function.architecture, region: region) {
            case .success(let arn): layer = arn
            case .failure(.region): throw refuse("no OpenTelemetry layer is published in \(region); pass --layer ARN")
            case .failure(.architecture): throw refuse("no OpenTelemetry layer for \(function.architecture); pass --layer ARN")
            case .failure(.runtime): throw refuse("runtime \(runtime) has no OpenTelemetry layer")
            }
        }
        if let other = function.layers.first(where: { OTelLayerTable.isOpenTelemetryLayer($0) || $0 == layer }) {
            throw refuse("already has the OpenTelemetry layer \(other)")
        }
        if let wrapper = function.environment["AWS_LAMBDA_EXEC_WRAPPER"], wrapper != entry.wrapper {
            throw refuse("AWS_LAMBDA_EXEC_WRAPPER is already \(wrapper) (another tool wraps this function)")
        }
        if function.layers.count + 1 > maxLayers {
            throw refuse("has \(function.layers.count) layers and Lambda allows \(maxLayers)")
        }
        let ours = variables(wrapper: entry.wrapper, endpoint: endpoint)
        var environment = function.environment
        var previous: [String: String?] = [:]
        for (name, value) in ours {
            previous[name] = .some(function.environment[name])
            environment[name] = value
        }
        let size = environmentBytes(environment)
        if size > maxEnvironmentBytes {
            throw refuse("its environment would be \(size) bytes and Lambda allows \(maxEnvironmentBytes)")
        }
        let record = Record(v: 1, layer: layer, env: previous)
        let encoded = ((try? JSONEncoder.sorted.encode(record)) ?? Data()).base64EncodedString()
        var recordTags: [String: String] = [:]
        var rest = Substring(encoded)
        while !rest.isEmpty {
            recordTags["\(tagPrefix)\(recordTags.count)"] = String(rest.prefix(tagValueLength))
            rest = rest.dropFirst(tagValueLength)
        }
        if tags.count + recordTags.count > maxTags {
            throw refuse("has \(tags.count) tags; recording its configuration needs \(recordTags.count) more and Lambda allows \(maxTags)")
        }
        return FunctionChange(function: function, layers: function.layers + [layer], environment: environment, tagsToAdd: recordTags)
    }

    /// The change that puts back what `instrument` recorded in `tags`: the added layer removed, each
    /// variable set back to its previous value or removed. Changes made since to other layers and
    /// variables are kept.
    public static func uninstrument(_ function: LambdaFunction, tags: [String: String]) throws(InstrumentationRefusal) -> FunctionChange {
        func refuse(_ reason: String) -> InstrumentationRefusal { InstrumentationRefusal(function: function.name, reason: reason) }
        let keys = tags.keys.filter { $0.hasPrefix(tagPrefix) }
        guard !keys.isEmpty else { throw refuse("not instrumented by firefly (no \(tagPrefix)* tags)") }
        var encoded = ""
        for index in 0..<keys.count {
            guard let part = tags["\(tagPrefix)\(index)"] else { throw refuse("the \(tagPrefix)* tags are incomplete (no \(tagPrefix)\(index))") }
            encoded += part
        }
        guard let data = Data(base64Encoded: encoded), let record = try? JSONDecoder().decode(Record.self, from: data), record.v == 1 else {
            throw refuse("the \(tagPrefix)* tags do not hold a configuration firefly wrote")
        }
        var layers = function.layers
        if let index = layers.lastIndex(of: record.layer) { layers.remove(at: index) }
        var environment = function.environment
        for (name, value) in record.env {
            if let value { environment[name] = value } else { environment.removeValue(forKey: name) }
        }
        return FunctionChange(function: function, layers: layers, environment: environment, tagsToRemove: keys.sorted())
    }

    /// Lambda measures the environment as its JSON text: `{"NAME":"value",…}`.
    public static func environmentBytes(_ environment: [String: String]) -> Int {
        JSONEncoder.sortedBytes(environment).count
    }
}

extension JSONEncoder {
    /// `value` as JSON with sorted keys and unescaped slashes (empty if it cannot be encoded).
    static func sortedBytes(_ value: some Encodable) -> [UInt8] {
        Array((try? sorted.encode(value)) ?? Data())
    }

    fileprivate static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
