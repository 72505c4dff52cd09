import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Testing
import WebhookAdapter

@Suite struct MappingTests {
    func points(_ metrics: String, _ text: String, receivedAt: UInt64 = 42) throws -> [MetricPoint] {
        try mapper(metrics).points(body: body(text), receivedAt: receivedAt)
    }

    func failure(_ metrics: String, _ text: String) throws -> WebhookBodyError? {
        let hook = try mapper(metrics)
        do throws(WebhookBodyError) {
            _ = try hook.points(body: body(text), receivedAt: 0)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Timestamps

    @Test(arguments: [
        ("rfc3339", #""2023-11-14T22:13:20Z""#, 1_700_000_000_000_000_000 as UInt64),
        ("rfc3339", #""2023-11-14T22:13:20.123456789Z""#, 1_700_000_000_123_456_789),
        ("rfc3339", #""2023-11-14t23:13:20.5+01:00""#, 1_700_000_000_500_000_000),
        ("rfc3339", #""2023-11-14 17:13:20-05:00""#, 1_700_000_000_000_000_000),
        ("rfc3339", #""2024-02-29T00:00:00z""#, 1_709_164_800_000_000_000),
        ("unix_s", "1700000000", 1_700_000_000_000_000_000),
        ("unix_s", "1700000000.123456789", 1_700_000_000_123_456_789),
        ("unix_s", #""1700000000.5""#, 1_700_000_000_500_000_000),
        ("unix_s", "1.7e9", 1_700_000_000_000_000_000),
        ("unix_ms", "1700000000123", 1_700_000_000_123_000_000),
        ("unix_ms", "1700000000123.5", 1_700_000_000_123_500_000),
        ("unix_ns", "1700000000123456789", 1_700_000_000_123_456_789),
        ("unix_ns", #""1700000000123456789""#, 1_700_000_000_123_456_789),
    ])
    func timestampFormats(_ format: String, _ literal: String, _ expected: UInt64) throws {
        let p = try points(#"[{"name": "m", "value": "v", "timestamp": "t", "timestamp_format": "\#(format)"}]"#, #"{"v": 1, "t": \#(literal)}"#)
        #expect(p == [gauge("m", at: expected, 1)])
    }

    @Test func withoutTimestampThePointTakesTheReceiveTime() throws {
        #expect(try points(#"[{"name": "m", "value": "v"}]"#, #"{"v": 2.5}"#, receivedAt: 777) == [gauge("m", at: 777, 2.5)])
    }

    @Test(arguments: [
        ("rfc3339", "1700000000", "expected an RFC 3339 timestamp string, found number"),
        ("rfc3339", #""2023-11-14""#, "not an RFC 3339 timestamp"),
        ("rfc3339", #""2023-02-29T00:00:00Z""#, "not an RFC 3339 timestamp"),
        ("rfc3339", #""2023-11-14T22:13:20""#, "not an RFC 3339 timestamp"),
        ("unix_s", "-5", "not a non-negative unix_s timestamp within range"),
        ("unix_s", #""soon""#, "not a non-negative unix_s timestamp within range"),
        ("unix_ns", "true", "expected a number (unix_ns), found boolean"),
        ("unix_s", "1e30", "not a non-negative unix_s timestamp within range"),
    ])
    func badTimestampsAreRefused(_ format: String, _ literal: String, _ message: String) throws {
        let error = try failure(#"[{"name": "m", "value_constant": 1, "timestamp": "t", "timestamp_format": "\#(format)"}]"#, #"{"t": \#(literal)}"#)
        #expect(error == .mapping(MappingFailure(message: message, field: "metrics[0].timestamp", path: "$.t")))
    }

    // MARK: Values, labels, kinds

    @Test func valueTypes() throws {
        let metrics = #"[{"name": "m", "value": "v"}]"#
        #expect(try points(metrics, #"{"v": "12.5"}"#) == [gauge("m", at: 42, 12.5)])
        #expect(try points(metrics, #"{"v": true}"#) == [gauge("m", at: 42, 1)])
        #expect(try points(metrics, #"{"v": false}"#) == [gauge("m", at: 42, 0)])
        #expect(try points(metrics, #"{"v": -3e2}"#) == [gauge("m", at: 42, -300)])
    }

    @Test(arguments: [
        (#"{"v": "fast"}"#, "expected a number, found a non-numeric string"),
        (#"{"v": "inf"}"#, "expected a number, found a non-numeric string"),
        (#"{"v": {"x": 1}}"#, "expected a number, found object"),
        (#"{"v": [1]}"#, "expected a number, found array"),
    ])
    func wrongValueTypesAreRefused(_ event: String, _ message: String) throws {
        #expect(try failure(#"[{"name": "m", "value": "v"}]"#, event) == .mapping(MappingFailure(message: message, field: "metrics[0].value", path: "$.v")))
    }

    @Test func labelsStringifyScalarsAndRefuseStructures() throws {
        let metrics = #"[{"name": "m", "value_constant": 1, "labels": {"s": "s", "i": "i", "big": "big", "f": "f", "b": "b"}}]"#
        let p = try points(metrics, #"{"s": "x", "i": 200, "big": 123456789012345678901234, "f": 2.50, "b": false}"#)
        #expect(p == [gauge("m", ["s": "x", "i": "200", "big": "123456789012345678901234", "f": "2.5", "b": "false"], at: 42, 1)])
        #expect(
            try failure(metrics, #"{"s": {"a": 1}, "i": 1, "big": 1, "f": 1, "b": 1}"#)
                == .mapping(MappingFailure(message: "expected a string, number or boolean, found object", field: "metrics[0].labels.s", path: "$.s")))
    }

    @Test func labelDefaultsCoverMissingAndNullAndEmptyLabelsAreDropped() throws {
        let metrics = #"[{"name": "m", "value_constant": 1, "labels": {"env": {"path": "env", "default": "unknown"}, "cache": {"path": "cache", "default": ""}, "name": "name"}}]"#
        #expect(try points(metrics, #"{"name": "", "env": null}"#) == [gauge("m", ["env": "unknown"], at: 42, 1)])
        #expect(try points(metrics, #"{"name": "a", "env": "prod", "cache": "HIT"}"#) == [gauge("m", ["env": "prod", "cache": "HIT", "name": "a"], at: 42, 1)])
    }

    @Test func counterUnitFunctionScaleAndStaticLabels() throws {
        let metrics = #"""
            [{"name": "duration_seconds", "kind": "counter", "unit": "s", "value": "ms", "scale": 0.001,
              "function": "fn", "static_labels": {"env": "prod", "team": "payments"}, "labels": {"region": "r"}}]
            """#
        let p = try points(metrics, #"{"ms": 1840, "fn": "checkout-api", "r": "eu-west-1"}"#)
        let expected = MetricPoint(
            name: "duration_seconds", unit: "s", function: "checkout-api", kind: .deltaSum, isMonotonic: true,
            labels: [Label("env", "prod"), Label("region", "eu-west-1"), Label("team", "payments")], timeUnixNano: 42, value: 1.84)
        #expect(p == [expected])
        #expect(
            try failure(metrics, #"{"ms": -1, "fn": "f", "r": "x"}"#)
                == .mapping(MappingFailure(message: "a counter's value must not be negative", field: "metrics[0].value", path: "$.ms")))
    }

    @Test func valueDurationIsEndMinusStartInSeconds() throws {
        let metrics = #"[{"name": "d", "value_duration": {"start": "a", "end": "b", "format": "unix_ms"}}]"#
        #expect(try points(metrics, #"{"a": 1700000000000, "b": 1700000001840}"#) == [gauge("d", at: 42, 1.84)])
    }

    // MARK: for_each and conditions

    @Test func specExampleDeployChecks() throws {
        let metrics = #"""
            [{"for_each": "$.checks[*]", "name": "deploy_check_duration_seconds", "value": "@.duration_ms", "scale": 0.001,
              "timestamp": "$.finished_at", "timestamp_format": "rfc3339",
              "labels": {"service": "$.service", "check": "@.name"}, "static_labels": {"env": "prod"}}]
            """#
        let event = #"{"service":"checkout","finished_at":"2023-11-14T22:13:20Z","checks":[{"name":"smoke","duration_ms":1840},{"name":"canary","duration_ms":63012}]}"#
        let t: UInt64 = 1_700_000_000_000_000_000
        #expect(
            try points(metrics, event) == [
                gauge("deploy_check_duration_seconds", ["check": "smoke", "env": "prod", "service": "checkout"], at: t, 1.84),
                gauge("deploy_check_duration_seconds", ["check": "canary", "env": "prod", "service": "checkout"], at: t, 63.012),
            ])
    }

    @Test func forEachOverAMissingArrayIsABadRequestUnlessARootConditionSkipsTheEvent() throws {
        #expect(
            try failure(#"[{"name": "m", "for_each": "items[*]", "value": "v"}]"#, #"{"other": 1}"#)
                == .mapping(MappingFailure(message: "missing required field", field: "metrics[0].for_each", path: "$.items")))
        #expect(try points(#"[{"name": "m", "for_each": "items[*]", "value": "v", "condition": {"path": "$.type", "equals": "batch"}}]"#, #"{"type": "ping"}"#) == [])
        #expect(try points(#"[{"name": "m", "for_each": "items[*]", "value": "v"}]"#, #"{"items": []}"#) == [])
    }

    @Test func conditionsCompareStringsNumbersBooleansNullAndPresence() throws {
        func count(_ condition: String, _ event: String) throws -> Int {
            try points(#"[{"name": "m", "value_constant": 1, "condition": \#(condition)}]"#, event).count
        }
        #expect(try count(#"{"path": "a", "equals": "x"}"#, #"{"a": "x"}"#) == 1)
        #expect(try count(#"{"path": "a", "equals": "x"}"#, #"{"a": "y"}"#) == 0)
        #expect(try count(#"{"path": "a", "equals": "1"}"#, #"{"a": 1}"#) == 0)
        #expect(try count(#"{"path": "a", "equals": 200}"#, #"{"a": 200.0}"#) == 1)
        #expect(try count(#"{"path": "a", "equals": true}"#, #"{"a": true}"#) == 1)
        #expect(try count(#"{"path": "a", "equals": true}"#, #"{"a": 1}"#) == 0)
        #expect(try count(#"{"path": "a", "equals": "x"}"#, #"{"b": 1}"#) == 0)
        #expect(try count(#"{"path": "a.b", "exists": true}"#, #"{"a": {"b": 0}}"#) == 1)
        #expect(try count(#"{"path": "a.b", "exists": false}"#, #"{"a": {"b": 0}}"#) == 0)
        #expect(try count(#"{"path": "a.b", "exists": false}"#, #"{"a": 3}"#) == 1)
        #expect(try count(#"[{"path": "a", "equals": 1}, {"path": "b", "equals": 2}]"#, #"{"a": 1, "b": 2}"#) == 1)
        #expect(try count(#"[{"path": "a", "equals": 1}, {"path": "b", "equals": 2}]"#, #"{"a": 1, "b": 3}"#) == 0)
    }

    @Test func elementConditionsFilterForEachElements() throws {
        let metrics = #"[{"name": "m", "for_each": "steps[*]", "value": "ms", "condition": {"path": "ok", "equals": true}, "labels": {"step": "name"}}]"#
        let p = try points(metrics, #"{"steps": [{"name": "a", "ms": 1, "ok": true}, {"name": "b", "ok": false}, {"name": "c", "ms": 3, "ok": true}]}"#)
        #expect(p == [gauge("m", ["step": "a"], at: 42, 1), gauge("m", ["step": "c"], at: 42, 3)])
    }

    // MARK: Bodies

    @Test func arraysAndNDJSONAreOneEventPerElementOrLine() throws {
        let metrics = #"[{"name": "m", "value": "v"}]"#
        let expected = [gauge("m", at: 42, 1), gauge("m", at: 42, 2), gauge("m", at: 42, 3)]
        #expect(try points(metrics, #"[{"v": 1}, {"v": 2}, {"v": 3}]"#) == expected)
        #expect(try points(metrics, "{\"v\": 1}\n{\"v\": 2}\r\n\n{\"v\": 3}\n") == expected)
        #expect(try points(metrics, "[{\"v\": 1}, {\"v\": 2}]\n{\"v\": 3}") == expected)
        #expect(try points(metrics, "[]") == [])
    }

    @Test func errorsInMultiEventBodiesNameTheEvent() throws {
        let metrics = #"[{"name": "m", "value": "v"}]"#
        #expect(
            try failure(metrics, "{\"v\": 1}\n{\"w\": 2}\n")
                == .mapping(MappingFailure(message: "missing required field", field: "metrics[0].value", path: "$[1].v")))
        #expect(
            try failure(metrics, #"[{"v": 1}, {"v": 2}, {"v": "x"}]"#)
                == .mapping(MappingFailure(message: "expected a number, found a non-numeric string", field: "metrics[0].value", path: "$[2].v")))
        #expect(
            try failure(metrics, #"[{"v": 1}, 7]"#)
                == .mapping(MappingFailure(message: "missing required field", field: "metrics[0].value", path: "$[1].v")))
    }

    @Test(arguments: [
        (#"{"v": 1"#, "invalid JSON at line 1, column 8: unexpected end of body inside an object"),
        ("{\"v\": 1}\n{\"v\": 2,}", "invalid JSON at line 2, column 9: expected a string key"),
        (#"{"v": 1} {"v": 2}"#, "invalid JSON at line 1, column 10: expected a newline or the end of the body after a value"),
        (#"{"v": 01}"#, "invalid JSON at line 1, column 8: invalid number: leading zero"),
        (#"{"v": NaN}"#, "invalid JSON at line 1, column 7: unexpected character 'N'"),
        ("{\"v\": \"a\u{01}\"}", "invalid JSON at line 1, column 9: control character in a string"),
        (#"{"v": "\ud800"}"#, "invalid JSON at line 1, column 14: unpaired surrogate in a string"),
        (#"{'v': 1}"#, "invalid JSON at line 1, column 2: expected a string key"),
    ])
    func badJSONIsABadRequest(_ text: String, _ message: String) throws {
        let response = post(try mapper(#"[{"name": "m", "value": "v"}]"#), text)
        #expect(response.status == 400)
        #expect(response.text == JSONText.object(["error": message]))
    }

    @Test func stringEscapesDecode() throws {
        let p = try points(#"[{"name": "m", "value_constant": 1, "labels": {"s": "s"}}]"#, #"{"s": "a\"b\\c\/d\n\u00e9\ud83d\ude80"}"#)
        #expect(p == [gauge("m", ["s": "a\"b\\c/d\né🚀"], at: 42, 1)])
    }

    @Test func emptyBodyIsABadRequest() throws {
        let response = post(try mapper(#"[{"name": "m", "value": "v"}]"#), " \n")
        #expect(response.status == 400)
        #expect(response.text == #"{"error":"empty body"}"#)
    }

    // MARK: Configuration

    @Test func everyConfigurationProblemIsReportedAtOnce() throws {
        let json = #"""
            {"path": "hooks", "auth": {"type": "hmac", "max_age": "soon"},
             "metrics": [
               {"name": "1bad", "value": "a", "value_constant": 2, "kind": "histogram"},
               {"name": "ok", "value_constant": 1, "labels": {"__x": "a", "r": "a..b", "s": "s"}, "static_labels": {"s": "x"}, "lables": {}},
               {"name": "c", "value_constant": 1, "condition": {"path": "a"}, "timestamp": "t", "timestamp_format": "unix_us"},
               {"name": "d", "value_duration": {"end": "b"}, "function": {"path": "f", "fallback": "x"}}
             ]}
            """#
        #expect(
            throws: PluginConfigError(problems: [
                "path: must start with '/' and contain no spaces, '?' or '#'",
                "auth.secret: required for type hmac (or secrets: [...] for rotation)",
                "auth.max_age: expected a duration such as 500ms, 30s, 5m, 12h or 30d",
                "metrics[0].name: '1bad' is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
                "metrics[0].kind: must be one of gauge, counter, not 'histogram'",
                "metrics[0]: only one of value, value_constant or value_duration may be set (found value, value_constant)",
                "metrics[1].labels.__x: '__x' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)",
                "metrics[1].labels.r: invalid path 'a..b': empty segment",
                "metrics[1].static_labels.s: label 's' is also set in labels",
                "metrics[2].timestamp_format: must be one of rfc3339, unix_s, unix_ms, unix_ns, not 'unix_us'",
                "metrics[2].condition: exactly one of equals or exists is required",
                "metrics[3].value_duration.start: required",
                "metrics[3].function.fallback: unknown key 'fallback' (expected path and default)",
                "metrics[1].lables: unknown key 'lables' (did you mean 'labels'?)",
            ])
        ) {
            try WebhookAdapter(context: .standalone(instanceName: "webhook/x"), config: config(json))
        }
    }

    @Test func metricsAreRequiredAndThePathDefaultsToTheInstanceSuffix() throws {
        #expect(throws: PluginConfigError(problems: ["metrics: at least one metric mapping is required"])) {
            try adapter("{}")
        }
        #expect(try adapter(#"{"metrics": [{"name": "m", "value_constant": 1}]}"#, instance: "webhook/github").routes == [Route("POST", "/webhook/github")])
        #expect(try adapter(#"{"metrics": [{"name": "m", "value_constant": 1}]}"#, instance: "webhook").routes == [Route("POST", "/webhook")])
        #expect(try adapter(#"{"path": "/hooks/ci", "metrics": [{"name": "m", "value_constant": 1}]}"#).routes == [Route("POST", "/hooks/ci")])
    }
}
