import FireflyDemo
import FireflyModel
import FireflyTestSupport
import Foundation
import Testing

/// The durable queue of a real `firefly serve`, killed with SIGKILL and its segments damaged
/// while it is down: every record that still checks out reaches the exporters exactly once, the
/// loss is counted, logged and copied to quarantine/, and the collector then idles and stops on
/// SIGTERM. Exporters are the debug plugin: `seen` writes to a file, `held` to /dev/full (every
/// write fails, so its records stay queued) until the restart points it at a file.
@Suite(.serialized) struct QueueDamageEndToEndTests {
    static let plugins = ["FireflyTestCAdapter", "FireflyDebugPlugin"]

    static func config(held: String, type: String = "disk", withSeen: Bool = true) -> String {
        """
        server:
          listen: 127.0.0.1:0
        plugins:
          paths: [plugins]
        queue:
          type: \(type)
          directory: queue
          segment_bytes: 4096
          batch_max_wait: 20ms
          retry_initial: 100ms
          retry_max: 500ms
          drain_timeout: 2s
        receivers:
          c-adapter:
        exporters:
        \(withSeen ? "  seen: {plugin: debug, path: seen.jsonl}\n" : "")  held: {plugin: debug, path: \(held)}
        pipelines:
          metrics: {receivers: [c-adapter], exporters: [\(withSeen ? "seen, " : "")held]}
        """
    }

    /// The values of the points a debug exporter wrote (each request carries one point, value = its number).
    static func values(_ ws: Workspace, _ file: String) -> [Int] {
        ws.read(file).split(separator: "\n").map { line in
            guard let r = try? JSONDecoder().decode(DebugRecord.self, from: Data(line.utf8)), let p = r.point else { return -1 }
            return Int(p.value)
        }
    }

    static func post(_ server: FireflyServer, _ value: Int) async throws -> Int {
        try await http("POST", server.baseURL + "/c-adapter", body: Data("m \(value)\n".utf8)).status
    }

    struct Frame: Hashable {
        var offset: Int
        var length: Int
        var sequence: UInt64
    }

