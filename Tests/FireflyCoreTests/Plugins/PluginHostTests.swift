import CFireflyPlugin
import Foundation
import Logging
import FireflyTestSupport
import Testing

@testable import FireflyCore

@Suite struct PluginHostTests {
    @Test func loadsThePlainCAdapterThroughDlopen() throws {
        let library = try PluginLibrary(file: BuildProducts.library("FireflyTestCAdapter"))
        #expect(library.name == "c-adapter")
        #expect(library.kind == .adapter)
        #expect(library.version == "1.0.0")
        #expect(library.abi == "1.0")
    }

    /// The C adapter is built against the released 1.0 header: its descriptor is shorter than 1.1's,
    /// and the fields 1.1 appended read as absent, not as whatever follows it in the library.
    @Test func aPluginBuiltForABI1_0LoadsWithTheNewerFieldsAbsent() throws {
        let library = try PluginLibrary(file: BuildProducts.library("FireflyTestCAdapter"))
        #expect(library.abi == "1.0")
        let entry = try #require(dlsym(dlopen(library.file, RTLD_NOW | RTLD_LOCAL), "firefly_plugin_v1"))
        let raw = unsafeBitCast(entry, to: (@convention(c) () -> UnsafeRawPointer?).self)()
        let declared = try #require(raw).load(fromByteOffset: 4, as: UInt32.self)
        #expect(Int(declared) == firefly_plugin_size_1_0)
        #expect(Int(declared) < MemoryLayout<firefly_plugin>.size)
        #expect(library.descriptor.pointee.authorize == nil)
        let swift = try PluginLibrary(file: BuildProducts.library("FireflyFirehosePlugin"))
        #expect(swift.abi == "1.2")
        #expect(swift.descriptor.pointee.authorize != nil)
    }

    @Test func loadsTheSwiftDebugExporter() throws {
        let library = try PluginLibrary(file: BuildProducts.library("FireflyDebugPlugin"))
        #expect(library.name == "debug")
        #expect(library.kind == .exporter)
    }

