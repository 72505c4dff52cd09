import FireflyPluginKitTesting
import FireflyModel
import FireflyPluginKit
import Testing
import WebhookAdapter

/// Every path form, checked through the points it selects.
@Suite struct FieldPathTests {
    static let event = #"""
        {"a": {"b": 7, "c.d": 8, "e f": 9, "q\"k": 10}, "list": [{"v": 1}, {"v": 2}, {"v": 3}], "$x": 11, "n": null}
        """#

    func value(_ path: String) throws -> Double? {
        let hook = try mapper(#"[{"name": "m", "value": "\#(jsonEscaped(path))"}]"#)
        return try hook.points(body: body(Self.event), receivedAt: 1).first?.value
    }

    @Test(arguments: [
        ("a.b", 7.0), ("$.a.b", 7), ("@.a.b", 7), (#"a["c.d"]"#, 8), ("a['c.d']", 8), (#"$["a"]["e f"]"#, 9),
        ("a.e f", 9), (#"a["q\"k"]"#, 10), ("list[0].v", 1), ("list[2].v", 3), ("list[-1].v", 3), ("list[-3].v", 1),
        (#"["$x"]"#, 11),
    ])
    func pathFormsSelectTheRightValue(_ path: String, _ expected: Double) throws {
        #expect(try value(path) == expected)
    }

    @Test func forEachWildcardVisitsEveryElementAndDollarReachesTheRoot() throws {
        let hook = try mapper(#"[{"name": "m", "for_each": "list[*]", "value": "v", "labels": {"b": "$.a.b", "own": "@.v"}}]"#)
        let points = try hook.points(body: body(Self.event), receivedAt: 5)
        #expect(points == [1, 2, 3].map { gauge("m", ["b": "7", "own": "\($0)"], at: 5, Double($0)) })
    }

    @Test func nestedWildcardsFlatten() throws {
        let hook = try mapper(#"[{"name": "m", "for_each": "jobs[*].steps[*]", "value": "ms"}]"#)
        let points = try hook.points(body: body(#"{"jobs": [{"steps": [{"ms": 1}, {"ms": 2}]}, {"steps": []}, {"steps": [{"ms": 3}]}]}"#), receivedAt: 0)
        #expect(points.map(\.value) == [1, 2, 3])
    }

    @Test func missingPathNamesTheConcreteLocation() throws {
        let hook = try mapper(#"[{"name": "m", "for_each": "list[*]", "value": "w"}]"#)
        #expect(throws: WebhookBodyError.mapping(MappingFailure(message: "missing required field", field: "metrics[0].value", path: "$.list[0].w"))) {
            try hook.points(body: body(Self.event), receivedAt: 0)
        }
    }

    @Test func nullCountsAsMissing() throws {
        let hook = try mapper(#"[{"name": "m", "value": "n"}]"#)
        #expect(throws: WebhookBodyError.mapping(MappingFailure(message: "missing required field", field: "metrics[0].value", path: "$.n"))) {
            try hook.points(body: body(Self.event), receivedAt: 0)
        }
    }

    @Test func quotedKeysAppearQuotedInErrorPaths() throws {
        let hook = try mapper(#"[{"name": "m", "value": "a[\"x.y\"]"}]"#)
        #expect(throws: WebhookBodyError.mapping(MappingFailure(message: "missing required field", field: "metrics[0].value", path: #"$.a["x.y"]"#))) {
            try hook.points(body: body(Self.event), receivedAt: 0)
        }
    }

    @Test func indexOutOfRangeIsMissing() throws {
        let hook = try mapper(#"[{"name": "m", "value": "list[3].v"}]"#)
        #expect(throws: WebhookBodyError.mapping(MappingFailure(message: "missing required field", field: "metrics[0].value", path: "$.list[3]"))) {
            try hook.points(body: body(Self.event), receivedAt: 0)
        }
    }

    @Test(arguments: [
        ("repository..name", "empty segment"), ("", "empty path"), (".a", "empty segment"), ("a.", "empty segment"),
        ("$.", "empty segment"), ("a[", "unterminated '['"), ("a[x]", "'[x]' is not an index, [*] or a quoted key"),
        (#"a["x"#, "unterminated quoted key"), (#"a["x"y]"#, "expected ']' after the quoted key"), ("a]", "unexpected ']'"),
        ("a[0]b", "expected '.' or '[' before 'b'"), ("$a", "expected '.' or '[' before 'a'"), ("list[*].v", "[*] is only allowed in for_each"),
        ("a[+1]", "'[+1]' is not an index, [*] or a quoted key"),
    ])
    func invalidPathsAreReportedWithTheirConfigLocation(_ path: String, _ message: String) throws {
        let json = #"{"metrics": [{"name": "ok", "value_constant": 1}, {"name": "m", "value_constant": 1, "labels": {"repo": "\#(jsonEscaped(path))"}}]}"#
        #expect(throws: PluginConfigError(problems: ["metrics[1].labels.repo: invalid path '\(path)': \(message)"])) {
            try WebhookAdapter(context: .standalone(instanceName: "webhook/x"), config: config(json))
        }
    }
}

/// `s` escaped for use inside a JSON string literal.
func jsonEscaped(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
}
