import FireflyTestSupport
import Foundation
import Testing

/// Docker is not available in CI, so the compose stack is checked statically: the file validates
/// against the compose-spec JSON schema (vendored in schemas/compose), everything it mounts or
/// builds exists, services wait for healthy dependencies, and its firefly.yaml passes `firefly check`.
@Suite struct ComposeTests {
    static let composeFile = Repo.path("compose/docker-compose.yml")

    /// The compose file as JSON, after validating it against the compose-spec schema.
    static func compose() throws -> [String: Any] {
        let script = #"""
            import json, sys, yaml
            from jsonschema import Draft7Validator
            doc = yaml.safe_load(open(sys.argv[1]))
            schema = json.load(open(sys.argv[2]))
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft7Validator(schema).iter_errors(doc)]
            if errors:
                print("\n".join(errors), file=sys.stderr)
                sys.exit(1)
            print(json.dumps(doc))
            """#
        let result = try python(script, [composeFile, Repo.path("Tests/FireflyGrafanaTests/schemas/compose/compose-spec.json")])
        #expect(result.status == 0, "compose-spec validation: \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    static func services() throws -> [String: [String: Any]] {
        try compose()["services"] as! [String: [String: Any]]
    }

    @Test func composeFileValidatesAndHasTheFourServices() throws {
        #expect(try Self.services().keys.sorted() == ["firefly", "grafana", "postgres", "prometheus"])
    }

    @Test func everyMountedPathExists() throws {
        let compose = try Self.compose()
        let named = Set((compose["volumes"] as! [String: Any?]).keys)
        var binds = 0
        for (name, service) in try Self.services() {
            for case let volume as String in service["volumes"] as? [Any] ?? [] {
                let source = String(volume.split(separator: ":")[0])
                if source.hasPrefix(".") || source.hasPrefix("/") {
                    let path = URL(fileURLWithPath: Repo.path("compose")).appendingPathComponent(source).standardized.path
                    #expect(FileManager.default.fileExists(atPath: path), "\(name) mounts \(source), which does not exist")
                    binds += 1
                } else {
                    #expect(named.contains(source), "\(name) uses undeclared volume \(source)")
                }
            }
        }
        #expect(binds == 6)
        let build = try Self.services()["firefly"]!["build"] as! [String: String]
        let context = URL(fileURLWithPath: Repo.path("compose")).appendingPathComponent(build["context"]!).standardized.path
        #expect(context == Repo.root.standardized.path)
        #expect(FileManager.default.fileExists(atPath: "\(context)/\(build["dockerfile"]!)"))
    }

    @Test func servicesStartOnlyAfterTheirDependenciesAreHealthy() throws {
        let services = try Self.services()
        for (name, service) in services {
            #expect(service["healthcheck"] != nil, "\(name) has no health check")
            for (dependency, condition) in service["depends_on"] as? [String: [String: String]] ?? [:] {
                #expect(condition["condition"] == "service_healthy", "\(name) → \(dependency)")
                #expect(services[dependency] != nil)
            }
        }
        #expect((services["grafana"]!["depends_on"] as! [String: Any]).keys.sorted() == ["firefly", "postgres", "prometheus"])
        #expect((services["firefly"]!["depends_on"] as! [String: Any]).keys.sorted() == ["postgres", "prometheus"])
    }

    @Test func imagesFlagsAndSecretsAreAsDocumented() throws {
        let services = try Self.services()
        #expect((services["postgres"]!["image"] as! String).hasPrefix("timescale/timescaledb:"))
        #expect((services["prometheus"]!["command"] as! [String]).contains("--web.enable-remote-write-receiver"))
        let grafana = services["grafana"]!["environment"] as! [String: String]
        #expect(grafana["GF_SECURITY_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-admin}")
        #expect(grafana["FIREFLY_POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-firefly}")
        let volumes = services["grafana"]!["volumes"] as! [String]
        // Dashboards generated from compose/firefly.yaml (GeneratedOutputTests keeps them current).
        #expect(volumes.contains("./grafana/dashboards:/var/lib/grafana/dashboards:ro"))
        #expect(volumes.contains("./grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro"))
        #expect(volumes.contains("./grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro"))
    }

    @Test func everyImageIsPinnedAndOnlyTheCollectorListensBeyondLoopback() throws {
        let services = try Self.services()
        for (name, service) in services {
            guard let image = service["image"] as? String, service["build"] == nil else { continue }
            let tag = image.split(separator: ":").last.map(String.init) ?? ""
            let pinned = image.contains(":") && !tag.contains("latest") && (tag.first?.isNumber == true || tag.hasPrefix("v"))
            #expect(pinned, "\(name): \(image) is not pinned to a version")
        }
        #expect(services["grafana"]?["ports"] as? [String] == ["${GRAFANA_BIND:-127.0.0.1}:3000:3000"])
        #expect(services["prometheus"]?["ports"] as? [String] == ["${PROMETHEUS_BIND:-127.0.0.1}:9090:9090"])
        #expect(services["postgres"]?["ports"] == nil)
        let prometheus = try String(contentsOfFile: Repo.path("compose/prometheus.yml"), encoding: .utf8)
        #expect(prometheus.contains("storage:\n  tsdb:\n    out_of_order_time_window: 1h\n"))
        // Prometheus' own check of the file (promtool comes with the prometheus package make test installs).
        let check = try run("/usr/bin/env", ["promtool", "check", "config", Repo.path("compose/prometheus.yml")])
        #expect(check.status == 0, "promtool: \(check.stdout)\(check.stderr)")
    }

    @Test func dockerfileBuildsReleaseAndStagesStrippedPluginsWhereTheConfigLooks() throws {
        let dockerfile = try String(contentsOfFile: Repo.path("compose/Dockerfile"), encoding: .utf8)
        let froms = dockerfile.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(froms == ["FROM swift:${SWIFT_VERSION}-noble AS build", "FROM swift:${SWIFT_VERSION}-noble-slim"])
        #expect(dockerfile.contains("ARG SWIFT_VERSION=6.3"))
        #expect(dockerfile.contains("RUN swift build -c release\n"))
        // The system libraries the plugins link: headers to build, shared objects to run.
        #expect(dockerfile.contains("zlib1g-dev libsnappy-dev libpq-dev") && dockerfile.contains("zlib1g libsnappy1v5 libpq5"))
        // Packages are resolved in a layer before any source is copied.
        let resolve = try #require(dockerfile.range(of: "RUN swift package resolve"))
        let sources = try #require(dockerfile.range(of: "COPY Sources"))
        #expect(resolve.lowerBound < sources.lowerBound)
        #expect(dockerfile.contains("\"$bin\"/lib*Plugin.so"))
        #expect(dockerfile.contains("strip --strip-unneeded"))
        #expect(dockerfile.contains("COPY --from=build /staging/plugins/ /usr/lib/firefly/plugins/"))
        let config = try String(contentsOfFile: Repo.path("compose/firefly.yaml"), encoding: .utf8)
        #expect(config.contains("paths: [/usr/lib/firefly/plugins]"))
        // Every plugin product matches the glob; the C test fixtures do not.
        let package = try String(contentsOfFile: Repo.path("Package.swift"), encoding: .utf8)
        #expect(package.contains("name: \"FireflyPostgresPlugin\""))
        #expect(package.contains("name: \"FireflyRemoteWritePlugin\""))
        #expect(!package.contains("name: \"FireflyTestCAdapterPlugin\""))
    }

    /// `firefly check` on compose/firefly.yaml, with the image's paths rewritten to this machine's:
    /// plugins.paths → a temporary directory holding the built plugins, queue.directory → a temporary
    /// directory. Everything else (receivers, exporters, pipelines, URLs) is checked as written.
    @Test func composeConfigPassesFireflyCheck() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plugins = "\(dir)/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        for product in ["FireflyFirehosePlugin", "FireflyOTLPPlugin", "FireflyPostgresPlugin", "FireflyRemoteWritePlugin"] {
            try FileManager.default.copyItem(atPath: Build.library(product), toPath: "\(plugins)/lib\(product).so")
        }
        var config = try String(contentsOfFile: Repo.path("compose/firefly.yaml"), encoding: .utf8)
        #expect(config.contains("/usr/lib/firefly/plugins") && config.contains("/var/lib/firefly/queue"))
        config = config.replacingOccurrences(of: "/usr/lib/firefly/plugins", with: plugins)
            .replacingOccurrences(of: "/var/lib/firefly/queue", with: "\(dir)/queue")
        try config.write(toFile: "\(dir)/firefly.yaml", atomically: true, encoding: .utf8)
        let result = try run(Build.firefly, ["check", "--config", "\(dir)/firefly.yaml"], cwd: dir)
        #expect(result.status == 0, "firefly check: \(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("ok — 2 receivers, 2 exporters, 3 pipelines"), "\(result.stdout)")
    }
}
