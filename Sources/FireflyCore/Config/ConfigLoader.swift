import FireflyModel
import FireflyWire
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import FireflyYAML

/// Reads `firefly.yaml`: parses YAML keeping line/column marks, expands `${VAR}` and
/// `${VAR:-default}` in values, decodes into `FireflyConfig` and validates it, collecting every
/// problem instead of stopping at the first.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func load(file: String) throws(ConfigError) -> FireflyConfig {
        let (config, problems) = loadCollectingProblems(file: file)
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return config
    }

    public func parse(_ text: String, file: String = "firefly.yaml") throws(ConfigError) -> FireflyConfig {
        let (config, problems) = parseCollectingProblems(text, file: file)
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return config
    }

    /// Like `load`, but returns what could be read together with the problems, so `firefly check`
    /// can go on to check plugins and report everything in one run.
    public func loadCollectingProblems(file: String) -> (FireflyConfig, [ConfigProblem]) {
        let name = PathText.lastComponent(file)
        guard let data = FileManager.default.contents(atPath: file) else {
            return (FireflyConfig(), [ConfigProblem(file: name, location: nil, path: "", message: "cannot read '\(file)'")])
        }
        return parseCollectingProblems(String(decoding: data, as: UTF8.self), file: name)
    }

    public func parseCollectingProblems(_ text: String, file: String = "firefly.yaml") -> (FireflyConfig, [ConfigProblem]) {
        var reader = Reader(file: file, environment: environment)
        var config = FireflyConfig()
        config.file = file
        let root: YAMLNode?
        do {
            // Scalars stay text: Firefly types plain ones itself (`JSON.typed(plainScalar:)`, the
            // readers' own parsing).
            root = try YAMLDocument.compose(EnvironmentReferences.shield(text))
        } catch {
            return (config, [reader.yamlProblem(error)])
        }
        if let root {
            reader.readRoot(root, into: &config)
        } else {
            reader.problem(nil, "", "the file is empty; see docs/configuration.md")
        }
        reader.validate(&config)
        return (config, reader.problems)
    }
}

/// The walk over the YAML tree; accumulates problems.
private struct Reader {
    let file: String
    let environment: [String: String]
    var problems: [ConfigProblem] = []

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    mutating func problem(_ node: YAMLNode?, _ path: String, _ message: String) {
        problems.append(ConfigProblem(file: file, location: node.flatMap(location), path: path, message: message))
    }

    func location(_ node: YAMLNode) -> SourceLocation? {
        SourceLocation(line: node.mark.line, column: node.mark.column)
    }

    func yamlProblem(_ error: YAMLError) -> ConfigProblem {
        ConfigProblem(
            file: file, location: error.mark.map { SourceLocation(line: $0.line, column: $0.column) }, path: "",
            message: "invalid YAML: \(error.problem)")
    }

    // MARK: Helpers over nodes

    /// The mapping's entries with string keys; reports non-mapping nodes and duplicate keys.
    mutating func entries(_ node: YAMLNode, _ path: String) -> [(key: String, keyNode: YAMLNode, value: YAMLNode)]? {
        guard case .mapping(let mapping) = node else {
            problem(node, path, "expected a mapping")
            return nil
        }
        var seen: Set<String> = []
        var out: [(String, YAMLNode, YAMLNode)] = []
        for (k, v) in mapping {
            guard case .scalar(let s) = k else {
                problem(k, path, "keys must be plain strings")
                continue
            }
            if !seen.insert(s.string).inserted {
                problem(k, join(path, s.string), "duplicate key")
                continue
            }
            out.append((s.string, k, v))
        }
        return out
    }