    @Test func refusesAPluginBuiltForAnotherABIMajorNamingBothVersions() {
        let file = BuildProducts.library("FireflyTestFutureABI")
        #expect {
            try PluginLibrary(file: file)
        } throws: { error in
            let e = error as! PluginLoadError
            return e.description == "\(file): built for plugin ABI 2.0, but this collector speaks ABI 1.2; rebuild the plugin against firefly_plugin.h 1.2"
        }
    }

    @Test func refusesAFileThatIsNotASharedObject() throws {
        let file = NSTemporaryDirectory() + "garbage-\(UUID().uuidString).so"
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: file))
        #expect {
            try PluginLibrary(file: file)
        } throws: { error in
            let d = (error as! PluginLoadError).description
            return d.hasPrefix("\(file): cannot load: ")
        }
    }

    @Test func refusesASharedObjectWithoutTheEntrySymbol() throws {
        // libz is a real shared object that is not a Firefly plugin.
        let candidates = ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1"]
        let file = try #require(candidates.first { FileManager.default.fileExists(atPath: $0) })
        #expect {
            try PluginLibrary(file: file)
        } throws: { error in
            (error as! PluginLoadError).description == "\(file): not a Firefly plugin: it does not export firefly_plugin_v1"
        }
    }

    @Test func everyBuiltPluginExportsExactlyTheEntrySymbol() throws {
        let products = ["FireflyDebugPlugin", "FireflyFirehosePlugin", "FireflyOTLPPlugin", "FireflyOTLPExporterPlugin",
                        "FireflyPostgresPlugin", "FireflyRemoteWritePlugin", "FireflyWebhookPlugin",
                        "FireflyTestCAdapter", "FireflyTestFutureABI"]
        for product in products {
            let file = BuildProducts.library(product)
            let output = try run("/usr/bin/nm", ["-D", "--defined-only", file])
            // Global (exported) symbols have an uppercase type letter; lowercase ones are local to the object.
            let exported = output.split(separator: "\n").compactMap { line -> String? in
                let parts = line.split(separator: " ")
                guard parts.count >= 3, let type = parts[parts.count - 2].first, type.isUppercase else { return nil }
                return String(parts.last!)
            }
            #expect(exported == ["firefly_plugin_v1"], "\(product) exports \(exported)")
        }
    }

    /// The collector and the Swift plugins link FoundationEssentials only: the full Foundation
    /// library, its internationalization library and ICU cost about 8 MiB of idle memory once any
    /// object of the process needs them (docs/performance.md, "Idle memory").
    @Test func collectorAndPluginsDoNotLinkFullFoundation() throws {
        let products = ["FireflyDebugPlugin", "FireflyFirehosePlugin", "FireflyOTLPPlugin", "FireflyOTLPExporterPlugin",
                        "FireflyPostgresPlugin", "FireflyRemoteWritePlugin", "FireflyWebhookPlugin"]
        for file in [Build.firefly] + products.map(Build.library) {
            let needed = try run("/usr/bin/readelf", ["-d", file]).split(separator: "\n").filter { $0.contains("(NEEDED)") }
            #expect(needed.contains { $0.contains("[libFoundationEssentials.so]") }, "\(file): \(needed)")
            let full = needed.filter { $0.contains("[libFoundation.so]") || $0.contains("FoundationInternationalization") || $0.contains("FoundationICU") }
            #expect(full.isEmpty, "\(file) links \(full)")
        }
    }

    /// `firefly grafana|demo|aws` run `firefly-tools`: the collector's binary carries none of their
    /// modules, and its help still lists them.
    @Test func toolCommandsLiveInFireflyTools() throws {
        let collector = try run("/usr/bin/nm", ["--defined-only", Build.firefly])
        let tools = try run("/usr/bin/nm", ["--defined-only", Build.directory + "/firefly-tools"])
        for module in ["10FireflyAWS", "14FireflyGrafana", "11FireflyDemo"] {
            #expect(!collector.contains(module), "firefly defines symbols of \(module)")
            #expect(tools.contains(module), "firefly-tools lacks \(module)")
        }
        let help = try runFirefly(["--help"], in: Build.directory)
        for name in ["serve", "check", "grafana", "demo", "aws"] { #expect(help.stdout.contains("  \(name)"), "\(help.stdout)") }
        let aws = try runFirefly(["aws", "--help"], in: Build.directory)
        #expect(aws.status == 0 && aws.stdout.contains("template") && aws.stdout.contains("instrument"), "\(aws.stdout)\(aws.stderr)")
        let topic = try runFirefly(["help", "grafana", "generate"], in: Build.directory)
        #expect(topic.stdout.contains("--out"), "\(topic.stdout)\(topic.stderr)")
    }

    @Test func scanReportsEveryBadFileAndKeepsTheGoodOnes() throws {
        let dir = try BuildProducts.pluginDirectory(["FireflyTestCAdapter", "FireflyTestFutureABI", "FireflyDebugPlugin"])
        try Data("junk".utf8).write(to: URL(fileURLWithPath: "\(dir)/libjunk.so"))
        let registry = PluginRegistry.scan(paths: [dir, "/does/not/exist"], relativeTo: "/")
        #expect(registry.plugins.keys.sorted() == ["c-adapter", "debug"])
        #expect(registry.problems.map(\.file) == ["\(dir)/libFireflyTestFutureABI.so", "\(dir)/libjunk.so"])
        #expect(registry.scanned == [dir])
    }

    /// A configuration's scan opens only the files whose names say they hold a plugin it uses; the
    /// rest — here a plugin for a future ABI and a file that is no plugin — are never mapped.
    @Test func scanForAConfigurationLoadsOnlyThePluginsItUses() throws {
        let dir = try BuildProducts.pluginDirectory(["FireflyTestFutureABI", "FireflyDebugPlugin", "FireflyWebhookPlugin"])
        try Data("junk".utf8).write(to: URL(fileURLWithPath: "\(dir)/libjunk.so"))
        let registry = PluginRegistry.scan(paths: [dir], relativeTo: "/", using: ["debug"])
        #expect(registry.plugins.keys.sorted() == ["debug"])
        #expect(registry.problems.isEmpty)
        #expect(registry.notLoaded == ["\(dir)/libFireflyTestFutureABI.so", "\(dir)/libFireflyWebhookPlugin.so", "\(dir)/libjunk.so"])
        // Each file is opened at most once: nothing this process loaded before is counted again.
        let mapped = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        #expect(!mapped.contains("\(dir)/libFireflyWebhookPlugin.so"))
    }

    /// A used plugin whose file name does not say so (the C adapter is `c-adapter` in
    /// libFireflyTestCAdapter.so) is still found: then every file is loaded, as without a configuration.
    @Test func scanForAConfigurationFallsBackToEveryFileWhenANameDoesNotSay() throws {
        let dir = try BuildProducts.pluginDirectory(["FireflyTestCAdapter", "FireflyTestFutureABI", "FireflyDebugPlugin"])
        let registry = PluginRegistry.scan(paths: [dir], relativeTo: "/", using: ["c-adapter", "debug"])
        #expect(registry.plugins.keys.sorted() == ["c-adapter", "debug"])
        #expect(registry.problems.map(\.file) == ["\(dir)/libFireflyTestFutureABI.so"])
        #expect(registry.notLoaded.isEmpty)
    }

    @Test func aFileNameSaysWhichPluginItHolds() {
        for (file, key) in [
            ("/p/libFireflyOTLPPlugin.so", "otlp"), ("libFireflyRemoteWritePlugin.so", "remotewrite"), ("libfirefly-otlp.so", "otlp"),
            ("libacme_sqs.so", "acmesqs"), ("webhook.so", "webhook"),
        ] {
            #expect(PluginRegistry.fileKey(file) == key, "\(file)")
        }
        #expect(PluginRegistry.pluginKey("remote-write") == "remotewrite")
    }

    @Test func collectorRefusesToStartListingEveryPluginProblem() throws {
        let dir = try BuildProducts.pluginDirectory(["FireflyTestCAdapter", "FireflyTestFutureABI", "FireflyDebugPlugin"])
        let config = try ConfigLoader(environment: [:]).parse("""
            plugins:
              paths: [\(dir)]
            receivers:
              c-adapter: {fail: true}
              other: {plugin: debug}
            exporters:
              debug: {path: /dev/null, colour: red}
              nope: {plugin: firehse}
            pipelines:
              metrics: {receivers: [c-adapter, other], exporters: [debug, nope]}
            """)
        #expect {
            try Collector.prepare(config: config, logger: Logger(label: "test"))
        } throws: { error in
            let lines = (error as! ConfigError).problems.map(\.description)
            return lines == [
                "\(dir)/libFireflyTestFutureABI.so: error: built for plugin ABI 2.0, but this collector speaks ABI 1.2; rebuild the plugin against firefly_plugin.h 1.2",
                "firefly.yaml:4:15: error: receivers.c-adapter.fail: this C plugin was asked to fail",
                "firefly.yaml:5:19: error: receivers.other.plugin: plugin 'debug' (\(dir)/libFireflyDebugPlugin.so) is an exporter, but receivers need an adapter",
                "firefly.yaml:7:28: error: exporters.debug.colour: unknown key 'colour'",
                "firefly.yaml:8:18: error: exporters.nope.plugin: unknown plugin 'firehse'; available exporters: debug",
            ]
        }
    }
}

func run(_ tool: String, _ arguments: [String]) throws -> String {
    try FireflyTestSupport.run(tool, arguments).stdout
}
