// The firefly.yaml files the benchmark collectors run with.
import Foundation

/// Every listener is on loopback: HTTP on `port`, the OTLP receiver's gRPC on `port - 1`.
enum BenchConfig {
    /// Receivers firehose + otlp draining into the debug exporter writing to /dev/null: the
    /// cheapest real exporter, so the figures are about receiving and queueing (it still drains
    /// slower than the receivers accept, and takes its share of the two cores with either queue).
    /// Every run gets a fresh collector and queue, so one run's backlog never slows the next.
    /// With `discard`, the debug exporter acknowledges without writing: the figures are then the
    /// receivers' and the queue's alone.
    static func ingest(port: Int, plugins: String, queueDirectory: String, queueType: String, maxBytes: Int, discard: Bool = false) -> String {
        """
        server:
          listen: 127.0.0.1:\(port)
        plugins:
          paths: [\(plugins)]
        queue:
          type: \(queueType)
          directory: \(queueDirectory)
          max_bytes: \(maxBytes)
          drain_timeout: 1s
        receivers:
          firehose: {plugin: firehose, path: /firehose}
          otlp: {plugin: otlp, grpc: {listen: "127.0.0.1:\(port - 1)"}}
        exporters:
          debug: {plugin: debug, \(discard ? "discard: true" : "path: /dev/null")}
        pipelines:
          metrics: {receivers: [firehose, otlp], exporters: [debug]}
          traces: {receivers: [otlp], exporters: [debug]}

        """
    }

    /// The repository's own `firefly.yaml` (the configuration `make run` serves), moved onto the
    /// bench's loopback ports, plugin directory and queue: what the idle-memory target is about.
    /// Fails when a line it moves is no longer in the file, rather than measure something else.
    static func shipped(file: String, port: Int, plugins: String, queueDirectory: String) throws -> String {
        var text = try String(contentsOfFile: file, encoding: .utf8)
        let moves = [
            ("listen: 0.0.0.0:4318", "listen: 127.0.0.1:\(port)"),
            ("paths: [.firefly/plugins, ./plugins.d]", "paths: [\(plugins)]"),
            ("directory: .firefly/queue", "directory: \(queueDirectory)"),
            ("    plugin: otlp\n", "    plugin: otlp\n    grpc: {listen: \"127.0.0.1:\(port - 1)\"}\n"),
        ]
        for (from, to) in moves {
            guard text.contains(from) else { throw ServeProcess.Failure(description: "\(file) no longer has `\(from)`: update BenchConfig.shipped") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    /// Every plugin Firefly ships, loaded and instantiated: what "ready" has to wait for.
    static func allPlugins(port: Int, plugins: String, queueDirectory: String, postgresURL: String, remoteWriteURL: String) -> String {
        """
        server:
          listen: 127.0.0.1:\(port)
        plugins:
          paths: [\(plugins)]
        queue:
          directory: \(queueDirectory)
        receivers:
          firehose: {plugin: firehose, path: /firehose}
          otlp: {plugin: otlp, grpc: {listen: "127.0.0.1:\(port - 1)"}}
          webhook:
            plugin: webhook
            path: /hooks/bench
            metrics:
              - {name: bench_events_total, kind: counter, value_constant: 1}
        exporters:
          debug: {plugin: debug, path: /dev/null}
          postgres: {plugin: postgres, url: "\(postgresURL)"}
          remote_write: {plugin: remote-write, url: "\(remoteWriteURL)"}
        pipelines:
          metrics: {receivers: [firehose, otlp, webhook], exporters: [debug, postgres, remote_write]}
          traces: {receivers: [otlp], exporters: [debug, postgres]}

        """
    }
}