    mutating func unknownKey(_ key: String, _ keyNode: YAMLNode, _ path: String, known: [String]) {
        var message = "unknown key '\(key)'"
        if let s = Suggestion.closest(to: key, among: known) { message += " (did you mean '\(s)'?)" }
        else { message += "; expected one of: \(known.joined(separator: ", "))" }
        problem(keyNode, join(path, key), message)
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// A scalar's text with `${VAR}` / `${VAR:-default}` expanded.
    mutating func scalarText(_ node: YAMLNode, _ path: String) -> String? {
        guard case .scalar(let s) = node else {
            problem(node, path, "expected a single value")
            return nil
        }
        return expand(s.string, node, path)
    }

    mutating func expand(_ shielded: String, _ node: YAMLNode, _ path: String) -> String? {
        let text = EnvironmentReferences.unshield(shielded)
        guard text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                problem(node, path, "unterminated '${' in value")
                return nil
            }
            let inner = rest[start.upperBound..<end]
            let (name, fallback): (Substring, Substring?) =
                if let sep = inner.firstRange(of: ":-") { (inner[..<sep.lowerBound], inner[sep.upperBound...]) } else { (inner, nil) }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                problem(node, path, "invalid environment reference '${\(inner)}'")
                return nil
            }
            if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                problem(node, path, "environment variable \(name) is not set (write ${\(name):-default} for a default)")
                return nil
            }
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    mutating func string(_ node: YAMLNode, _ path: String) -> String? { scalarText(node, path) }

    mutating func int(_ node: YAMLNode, _ path: String, min: Int = 0) -> Int? {
        guard let text = scalarText(node, path) else { return nil }
        guard let v = Int(text.replacing("_", with: "")), v >= min else {
            problem(node, path, "expected an integer ≥ \(min)")
            return nil
        }
        return v
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ path: String, _ type: E.Type) -> E? where E.RawValue == String {
        guard let text = scalarText(node, path) else { return nil }
        guard let v = E(rawValue: text) else {
            problem(node, path, "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return v
    }

    mutating func duration(_ node: YAMLNode, _ path: String) -> Duration? {
        guard let text = scalarText(node, path) else { return nil }
        guard let d = DurationText.parse(text) else {
            problem(node, path, "expected a duration such as 200ms, 30s or 5m")
            return nil
        }
        return d
    }

    /// A duration of at least 100ms.
    mutating func timeout(_ node: YAMLNode, _ path: String) -> Duration? {
        guard let d = duration(node, path) else { return nil }
        guard d >= .milliseconds(100) else {
            problem(node, path, "must be at least 100ms")
            return nil
        }
        return d
    }

    mutating func stringList(_ node: YAMLNode, _ path: String) -> [String]? {
        if case .scalar = node { return string(node, path).map { [$0] } }
        guard case .sequence(let seq) = node else {
            problem(node, path, "expected a list")
            return nil
        }
        return seq.enumerated().compactMap { i, n in string(n, "\(path)[\(i)]") }
    }

    // MARK: Sections

    static let topKeys = ["server", "plugins", "queue", "receivers", "exporters", "pipelines", "alerts", "pricing"]

    mutating func readRoot(_ root: YAMLNode, into config: inout FireflyConfig) {
        guard let items = entries(root, "") else { return }
        for (key, keyNode, value) in items {
            switch key {
            case "server": readServer(value, &config.server)
            case "plugins": readPlugins(value, &config.plugins)
            case "queue": readQueue(value, &config.queue)
            case "receivers": config.receivers = readInstances(value, "receivers")
            case "exporters": config.exporters = readInstances(value, "exporters")
            case "pipelines": config.pipelines = readPipelines(value)
            case "alerts": readAlerts(value, &config.alerts)
            case "pricing": readPricing(value, &config.pricing)
            default: unknownKey(key, keyNode, "", known: Self.topKeys)
            }
        }
    }

    mutating func readServer(_ node: YAMLNode, _ server: inout ServerConfig) {
        guard let items = entries(node, "server") else { return }
        let known = ["listen", "max_body_bytes", "worker_threads", "idle_timeout", "body_timeout", "body_min_rate", "body_rate_grace", "tls"]
        for (key, keyNode, value) in items {
            let path = "server.\(key)"
            switch key {
            case "listen":
                guard let text = string(value, path) else { continue }
                if let (host, port) = ListenAddress.parse(text) {
                    server.host = host
                    server.port = port
                } else {
                    problem(value, path, "expected host:port, e.g. 0.0.0.0:4318")
                }
            case "max_body_bytes": if let v = int(value, path, min: 1024) { server.maxBodyBytes = v }
            case "worker_threads": if let v = int(value, path, min: 1) { server.workerThreads = v }
            case "idle_timeout": if let d = timeout(value, path) { server.idleTimeout = d }
            case "body_timeout": if let d = timeout(value, path) { server.bodyTimeout = d }
            case "body_min_rate": if let v = int(value, path, min: 0) { server.bodyMinRate = v }
            case "body_rate_grace": if let d = timeout(value, path) { server.bodyRateGrace = d }
            case "tls": server.tls = readTLS(value, path)
            default: unknownKey(key, keyNode, "server", known: known)
            }
        }
    }

    mutating func readTLS(_ node: YAMLNode, _ path: String) -> TLSFiles? {
        guard let items = entries(node, path) else { return nil }
        var cert: String?, key: String?
        for (k, kNode, v) in items {
            switch k {
            case "cert_file": cert = string(v, "\(path).cert_file")
            case "key_file": key = string(v, "\(path).key_file")
            default: unknownKey(k, kNode, path, known: ["cert_file", "key_file"])
            }
        }
        for (name, value) in [("cert_file", cert), ("key_file", key)] {
            guard let value else {
                problem(node, "\(path).\(name)", "required when tls is set")
                continue
            }
            if !FileManager.default.isReadableFile(atPath: value) {
                problem(node, "\(path).\(name)", "cannot read '\(value)'")
            }
        }
        guard let cert, let key else { return nil }
        return TLSFiles(certFile: cert, keyFile: key)
    }

    mutating func readPlugins(_ node: YAMLNode, _ plugins: inout PluginsConfig) {
        guard let items = entries(node, "plugins") else { return }
        for (key, keyNode, value) in items {
            switch key {
            case "paths": if let v = stringList(value, "plugins.paths") { plugins.paths = v }
            default: unknownKey(key, keyNode, "plugins", known: ["paths"])
            }
        }
    }

    mutating func readQueue(_ node: YAMLNode, _ queue: inout QueueConfig) {
        guard let items = entries(node, "queue") else { return }
        let known = ["directory", "max_bytes", "batch_max_items", "batch_max_wait", "retry_initial", "retry_max",
                     "drain_timeout", "type", "fsync", "segment_bytes"]
        for (key, keyNode, value) in items {
            let path = "queue.\(key)"
            switch key {
            case "directory": if let v = string(value, path) { queue.directory = v }
            case "max_bytes": if let v = int(value, path, min: 1 << 20) { queue.maxBytes = v }
            case "batch_max_items": if let v = int(value, path, min: 1) { queue.batchMaxItems = v }
            case "batch_max_wait": if let v = duration(value, path) { queue.batchMaxWait = v }
            case "retry_initial": if let v = duration(value, path) { queue.retryInitial = v }
            case "retry_max": if let v = duration(value, path) { queue.retryMax = v }
            case "drain_timeout": if let v = duration(value, path) { queue.drainTimeout = v }
            case "segment_bytes": if let v = int(value, path, min: 4096) { queue.segmentBytes = v }
            case "type": if let v = choice(value, path, QueueType.self) { queue.type = v }
            case "fsync": if let v = choice(value, path, FsyncPolicy.self) { queue.fsync = v }
            default: unknownKey(key, keyNode, "queue", known: known)
            }
        }
    }

    /// A share between 0 and 1 (`0.05` is 5 %).
    mutating func fraction(_ node: YAMLNode, _ path: String) -> Double? {
        guard let text = scalarText(node, path) else { return nil }
        guard let v = Double(text), v >= 0, v <= 1 else {
            problem(node, path, "expected a share between 0 and 1, such as 0.05 for 5 %")
            return nil
        }
        return v
    }

    /// A price in USD: a number above 0.
    mutating func price(_ node: YAMLNode, _ path: String) -> Double? {
        guard let text = scalarText(node, path) else { return nil }
        guard let v = Double(text), v > 0, v.isFinite else {
            problem(node, path, "expected a price in USD above 0, such as 0.0000166667")
            return nil
        }
        return v
    }

    mutating func readPricing(_ node: YAMLNode, _ pricing: inout PricingConfig) {
        guard let items = entries(node, "pricing") else { return }
        let known = ["request", "gb_second", "arm64_gb_second", "architecture", "functions", "default_memory_mb"]
        for (key, keyNode, value) in items {
            let path = "pricing.\(key)"
            switch key {
            case "request": if let v = price(value, path) { pricing.request = v }
            case "gb_second": if let v = price(value, path) { pricing.x86GBSecond = v }
            case "arm64_gb_second": if let v = price(value, path) { pricing.arm64GBSecond = v }
            case "architecture": if let v = choice(value, path, LambdaArchitecture.self) { pricing.architecture = v }
            case "default_memory_mb": if let v = int(value, path, min: 128) { pricing.defaultMemoryMB = v }
            case "functions":
                guard let functions = entries(value, path) else { continue }
                for (function, _, v) in functions {
                    if let a = choice(v, "\(path).\(function)", LambdaArchitecture.self) { pricing.functions[function] = a }
                }
            default: unknownKey(key, keyNode, "pricing", known: known)
            }
        }
    }

    mutating func readAlerts(_ node: YAMLNode, _ alerts: inout AlertsConfig) {
        guard let items = entries(node, "alerts") else { return }
        let known = ["error_rate", "cold_start_rate", "iterator_age", "account_concurrency", "timeout", "duration_near_timeout",
                     "contact_point", "functions"]
        let perFunction = ["error_rate", "cold_start_rate", "iterator_age", "timeout"]
        for (key, keyNode, value) in items {
            let path = "alerts.\(key)"
            switch key {
            case "error_rate": if let v = fraction(value, path) { alerts.errorRate = v }
            case "cold_start_rate": if let v = fraction(value, path) { alerts.coldStartRate = v }
            case "iterator_age": if let v = duration(value, path) { alerts.iteratorAge = v }
            case "account_concurrency": if let v = int(value, path, min: 1) { alerts.accountConcurrency = v }
            case "timeout": if let v = lambdaTimeout(value, path) { alerts.timeout = v }
            case "duration_near_timeout":
                guard let v = fraction(value, path) else { continue }
                if v > 0 { alerts.durationNearTimeout = v } else { problem(value, path, "must be above 0 (0.9 is 90 % of the timeout)") }
            case "contact_point": alerts.contactPoint = readContactPoint(value, path)
            case "functions":
                guard let functions = entries(value, path) else { continue }
                for (function, _, thresholds) in functions {
                    let at = "\(path).\(function)"
                    guard let fields = entries(thresholds, at) else { continue }
                    var t = AlertsConfig.Thresholds()
                    for (field, fieldNode, v) in fields {
                        switch field {
                        case "error_rate": t.errorRate = fraction(v, "\(at).\(field)")
                        case "cold_start_rate": t.coldStartRate = fraction(v, "\(at).\(field)")
                        case "iterator_age": t.iteratorAge = duration(v, "\(at).\(field)")
                        case "timeout": t.timeout = lambdaTimeout(v, "\(at).\(field)")
                        default: unknownKey(field, fieldNode, at, known: perFunction)
                        }
                    }
                    alerts.functions[function] = t
                }
            default: unknownKey(key, keyNode, "alerts", known: known)
            }
        }
    }

    /// A Lambda function's timeout: Lambda allows 1 s to 15 minutes.
    mutating func lambdaTimeout(_ node: YAMLNode, _ path: String) -> Duration? {
        guard let d = duration(node, path) else { return nil }
        guard d >= .seconds(1), d <= .seconds(900) else {
            problem(node, path, "a Lambda timeout is between 1s and 15m")
            return nil
        }
        return d
    }

    /// `alerts.contact_point`: a Grafana contact point type and its settings, passed through.
    mutating func readContactPoint(_ node: YAMLNode, _ path: String) -> AlertsConfig.ContactPoint? {
        guard let items = entries(node, path) else { return nil }
        var type: String?, settings: JSON?
        for (key, keyNode, value) in items {
            switch key {
            case "type":
                guard let text = string(value, "\(path).type") else { continue }
                // Grafana's integration types: `email`, `slack`, `prometheus-alertmanager`, `LINE`, …
                if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
                    type = text
                } else {
                    problem(value, "\(path).type", "expected a Grafana contact point type such as email, slack, webhook, pagerduty or teams")
                }
            case "settings":
                guard case .mapping(let mapping) = value else {
                    problem(value, "\(path).settings", "expected a mapping of the contact point's settings, such as {url: $SLACK_URL}")
                    continue
                }
                if mapping.entries.isEmpty {
                    problem(value, "\(path).settings", "Grafana needs at least one setting")
                    continue
                }
                settings = passedThrough(value, "\(path).settings")
            default: unknownKey(key, keyNode, path, known: ["type", "settings"])
            }
        }
        if type == nil, !items.contains(where: { $0.key == "type" }) { problem(node, "\(path).type", "required when contact_point is set") }
        if settings == nil, !items.contains(where: { $0.key == "settings" }) {
            problem(node, "\(path).settings", "required when contact_point is set")
        }
        guard let type, let settings else { return nil }
        return AlertsConfig.ContactPoint(type: type, settings: settings)
    }

    /// A subtree written into a file Grafana reads, as JSON with plain scalars typed. Values are not
    /// expanded: `$NAME` is for Grafana to resolve from its own environment, and a `${NAME}` would put
    /// the variable's value (a webhook URL, a routing key) into the generated file, so it is refused.
    mutating func passedThrough(_ node: YAMLNode, _ path: String) -> JSON? {
        switch node {
        case .scalar(let s):
            let text = EnvironmentReferences.unshield(s.string)
            if let start = text.firstRange(of: "${") {
                let written = String(text[start.lowerBound...].prefix { $0 != "}" }) + "}"
                var name = String(text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                if name.isEmpty { name = "NAME" }
                problem(
                    node, path,
                    "'\(written)' would write the variable's value into the generated provisioning file; write $\(name) (no braces): Grafana reads it from its own environment")
                return nil
            }
            return s.style == .plain ? JSON.typed(plainScalar: text) : .string(text)
        case .sequence(let seq):
            var items: [JSON] = []
            for (i, n) in seq.enumerated() {
                if let j = passedThrough(n, "\(path)[\(i)]") { items.append(j) }
            }
            return .array(items)
        case .mapping:
            guard let fields = entries(node, path) else { return nil }
            var out: [(key: String, value: JSON)] = []
            for (key, _, v) in fields {
                if let j = passedThrough(v, "\(path).\(key)") { out.append((key, j)) }
            }
            return .object(out)
        }
    }

    mutating func readInstances(_ node: YAMLNode, _ section: String) -> [InstanceConfig] {
        if case .scalar(let s) = node, s.style == .plain, JSON.typed(plainScalar: s.string) == .null { return [] }
        guard let items = entries(node, section) else { return [] }
        var out: [InstanceConfig] = []
        for (name, keyNode, value) in items {
            let path = "\(section).\(name)"
            guard InstanceName.isValid(name) else {
                problem(keyNode, path, "instance names are <plugin>[/<suffix>] with letters, digits, '-' and '_'")
                continue
            }
            var pluginName = String(name.split(separator: "/").first ?? "")
            var pluginLocation = location(keyNode) ?? SourceLocation(line: 0, column: 0)
            var settings: [(key: String, value: JSON)] = []
            var keyLocations: [String: SourceLocation] = [:]
            let isEmpty: Bool = if case .scalar(let s) = value, s.string.isEmpty { true } else { false }
            if !isEmpty, let fields = entries(value, path) {
                for (key, kNode, v) in fields {
                    keyLocations[key] = location(kNode)
                    if key == "plugin" {
                        if let p = string(v, "\(path).plugin") {
                            pluginName = p
                            pluginLocation = location(v) ?? pluginLocation
                        }
                    } else if let json = toJSON(v, "\(path).\(key)") {
                        settings.append((key, json))
                    }
                }
            }
            out.append(InstanceConfig(
                name: name, plugin: pluginName, settingsJSON: JSON.object(settings).text,
                location: location(keyNode) ?? SourceLocation(line: 0, column: 0),
                pluginLocation: pluginLocation, keyLocations: keyLocations))
        }
        return out
    }

    mutating func readPipelines(_ node: YAMLNode) -> [PipelineConfig] {
        guard let items = entries(node, "pipelines") else { return [] }
        var out: [PipelineConfig] = []
        for (name, keyNode, value) in items {
            let path = "pipelines.\(name)"
            let kind = String(name.split(separator: "/", maxSplits: 1).first ?? "")
            guard let signal = Signal(rawValue: kind) else {
                var message = "pipeline names start with 'metrics' or 'traces' (optionally '/<suffix>')"
                if let s = Suggestion.closest(to: kind, among: Signal.allCases.map(\.rawValue)) { message += "; did you mean '\(s)'?" }
                problem(keyNode, path, message)
                continue
            }
            var pipeline = PipelineConfig(name: name, signal: signal, receivers: [], exporters: [])
            guard let fields = entries(value, path) else { continue }
            for (key, kNode, v) in fields {
                switch key {
                case "receivers": pipeline.receivers = names(v, "\(path).receivers", section: "receivers")
                case "exporters": pipeline.exporters = names(v, "\(path).exporters", section: "exporters")
                default: unknownKey(key, kNode, path, known: ["receivers", "exporters"])
                }
            }
            if pipeline.receivers.isEmpty { problem(value, path, "a pipeline needs at least one receiver") }
            if pipeline.exporters.isEmpty { problem(value, path, "a pipeline needs at least one exporter") }
            out.append(pipeline)
        }
        return out
    }

    /// Where each pipeline reference was written, for "undefined exporter" messages.
    var pipelineRefs: [(section: String, name: String, path: String, node: YAMLNode)] = []

    mutating func names(_ node: YAMLNode, _ path: String, section: String) -> [String] {
        guard case .sequence(let seq) = node else {
            if let s = string(node, path) {
                pipelineRefs.append((section, s, path, node))
                return [s]
            }
            return []
        }
        var out: [String] = []
        for (i, n) in seq.enumerated() {
            if let s = string(n, "\(path)[\(i)]") {
                pipelineRefs.append((section, s, "\(path)[\(i)]", n))
                out.append(s)
            }
        }
        return out
    }

    /// A plugin's settings subtree as JSON, with values expanded and plain scalars typed.
    mutating func toJSON(_ node: YAMLNode, _ path: String) -> JSON? {
        switch node {
        case .scalar(let s):
            guard let text = expand(s.string, node, path) else { return nil }
            if s.style != .plain { return .string(text) }
            return JSON.typed(plainScalar: text)
        case .sequence(let seq):
            var items: [JSON] = []
            for (i, n) in seq.enumerated() {
                if let j = toJSON(n, "\(path)[\(i)]") { items.append(j) }
            }
            return .array(items)
        case .mapping:
            guard let fields = entries(node, path) else { return nil }
            var out: [(key: String, value: JSON)] = []
            for (key, _, v) in fields {
                if let j = toJSON(v, "\(path).\(key)") { out.append((key, j)) }
            }
            return .object(out)
        }
    }

    // MARK: Validation across sections

    mutating func validate(_ config: inout FireflyConfig) {
        let receivers = Set(config.receivers.map(\.name))
        let exporters = Set(config.exporters.map(\.name))
        for ref in pipelineRefs {
            let defined = ref.section == "receivers" ? receivers : exporters
            guard !defined.contains(ref.name) else { continue }
            let noun = ref.section == "receivers" ? "receiver" : "exporter"
            var message = "\(noun) '\(ref.name)' is not defined under \(ref.section):"
            if let s = Suggestion.closest(to: ref.name, among: defined) { message += " did you mean '\(s)'?" }
            problem(ref.node, ref.path, message)
        }
        if config.pipelines.isEmpty, problems.isEmpty {
            problems.append(ConfigProblem(file: file, location: nil, path: "pipelines", message: "no pipelines: nothing would be received or exported"))
        }
    }
}

/// `host:port` as written in `server.listen` (`[::1]:4318` for IPv6).
enum ListenAddress {
    static func parse(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}

/// `plugin[/suffix]` instance names, as in the OpenTelemetry Collector.
enum InstanceName {
    static func isValid(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } }
    }
}