    /// Non-empty segment files, oldest first, with their frames (`u32 length | u32 crc | u64 sequence | payload`).
    static func layout(_ dir: String) throws -> [(file: String, frames: [Frame])] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".seg") }.sorted().compactMap { file in
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            var frames: [Frame] = []
            var offset = 0
            while offset + 16 <= bytes.count {
                let length = bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
                let sequence = bytes[(offset + 8)..<(offset + 16)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                frames.append(Frame(offset: offset, length: 16 + length, sequence: sequence))
                offset += 16 + length
            }
            return frames.isEmpty ? nil : (file, frames)
        }
    }

    /// CPU time (user + system) the process has used, in seconds, from /proc/<pid>/stat.
    static func cpuSeconds(_ pid: Int32) -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let fields = stat[(stat.lastIndex(of: ")").map { stat.index(after: $0) } ?? stat.startIndex)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func metric(_ server: FireflyServer, _ name: String) async throws -> Double? {
        let body = try await http("GET", server.baseURL + "/metrics").body
        let line = body.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ")[1]) }
    }

    /// Without a torn tail the newest segment's last record is always hit ('seen' had passed it, so
    /// its cursor is then past the end); with one, that record is left whole and a partial record
    /// follows it, as a crash in the middle of a write leaves it.
    @Test(arguments: [(7, false), (11, true)] as [(UInt64, Bool)])
    func damageAfterSIGKILLLosesOnlyWhatItHitThenTheCollectorIdlesAndStops(seed: UInt64, tornTail: Bool) async throws {
        let ws = try Workspace(plugins: Self.plugins)
        var server = try FireflyServer(workspace: ws, config: Self.config(held: "/dev/full"))
        let total = 200
        for i in 1...total { #expect(try await Self.post(server, i) == 200) }
        // 'seen' exported (and acknowledged) everything; 'held' nothing.
        #expect(await eventually(30) { Self.values(ws, "seen.jsonl").count == total && ws.read("queue/cursors/seen") == "\(total)\n" })
        server.kill9()

        let segments = try Self.layout(ws.path + "/queue/segments")
        #expect(segments.count >= 4)
        var rng = SeededGenerator(seed: seed)
        var hit: Set<UInt64> = []
        var lostBytes = 0
        var tornBytes = 0
        for (n, (file, frames)) in segments.enumerated() {
            let url = URL(fileURLWithPath: ws.path + "/queue/segments/" + file)
            var bytes = [UInt8](try Data(contentsOf: url))
            let isNewest = n == segments.count - 1
            let end = isNewest && tornTail ? frames.last!.offset : bytes.count
            var positions = (0..<Int.random(in: 1...2, using: &rng)).map { _ in Int.random(in: 0..<end, using: &rng) }
            if isNewest && !tornTail { positions.append(frames.last!.offset + 20) }
            for at in positions {
                bytes[at] ^= UInt8.random(in: 1...255, using: &rng)
                let frame = frames.first { $0.offset <= at && at < $0.offset + $0.length }!
                if hit.insert(frame.sequence).inserted { lostBytes += frame.length }
            }
            if isNewest && tornTail {
                let last = frames.last!
                tornBytes = Int.random(in: 1..<last.length, using: &rng)
                bytes += bytes[last.offset..<(last.offset + tornBytes)]
            }
            try Data(bytes).write(to: url)
        }
        let survivors = segments.flatMap(\.frames).map(\.sequence).filter { !hit.contains($0) }.map(Int.init)

        server = try FireflyServer(workspace: ws, config: Self.config(held: "held.jsonl"))
        #expect(await eventually(30) { Self.values(ws, "held.jsonl").count >= survivors.count })
        #expect(Self.values(ws, "held.jsonl") == survivors)
        #expect(try await Self.metric(server, "firefly_queue_corrupt_bytes_total") == Double(lostBytes))
        #expect(try await Self.metric(server, "firefly_queue_corrupt_records_total") == Double(hit.count))
        #expect(try await Self.metric(server, "firefly_queue_torn_tail_bytes_total") == Double(tornBytes))
        let quarantine = ws.path + "/queue/quarantine"
        let copied = try FileManager.default.contentsOfDirectory(atPath: quarantine)
            .reduce(0) { $0 + (try Data(contentsOf: URL(fileURLWithPath: quarantine + "/" + $1))).count }
        #expect(copied == lostBytes)
        let log = server.logText
        for (file, frames) in segments where frames.contains(where: { hit.contains($0.sequence) }) {
            #expect(log.contains("segment \(file) is damaged at bytes"), "no damage line for \(file)")
        }
        #expect(log.contains("cursor of 'seen' (sequence \(total)) is past the end of the queue") == hit.contains(UInt64(total)))
        #expect(log.contains("truncated a partial last record of \(tornBytes) bytes") == tornTail)
        #expect(!log.contains("acknowledged are before"))

        // Idle after the recovery: no core spinning (measured over 2 s), and SIGTERM ends it within
        // drain_timeout (2 s) and a margin.
        let pid = server.process.processIdentifier
        let before = Self.cpuSeconds(pid)
        try await Task.sleep(for: .seconds(2))
        let used = Self.cpuSeconds(pid) - before
        #expect(before >= 0 && used < 0.2, "idle collector used \(used) s of CPU in 2 s")
        let stopping = ContinuousClock.now
        let recovered = server
        #expect(try await offThePool { recovered.stop() } == 0)
        #expect(ContinuousClock.now - stopping < .seconds(5))

        // The next start finds the damage cut out; the set-back cursor takes new records; nothing
        // old is exported twice.
        server = try FireflyServer(workspace: ws, config: Self.config(held: "held.jsonl"))
        #expect(try await Self.metric(server, "firefly_queue_corrupt_bytes_total") == 0)
        #expect(try await Self.post(server, 1000) == 200)
        #expect(await eventually(30) { Self.values(ws, "seen.jsonl").count == total + 1 && Self.values(ws, "held.jsonl").count == survivors.count + 1 })
        #expect(Self.values(ws, "seen.jsonl") == Array(1...total) + [1000])
        #expect(Self.values(ws, "held.jsonl") == survivors + [1000])
        let last = server
        #expect(try await offThePool { last.stop() } == 0)
    }

    @Test func shutdownWithUnexportedRecordsSaysTheDurableQueueKeepsThem() async throws {
        let ws = try Workspace(plugins: Self.plugins)
        var server = try FireflyServer(workspace: ws, config: Self.config(held: "/dev/full", withSeen: false))
        for i in 1...3 { #expect(try await Self.post(server, i) == 200) }
        let first = server
        let status = try await offThePool { first.stop() }
        #expect(status == 0)
        #expect(server.logText.contains("shutting down with 3 records not exported yet: they stay in the queue (queue) and are delivered after restart"))
        #expect(!server.logText.contains("does not keep them"))
        // What it said is true: the next start delivers them.
        server = try FireflyServer(workspace: ws, config: Self.config(held: "held.jsonl", withSeen: false))
        #expect(await eventually(30) { Self.values(ws, "held.jsonl") == [1, 2, 3] })
        let second = server
        _ = try await offThePool { second.stop() }
    }

    @Test func shutdownWithUnexportedRecordsSaysTheMemoryQueueLosesThem() async throws {
        let ws = try Workspace(plugins: Self.plugins)
        let server = try FireflyServer(workspace: ws, config: Self.config(held: "/dev/full", type: "memory", withSeen: false))
        for i in 1...3 { #expect(try await Self.post(server, i) == 200) }
        let status = try await offThePool { server.stop() }
        #expect(status == 0)
        #expect(server.logText.contains("shutting down with 3 records not exported: the memory queue does not keep them, they are lost"))
        #expect(!server.logText.contains("delivered after restart"))
    }
}

