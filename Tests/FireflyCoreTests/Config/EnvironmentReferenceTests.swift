import Testing

@testable import FireflyCore

/// `${VAR}` references inside YAML flow collections, where `{`, `}` and `,` are YAML's own.
@Suite struct EnvironmentReferenceTests {
    let loader = ConfigLoader(environment: ["DIR": "/opt/firefly/plugins", "EMPTY": "", "KEY": "k,1"])

    @Test func referencesInFlowSequencesExpandLikeInBlockSequences() throws {
        let flow = try loader.parse("""
            plugins:
              paths: [${DIR:-x}, ${UNSET:-./plugins.d}, "${EMPTY:-quoted}", plain]
            receivers:
              firehose:
                access_keys: [${KEY}]
            exporters:
              debug:
            pipelines:
              metrics: {receivers: [firehose], exporters: [debug]}
            """)
        #expect(flow.plugins.paths == ["/opt/firefly/plugins", "./plugins.d", "quoted", "plain"])
        #expect(flow.receivers.first?.settingsJSON.contains(#"["k,1"]"#) == true, "\(flow.receivers)")
        let block = try loader.parse("""
            plugins:
              paths:
                - ${DIR:-x}
                - ${UNSET:-./plugins.d}
            receivers:
              otlp:
            exporters:
              debug:
            pipelines:
              metrics: {receivers: [otlp], exporters: [debug]}
            """)
        #expect(block.plugins.paths == ["/opt/firefly/plugins", "./plugins.d"])
    }

    @Test func aReferenceInAFlowMappingValueExpands() throws {
        let config = try loader.parse("""
            server: {listen: "127.0.0.1:${PORT:-4399}", body_min_rate: ${RATE:-2048}}
            receivers:
              otlp:
            exporters:
              debug:
            pipelines:
              metrics: {receivers: [otlp], exporters: [debug]}
            """)
        #expect(config.server.port == 4399)
        #expect(config.server.bodyMinRate == 2048)
    }

    @Test func anUnterminatedReferenceIsStillReportedAtItsLine() {
        let (_, problems) = loader.parseCollectingProblems("""
            plugins:
              paths: [${DIR]
            """)
        #expect(!problems.isEmpty)
        #expect(problems.contains { $0.description.contains("firefly.yaml:2") }, "\(problems)")
    }

    @Test func shieldingIsUndoneExactly() {
        let text = "a: [${X:-a,b}, ${Y}]\nb: ${Z:-[q]}\n"
        let shielded = EnvironmentReferences.shield(text)
        #expect(!shielded.contains("{") && !shielded.contains("}"))
        #expect(shielded.count == text.count)
        #expect(EnvironmentReferences.unshield(shielded) == text)
    }
}
