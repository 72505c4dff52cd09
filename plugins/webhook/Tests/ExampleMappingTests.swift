import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Foundation
import Testing
import WebhookAdapter

/// The README's two example mappings, run on the sample payloads in testdata/.
@Suite struct ExampleMappingTests {
    static let receivedAt: UInt64 = 1_700_000_000_000_000_000

    @Test(arguments: ["github-workflow_run", "github-workflow_job", "github-ping"])
    func githubSampleProducesTheDocumentedPoints(_ sample: String) throws {
        let hook = try WebhookAdapter(
            context: .standalone(instanceName: "webhook/github"), config: PluginConfig(json: testdata.text("github.config.json")))
        let points = try hook.points(body: testdata.bytes("\(sample).json"), receivedAt: Self.receivedAt)
        #expect(points == (try testdata.expected("\(sample).expected.json")))
    }

    @Test func githubDeliveryIsVerifiedAndAccepted() throws {
        let hook = try WebhookAdapter(
            context: .standalone(instanceName: "webhook/github"), config: PluginConfig(json: testdata.text("github.config.json")))
        #expect(hook.routes == [Route("POST", "/webhook/github")])
        let sink = RecordingSink()
        let signature = try testdata.text("github-workflow_run.json.sig").trimmingCharacters(in: .whitespacesAndNewlines)
        let request = PluginRequest(
            method: "POST", path: "/webhook/github",
            headers: [("Content-Type", "application/json"), ("X-GitHub-Event", "workflow_run"), ("X-Hub-Signature-256", signature)],
            body: try testdata.bytes("github-workflow_run.json"))
        let response = hook.handle(request, sink: sink)
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"accepted":3}"#)
        #expect(sink.points == (try testdata.expected("github-workflow_run.expected.json")))
    }

    @Test func vercelLogDrainProducesTheDocumentedPoints() throws {
        let hook = try WebhookAdapter(
            context: .standalone(instanceName: "webhook/vercel"), config: PluginConfig(json: testdata.text("vercel.config.json")))
        #expect(hook.routes == [Route("POST", "/drains/vercel")])
        let sink = RecordingSink()
        let signature = try testdata.text("vercel-log-drain.ndjson.sig").trimmingCharacters(in: .whitespacesAndNewlines)
        let request = PluginRequest(
            method: "POST", path: "/drains/vercel",
            headers: [("Content-Type", "application/x-ndjson"), ("x-vercel-signature", signature)],
            body: try testdata.bytes("vercel-log-drain.ndjson"))
        let response = hook.handle(request, sink: sink)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"accepted":7}"#)
        #expect(response.status == 200)
        #expect(sink.points == (try testdata.expected("vercel-log-drain.expected.json")))
    }

    @Test func vercelLogDrainAsAJSONArrayGivesTheSamePoints() throws {
        let hook = try WebhookAdapter(
            context: .standalone(instanceName: "webhook/vercel"), config: PluginConfig(json: testdata.text("vercel.config.json")))
        let lines = try testdata.text("vercel-log-drain.ndjson").split(separator: "\n")
        let array = "[" + lines.joined(separator: ",\n") + "]"
        #expect(try hook.points(body: Array(array.utf8), receivedAt: 0) == (try testdata.expected("vercel-log-drain.expected.json")))
    }
}
