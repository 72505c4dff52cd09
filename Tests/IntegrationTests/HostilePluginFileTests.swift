// A truncated plugin file (a partial copy, a full disk) is an error naming it, never a crash of the CLI.
import FireflyTestSupport
import Foundation
import Testing

@Suite struct HostilePluginFileTests {
    /// A workspace with the intact C adapter and the first `size` bytes of the built debug exporter.
    func workspace(truncatedTo size: Int) throws -> (Workspace, String) {
        let ws = try Workspace(plugins: ["FireflyTestCAdapter"])
        let whole = try Data(contentsOf: URL(fileURLWithPath: Build.library("FireflyDebugPlugin")))
        #expect(whole.count > 2 * 100_000)
        let file = "\(ws.path)/plugins/libFireflyDebugPlugin.so"
        try whole.prefix(size).write(to: URL(fileURLWithPath: file))
        _ = try ws.write("firefly.yaml", CoreEndToEndTests.config)
        return (ws, file)
    }

    @Test(arguments: [64, 1_000, 10_000, 100_000, -2])
    func truncatedPluginIsAnErrorNamingTheFile(size: Int) async throws {
        let whole = try FileManager.default.attributesOfItem(atPath: Build.library("FireflyDebugPlugin"))[.size] as! Int
        let (ws, file) = try workspace(truncatedTo: size == -2 ? whole / 2 : size)
        let commands = [["plugins"], ["check", "--config", "firefly.yaml"], ["serve", "--config", "firefly.yaml"]]
        for command in commands {
            // `timeout`: a `serve` that started anyway would otherwise run on.
            let dir = ws.path
            let r = try await offThePool { try run("/usr/bin/timeout", ["30", Build.firefly] + command, cwd: dir) }
            // 1 is the CLI's own failure; a crash reports the signal (SIGBUS = 7, SIGSEGV = 11).
            #expect(r.status == 1, "firefly \(command[0]) exited with \(r.status): \(r.stderr)")
            #expect(r.stderr.contains(file), "firefly \(command[0]): \(r.stderr)")
            #expect(
                r.stderr.contains("cannot load: truncated or damaged shared object (file is "),
                "firefly \(command[0]): \(r.stderr)")
        }
    }

    @Test func untouchedPluginStillLoads() async throws {
        let whole = try FileManager.default.attributesOfItem(atPath: Build.library("FireflyDebugPlugin"))[.size] as! Int
        let (ws, _) = try workspace(truncatedTo: whole)
        let dir = ws.path
        let r = try await offThePool { try runFirefly(["plugins"], in: dir) }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) } == ["NAME", "c-adapter", "debug"])
    }
}