/// `200ms`, `30s`, `5m`, `12h`, `30d`.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, ms) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let n = Double(number) {
                return .milliseconds(Int64(n * Double(ms)))
            }
        }
        return nil
    }
}

/// `${VAR:-default}` references are plain text to YAML only outside flow collections: in
/// `paths: [${DIR:-x}]` the `{`, `}` and `,` would be read as YAML. Before parsing, the brackets and
/// commas of each reference become private-use characters of the same width (columns in error
/// messages stay right); the reader turns them back before expanding.
enum EnvironmentReferences {
    private static let pairs: [(Character, Character)] = [("{", "\u{F8F0}"), ("}", "\u{F8F1}"), (",", "\u{F8F2}"), ("[", "\u{F8F3}"), ("]", "\u{F8F4}")]

    static func shield(_ text: String) -> String {
        guard text.contains("${") else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${") {
            out += rest[..<start.lowerBound]
            let afterOpen = start.upperBound
            // A reference ends at the first `}` on its line; an unterminated one is left for the reader to report.
            guard let end = rest[afterOpen...].firstIndex(where: { $0 == "}" || $0.isNewline }), rest[end] == "}" else {
                out += rest[start]
                rest = rest[afterOpen...]
                continue
            }
            out += "$" + String(swap("{", to: true))
            for c in rest[afterOpen..<end] { out.append(swap(c, to: true)) }
            out.append(swap("}", to: true))
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    static func unshield(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { (0xF8F0...0xF8F4).contains($0.value) }) else { return text }
        return String(text.map { swap($0, to: false) })
    }

    private static func swap(_ c: Character, to shielded: Bool) -> Character {
        for (plain, shield) in pairs where (shielded ? plain : shield) == c { return shielded ? shield : plain }
        return c
    }
}
