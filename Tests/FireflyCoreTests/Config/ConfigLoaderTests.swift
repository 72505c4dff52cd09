import Testing

@testable import FireflyCore

@Suite struct ConfigLoaderTests {
    let loader = ConfigLoader(environment: ["PG_URL": "postgres://u:secret@db/firefly", "EMPTY": ""])

    @Test func parsesTheDocumentedShape() throws {
        let config = try loader.parse("""
            server:
              listen: 127.0.0.1:9999
              max_body_bytes: 2048
              idle_timeout: 90s
              body_timeout: 2m
            plugins:
              paths: [a, /b]
            queue:
              directory: /tmp/q
              max_bytes: 2097152
              batch_max_wait: 50ms
            receivers:
              firehose:
                plugin: firehose
                path: /fh
                access_keys: ["k1", "${EMPTY:-}"]
              webhook/github:
                secret: ${PG_URL}
            exporters:
              debug:
            pipelines:
              metrics: {receivers: [firehose, webhook/github], exporters: [debug]}
              traces/extra: {receivers: [firehose], exporters: [debug]}
            """)
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 9999)
        #expect(config.server.maxBodyBytes == 2048)
        #expect(config.server.idleTimeout == .seconds(90))
        #expect(config.server.bodyTimeout == .seconds(120))
        #expect(ServerConfig.default.idleTimeout == .seconds(60) && ServerConfig.default.bodyTimeout == .seconds(300))
        #expect(config.plugins.paths == ["a", "/b"])
        #expect(config.queue.directory == "/tmp/q")
        #expect(config.queue.batchMaxWait == .milliseconds(50))
        #expect(config.receivers.map(\.name) == ["firehose", "webhook/github"])
        #expect(config.receivers[0].settingsJSON == #"{"path":"/fh","access_keys":["k1",""]}"#)
        #expect(config.receivers[1].plugin == "webhook")  // defaults to the name before '/'
        #expect(config.receivers[1].settingsJSON == #"{"secret":"postgres://u:secret@db/firefly"}"#)
        #expect(config.exporters.map(\.plugin) == ["debug"])
        #expect(config.exporters[0].settingsJSON == "{}")
        #expect(config.pipelines.map(\.signal) == [.metrics, .traces])
        #expect(config.pipelines[0].receivers == ["firehose", "webhook/github"])
    }

    /// YAML's null spellings leave a section empty; quoted, the same text is a string, which is no section.
    @Test func nullSectionsAreEmpty() {
        for null in ["", "~", "null", "Null", "NULL"] {
            let (config, problems) = loader.parseCollectingProblems("receivers: \(null)\nexporters: \(null)\n")
            #expect(config.receivers.isEmpty && config.exporters.isEmpty)
            #expect(!problems.contains { $0.path == "receivers" || $0.path == "exporters" }, "\(null): \(problems)")
        }
        let (_, problems) = loader.parseCollectingProblems("receivers: \"~\"\n")
        #expect(problems.contains { $0.path == "receivers" })
    }

    @Test func plainScalarsAreTypedAndQuotedOnesStayStrings() throws {
        let config = try ConfigLoader(environment: ["N": "42"]).parse("""
            exporters:
              x:
                plugin: p
                a: 5
                b: "5"
                c: true
                d: 1.5
                e: ~
                f: ${N}
                g: "${N}"
                h: [1, two]
            receivers:
              r: {plugin: q}
            pipelines:
              metrics: {receivers: [r], exporters: [x]}
            """)
        #expect(config.exporters[0].settingsJSON == #"{"a":5,"b":"5","c":true,"d":1.5,"e":null,"f":42,"g":"42","h":[1,"two"]}"#)
    }

    @Test func reportsEveryProblemWithLineAndColumn() {
        let text = """
            server:
              listen: 0.0.0.0:4318
              max_body_byte: 10
            receivers:
              firehose:
                plugin: firehose
            exporters:
              postgres:
                plugin: postgres
            pipelines:
              metrics:
                receivers: [firehose]
                exporters: [postgress, missing]
            """
        #expect(throws: ConfigError.self) { try loader.parse(text) }
        do {
            _ = try loader.parse(text)
        } catch {
            #expect(error.problems.map(\.description) == [
                "firefly.yaml:3:3: error: server.max_body_byte: unknown key 'max_body_byte' (did you mean 'max_body_bytes'?)",
                "firefly.yaml:13:17: error: pipelines.metrics.exporters[0]: exporter 'postgress' is not defined under exporters: did you mean 'postgres'?",
                "firefly.yaml:13:28: error: pipelines.metrics.exporters[1]: exporter 'missing' is not defined under exporters:",
            ])
        }
    }

    /// The smallest valid configuration, for tests of the sections it leaves out (their lines start at 8).
    static let minimal = """
        receivers:
          firehose:
        exporters:
          debug:
        pipelines:
          metrics: {receivers: [firehose], exporters: [debug]}

        """

    @Test func alertThresholdsHaveDefaultsOverridesAndClearErrors() throws {
        let base = Self.minimal
        #expect(try loader.parse(base).alerts == AlertsConfig())
        let tuned = try loader.parse(base + """
            alerts:
              error_rate: 0.1
              iterator_age: 5m
              account_concurrency: 2400
              functions:
                checkout: {error_rate: 0.01, cold_start_rate: 0.5}
            """).alerts
        #expect(tuned.errorRate == 0.1 && tuned.coldStartRate == 0.2 && tuned.iteratorAge == .seconds(300))
        #expect(tuned.accountConcurrency == 2400)
        #expect(tuned.functions == ["checkout": AlertsConfig.Thresholds(errorRate: 0.01, coldStartRate: 0.5)])
        do {
            _ = try loader.parse(base + """
                alerts:
                  error_rate: 5
                  functions:
                    checkout: {error_rat: 0.01}
                """)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.description) == [
                "firefly.yaml:8:15: error: alerts.error_rate: expected a share between 0 and 1, such as 0.05 for 5 %",
                "firefly.yaml:10:16: error: alerts.functions.checkout.error_rat: unknown key 'error_rat' (did you mean 'error_rate'?)",
            ])
        }
    }

    @Test func alertTimeoutsAndContactPointParseAndLeaveGrafanasVariablesAlone() throws {
        let base = Self.minimal
        let defaults = try loader.parse(base).alerts
        #expect(defaults.timeout == nil && defaults.durationNearTimeout == 0.9 && defaults.contactPoint == nil)
        let config = try loader.parse(base + """
            alerts:
              timeout: 30s
              duration_near_timeout: 0.8
              functions:
                report: {timeout: 15m}
              contact_point:
                type: slack
                settings:
                  url: $PG_URL
                  recipient: "#lambda"
                  mentionUsers: [u1, "u2"]
                  options: {retries: 3, verbose: true, note: $$literal}
            """)
        let alerts = config.alerts
        #expect(alerts.timeout == .seconds(30) && alerts.durationNearTimeout == 0.8)
        #expect(alerts.functions == ["report": AlertsConfig.Thresholds(timeout: .seconds(900))])
        let contactPoint = try #require(alerts.contactPoint)
        #expect(contactPoint.type == "slack")
        // `$PG_URL` is Grafana's to resolve: firefly writes it as it is, though PG_URL is set here.
        #expect(contactPoint.settings.text
            == ##"{"url":"$PG_URL","recipient":"#lambda","mentionUsers":["u1","u2"],"options":{"retries":3,"verbose":true,"note":"$$literal"}}"##)

        // A bare `$NAME` is left alone everywhere else too: only `${NAME}` is firefly's.
        let plugin = try loader.parse("""
            receivers:
              webhook:
                secret: $PG_URL
                url: ${PG_URL}
            exporters:
              debug:
            pipelines:
              metrics: {receivers: [webhook], exporters: [debug]}
            """)
        let alertmanager = try loader.parse(base + "alerts:\n  contact_point: {type: prometheus-alertmanager, settings: {url: $AM_URL}}\n")
        #expect(alertmanager.alerts.contactPoint?.type == "prometheus-alertmanager")
        #expect(plugin.receivers.first?.settingsJSON == #"{"secret":"$PG_URL","url":"postgres://u:secret@db/firefly"}"#)
    }

    @Test func alertTimeoutsAndContactPointReportEveryProblem() throws {
        do {
            _ = try loader.parse(Self.minimal + """
                alerts:
                  timeout: 20m
                  duration_near_timeout: 0
                  contact_point:
                    type: "slack hook"
                    settings: {url: "${PG_URL}"}
                    recipients: x
                  functions:
                    report: {timeout: fast}
                """)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.description) == [
                "firefly.yaml:8:12: error: alerts.timeout: a Lambda timeout is between 1s and 15m",
                "firefly.yaml:9:26: error: alerts.duration_near_timeout: must be above 0 (0.9 is 90 % of the timeout)",
                "firefly.yaml:11:11: error: alerts.contact_point.type: expected a Grafana contact point type such as email, slack, webhook, pagerduty or teams",
                "firefly.yaml:12:21: error: alerts.contact_point.settings.url: '${PG_URL}' would write the variable's value into the generated provisioning file; write $PG_URL (no braces): Grafana reads it from its own environment",
                "firefly.yaml:13:5: error: alerts.contact_point.recipients: unknown key 'recipients'; expected one of: type, settings",
                "firefly.yaml:15:23: error: alerts.functions.report.timeout: expected a duration such as 200ms, 30s or 5m",
            ])
        }
        for (yaml, message) in [
            ("{type: email}", "alerts.contact_point.settings: required when contact_point is set"),
            ("{type: email, settings: {}}", "alerts.contact_point.settings: Grafana needs at least one setting"),
            ("{type: email, settings: [a]}", "alerts.contact_point.settings: expected a mapping of the contact point's settings, such as {url: $SLACK_URL}"),
            ("{settings: {addresses: a@example.com}}", "alerts.contact_point.type: required when contact_point is set"),
            ("email", "alerts.contact_point: expected a mapping"),
            ("{type: \"\", settings: {url: x}}", "alerts.contact_point.type: expected a Grafana contact point type such as email, slack, webhook, pagerduty or teams"),
        ] {
            do {
                _ = try loader.parse(Self.minimal + "alerts:\n  contact_point: \(yaml)\n")
                Issue.record("accepted \(yaml)")
            } catch {
                #expect(error.problems.map(\.message) == [String(message.split(separator: ": ", maxSplits: 1)[1])], "\(yaml)")
                #expect(error.problems.map(\.path) == [String(message.split(separator: ": ", maxSplits: 1)[0])], "\(yaml)")
            }
        }
    }

    @Test func pricesHaveDefaultsPerFunctionArchitecturesAndClearErrors() throws {
        let base = Self.minimal
        #expect(try loader.parse(base).pricing == PricingConfig())
        let priced = try loader.parse(base + """
            pricing:
              gb_second: 0.00002
              architecture: arm64
              functions: {legacy: x86_64}
            """).pricing
        #expect(priced.x86GBSecond == 0.00002 && priced.arm64GBSecond == PricingConfig().arm64GBSecond)
        #expect(priced.architecture == .arm64 && priced.functions == ["legacy": .x86_64])
        do {
            _ = try loader.parse(base + """
                pricing:
                  request: free
                  functions: {legacy: risc-v}
                """)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.description) == [
                "firefly.yaml:8:12: error: pricing.request: expected a price in USD above 0, such as 0.0000166667",
                "firefly.yaml:9:23: error: pricing.functions.legacy: must be one of x86_64, arm64",
            ])
        }
    }

    @Test func unsetEnvironmentVariableIsAnErrorThatNamesItButNoValue() {
        do {
            _ = try loader.parse("exporters:\n  x: {plugin: p, url: \"${NOPE}\"}\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.first?.description.contains("environment variable NOPE is not set") == true)
        }
    }

    @Test func problemsNeverEchoSecrets() {
        do {
            _ = try loader.parse("server:\n  listen: ${PG_URL}\n")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("secret"))
            #expect(error.description.contains("server.listen: expected host:port"))
        }
    }

    @Test func invalidYAMLIsReportedWithItsPosition() {
        do {
            _ = try loader.parse("server:\n  listen: [unclosed\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems[0].description.hasPrefix("firefly.yaml:"))
            #expect(error.problems[0].description.contains("invalid YAML"))
        }
    }

    @Test func pipelineKindsAreChecked() {
        do {
            _ = try loader.parse("receivers: {r: {plugin: a}}\nexporters: {e: {plugin: b}}\npipelines:\n  metric: {receivers: [r], exporters: [e]}\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.map(\.description) == [
                "firefly.yaml:4:3: error: pipelines.metric: pipeline names start with 'metrics' or 'traces' (optionally '/<suffix>'); did you mean 'metrics'?"
            ])
        }
    }

    @Test func anIdleTimeoutBelowATenthOfASecondIsRefused() {
        do {
            _ = try loader.parse("server:\n  idle_timeout: 50ms\n")
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.description) == ["firefly.yaml:2:17: error: server.idle_timeout: must be at least 100ms"])
        }
    }

    @Test func durationsParse() {
        #expect(DurationText.parse("200ms") == .milliseconds(200))
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("30d") == .seconds(30 * 86400))
        #expect(DurationText.parse("5 minutes") == nil)
        #expect(DurationText.parse("s") == nil)
    }
}
