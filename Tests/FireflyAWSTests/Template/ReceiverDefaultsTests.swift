import FireflyAWS
import Foundation
import Testing

@Suite struct ReceiverDefaultsTests {
    @Test func theDefaultConfigurationGivesPathAndKeyVariable() throws {
        let text = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../firefly.yaml"), encoding: .utf8)
        let defaults = try ReceiverDefaults.read(yaml: text)
        #expect(defaults.receiver == "firehose")
        #expect(defaults.path == "/firehose")
        #expect(defaults.accessKeyVariable == "FIREHOSE_ACCESS_KEY")
        #expect(!defaults.hasLiteralAccessKey)
    }

    @Test func anInstanceWithItsOwnPathAndVariable() throws {
        let defaults = try ReceiverDefaults.read(
            yaml: """
                receivers:
                  otlp: {plugin: otlp}
                  firehose/prod:
                    plugin: firehose
                    path: /aws/prod
                    access_keys: ["", "${PROD_KEY}", "${OLD_KEY:-x}"]
                """)
        #expect(defaults.receiver == "firehose/prod")
        #expect(defaults.path == "/aws/prod")
        #expect(defaults.accessKeyVariable == "PROD_KEY")
        #expect(defaults.endpointURL("https://f.example.com") == "https://f.example.com/aws/prod")
        #expect(defaults.endpointURL("https://f.example.com/") == "https://f.example.com/aws/prod")
        #expect(defaults.endpointURL("https://f.example.com/custom") == "https://f.example.com/custom")
    }

    @Test func aLiteralKeyIsNotedButNeverRead() throws {
        let defaults = try ReceiverDefaults.read(yaml: "receivers:\n  firehose:\n    plugin: firehose\n    access_keys: [s3cr3t]\n")
        #expect(defaults.hasLiteralAccessKey)
        #expect(defaults.accessKeyVariable == nil)
        let template = try StackTemplate(options: StackOptions(endpointURL: "https://f.example.com/firehose"))
        let deploy = template.deployCommand(file: "firefly-aws.yaml", defaults: defaults)
        #expect(!deploy.contains("s3cr3t"))
        #expect(deploy.contains("AccessKey=\"$FIREHOSE_ACCESS_KEY\""))
    }

    @Test func noFirehoseReceiverGivesDefaultsAndANote() throws {
        let defaults = try ReceiverDefaults.read(yaml: "receivers:\n  otlp: {plugin: otlp}\n")
        #expect(defaults == ReceiverDefaults())
        let template = try StackTemplate(options: StackOptions(endpointURL: "https://f.example.com/firehose"))
        #expect(template.notes(defaults: defaults, configFile: "firefly.yaml").first?.contains("has no firehose receiver") == true)
        #expect(throws: (any Error).self) { try ReceiverDefaults.read(yaml: "receivers: [\n") }
    }
}
