// swift-tools-version:6.1
import PackageDescription
import Foundation

/// Absolute path of this package: the linker script path must not depend on the linker's working directory.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

/// The collector and its plugins are linked by lld with packed relative relocations (DT_RELR,
/// glibc ≥ 2.36): the dynamic loader then reads a few KiB of relocations at start instead of
/// about 1.4 MiB per image, which keeps them out of the idle memory (docs/performance.md).
let compactRelocations: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"], .when(platforms: [.linux]))
]

/// Every plugin .so exports exactly one dynamic symbol, `firefly_plugin_v1`.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(root)/plugins/firefly_plugin.map"])
] + compactRelocations

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

/// A plugin is two targets: its logic (testable, linked into tests) and a one-line entry
/// target exporting `firefly_plugin_v1`, which only the plugin's dynamic product links.
func plugin(
    _ name: String, folder: String, logic: String, entry: String,
    dependencies: [Target.Dependency] = []
) -> [Target] {
    [
        .target(
            name: logic,
            dependencies: ["FireflyPluginKit", "FireflyModel"] + dependencies,
            path: "plugins/\(folder)/Sources/\(logic)",
            swiftSettings: swiftSettings
        ),
        .target(
            name: entry,
            dependencies: [.target(name: logic), "FireflyPluginKit"],
            path: "plugins/\(folder)/Sources/\(entry)",
            swiftSettings: swiftSettings,
            linkerSettings: pluginLinkerSettings
        ),
    ]
}

let package = Package(
    name: "firefly",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "firefly", targets: ["firefly"]),
        .executable(name: "firefly-tools", targets: ["firefly-tools"]),
        .library(name: "FireflyPluginKit", targets: ["FireflyPluginKit"]),
        .library(name: "FireflyPluginKitTesting", targets: ["FireflyPluginKitTesting"]),
        .library(name: "FireflyDebugPlugin", type: .dynamic, targets: ["DebugPluginEntry"]),
        .library(name: "FireflyFirehosePlugin", type: .dynamic, targets: ["FirehosePluginEntry"]),
        .library(name: "FireflyOTLPPlugin", type: .dynamic, targets: ["OTLPPluginEntry"]),
        .library(name: "FireflyOTLPExporterPlugin", type: .dynamic, targets: ["OTLPExporterPluginEntry"]),
        .library(name: "FireflyPostgresPlugin", type: .dynamic, targets: ["PostgresPluginEntry"]),
        .library(name: "FireflyRemoteWritePlugin", type: .dynamic, targets: ["RemoteWritePluginEntry"]),
        .library(name: "FireflyWebhookPlugin", type: .dynamic, targets: ["WebhookPluginEntry"]),
        .library(name: "FireflyTestCAdapter", type: .dynamic, targets: ["TestCAdapterPlugin"]),
        .library(name: "FireflyTestFutureABI", type: .dynamic, targets: ["TestFutureABIPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
    ],
    targets: [
        .target(name: "CFireflyPlugin", path: "Sources/CFireflyPlugin"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CSnappy", path: "plugins/remote-write/Sources/CSnappy"),
        .systemLibrary(
            name: "CLibpq", path: "plugins/postgres/Sources/CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .target(name: "FireflyModel", swiftSettings: swiftSettings),
        // firefly.yaml's reader: libyaml's events composed into a tree of nodes with positions.
        .target(name: "FireflyYAML", dependencies: ["CYAML"], swiftSettings: swiftSettings),
        // The wire formats every receiver and exporter reads or writes: JSON (pull scanner and
        // tree), protobuf (reader and writer), bounded zlib/gzip inflation. Linked statically.
        .target(name: "FireflyWire", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        // Firefly's model as OTLP protobuf export requests: what the otlp exporter sends and the demo
        // generates.
        .target(name: "FireflyOTLP", dependencies: ["FireflyModel", "FireflyWire"], swiftSettings: swiftSettings),
        .target(
            name: "FireflyPluginKit",
            dependencies: ["CFireflyPlugin", "FireflyModel"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FireflyPluginKitTesting",
            dependencies: ["FireflyPluginKit", "FireflyModel"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FireflyCore",
            dependencies: [
                "CFireflyPlugin", "CZlib", "FireflyModel", "FireflyPluginKit", "FireflyWire", "FireflyYAML",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "FireflyGrafana", dependencies: ["FireflyModel", "FireflyWire", "FireflyCore"], swiftSettings: swiftSettings),
        .target(
            name: "FireflyDemo",
            dependencies: [
                "FireflyModel", "FireflyWire", "FireflyOTLP", "CZlib",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // `firefly aws`: the CloudFormation stack template, and the AWS API (SigV4) for Lambda.
        .target(
            name: "FireflyAWS",
            dependencies: [
                "FireflyModel", "FireflyWire", "FireflyYAML", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // What both commands share: the config option, problem output, tables.
        .target(
            name: "FireflyCLI",
            dependencies: [
                "FireflyCore", "FireflyModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The collector: serve, check, plugins, dead-letters. `grafana`, `demo` and `aws` run
        // `firefly-tools`, so that serving does not map their code (docs/performance.md, "Idle memory").
        .executableTarget(
            name: "firefly",
            dependencies: [
                "FireflyCLI", "FireflyCore", "FireflyModel", "FireflyPluginKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: compactRelocations
        ),
        .executableTarget(
            name: "firefly-tools",
            dependencies: [
                "FireflyCLI", "FireflyCore", "FireflyGrafana", "FireflyDemo", "FireflyPluginKit", "FireflyAWS", "FireflyModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: compactRelocations
        ),

        // Test fixture plugins written in plain C: they prove the ABI needs no Swift.
        .target(
            name: "TestCAdapterPlugin",
            path: "Tests/Fixtures/TestCAdapterPlugin", publicHeadersPath: ".", linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "TestFutureABIPlugin", dependencies: ["CFireflyPlugin"],
            path: "Tests/Fixtures/TestFutureABIPlugin", publicHeadersPath: ".", linkerSettings: pluginLinkerSettings
        ),

        // Helpers shared by test targets: the built `firefly` as a subprocess, the test PostgreSQL,
        // a real Prometheus.
        .target(name: "FireflyTestSupport", path: "Tests/FireflyTestSupport", swiftSettings: swiftSettings),

        .testTarget(name: "FireflyModelTests", dependencies: ["FireflyModel"]),
        .testTarget(
            name: "FireflyWireTests", dependencies: ["FireflyWire", "FireflyTestSupport", "FireflyDemo"], exclude: ["protobuf_oracle.py"]),
        .testTarget(name: "FireflyPluginKitTests", dependencies: ["FireflyPluginKit", "FireflyModel", "CFireflyPlugin"]),
        .testTarget(
            name: "FireflyCoreTests",
            dependencies: ["FireflyCore", "FireflyModel", "FireflyYAML", "FireflyPluginKit", "CFireflyPlugin", "FireflyTestSupport", "FireflyDemo"]),
        .testTarget(name: "IntegrationTests", dependencies: ["FireflyModel", "FireflyTestSupport", "FireflyDemo"]),
        .testTarget(
            name: "FireflyGrafanaTests",
            dependencies: [
                "FireflyGrafana", "FireflyCore", "FireflyModel", "FireflyTestSupport", "PostgresExporter",
                "RemoteWriteExporter",
            ],
            exclude: ["schemas"]),
        .testTarget(name: "FireflyAWSTests", dependencies: ["FireflyAWS", "FireflyTestSupport", .product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "FireflyDemoTests", dependencies: ["FireflyDemo", "FireflyModel", "FireflyOTLP", "FirehoseAdapter", "FireflyTestSupport"]),
        // Workloads and measurements of the receivers' decoders and the exporters, for `make bench`
        // (and the tests that check a benchmark measures what it reports).
        .target(
            name: "FireflyBenchmarkKit",
            dependencies: [
                "FireflyDemo", "FireflyModel", "FireflyPluginKit", "FireflyWire", "FirehoseAdapter", "OTLPAdapter",
                "PostgresExporter", "RemoteWriteExporter",
            ],
            path: "Benchmarks/FireflyBenchmarkKit",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "firefly-bench",
            dependencies: [
                "FireflyBenchmarkKit", "FireflyCore", "FireflyDemo", "FireflyModel", "FireflyPluginKit", "FireflyWire", "FirehoseAdapter",
                "OTLPAdapter", "RemoteWriteExporter", "PostgresExporter", "DebugExporter",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/FireflyBench",
            swiftSettings: swiftSettings
        ),
    ]
        + plugin("debug", folder: "debug", logic: "DebugExporter", entry: "DebugPluginEntry", dependencies: ["CFireflyPlugin"])
        + plugin("firehose", folder: "firehose", logic: "FirehoseAdapter", entry: "FirehosePluginEntry", dependencies: ["FireflyWire", "CZlib"])
        + plugin(
            "otlp", folder: "otlp", logic: "OTLPAdapter", entry: "OTLPPluginEntry",
            dependencies: [
                "FireflyWire",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ])
        + plugin(
            "otlp-exporter", folder: "otlp-exporter", logic: "OTLPExporter", entry: "OTLPExporterPluginEntry",
            dependencies: [
                "FireflyWire", "FireflyOTLP", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ])
        + plugin(
            "postgres", folder: "postgres", logic: "PostgresExporter", entry: "PostgresPluginEntry",
            dependencies: ["CLibpq", .product(name: "Crypto", package: "swift-crypto")])
        + plugin(
            "remote-write", folder: "remote-write", logic: "RemoteWriteExporter", entry: "RemoteWritePluginEntry",
            dependencies: [
                "FireflyWire", "CSnappy", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ])
        + plugin(
            "webhook", folder: "webhook", logic: "WebhookAdapter", entry: "WebhookPluginEntry",
            dependencies: ["FireflyWire", .product(name: "Crypto", package: "swift-crypto")])
        + [
            .testTarget(name: "DebugExporterTests", dependencies: ["DebugExporter"], path: "plugins/debug/Tests"),
            .testTarget(
                name: "FirehoseAdapterTests",
                dependencies: ["FirehoseAdapter", "FireflyPluginKitTesting", "FireflyDemo", "FireflyBenchmarkKit"],
                path: "plugins/firehose/Tests"),
            .testTarget(
                name: "OTLPAdapterTests", dependencies: ["OTLPAdapter", "FireflyWire", "FireflyPluginKitTesting"], path: "plugins/otlp/Tests"),
            .testTarget(
                name: "OTLPExporterTests",
                dependencies: ["OTLPExporter", "OTLPAdapter", "FireflyOTLP", "FireflyWire", "FireflyPluginKitTesting", "FireflyTestSupport"],
                path: "plugins/otlp-exporter/Tests", exclude: ["otlp_receiver.py"]),
            .testTarget(
                name: "PostgresExporterTests", dependencies: ["PostgresExporter", "FireflyBenchmarkKit"], path: "plugins/postgres/Tests"),
            .testTarget(
                name: "RemoteWriteExporterTests", dependencies: ["RemoteWriteExporter", "FireflyTestSupport"],
                path: "plugins/remote-write/Tests"),
            .testTarget(name: "WebhookAdapterTests", dependencies: ["WebhookAdapter", "FireflyPluginKitTesting"], path: "plugins/webhook/Tests"),
        ]
)
