import Foundation

/// Validates dashboards with python `jsonschema` (Draft 7) against the Grafana foundation-sdk
/// schemas in `/work/shared/schemas/grafana` (vendored copy: `Tests/FireflyGrafanaTests/schemas`):
/// the whole dashboard against `dashboard.patched.jsonschema.json` (upstream types field data links
/// as dashboard links; see SOURCE.txt there), and each panel's `options` and
/// `fieldConfig.defaults.custom` against its panel plugin's own schema.
enum SchemaValidator {
    static var schemaDirectory: String { Repo.path("Tests/FireflyGrafanaTests/schemas/grafana") }

    static let script = #"""
        import json, sys
        from jsonschema import Draft7Validator
        schema_dir = sys.argv[1]
        def load(name):
            with open(f"{schema_dir}/{name}.jsonschema.json") as f:
                return json.load(f)
        dashboard_schema = load("dashboard.patched")
        panel_schemas = {"timeseries": load("timeseries"), "stat": load("stat"), "table": load("table"), "nodeGraph": load("nodegraph")}
        def explain(e):
            # anyOf/oneOf failures: report the innermost reasons, not the whole instance.
            if e.context:
                return "; ".join(sorted({f"{'/'.join(map(str, c.absolute_path))}: {c.message[:160]}" for c in e.context if "was expected" not in c.message and "is a required property" not in c.message or c.absolute_path}))[:2000]
            return e.message[:300]
        def sub(schema, definition):
            return Draft7Validator({"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]})
        problems = []
        for path in sys.argv[2:]:
            with open(path) as f:
                doc = json.load(f)
            for e in Draft7Validator(dashboard_schema).iter_errors(doc):
                problems.append(f"{path}: {'/'.join(map(str, e.absolute_path))}: {explain(e)}")
            for panel in doc.get("panels", []):
                schema = panel_schemas.get(panel["type"])
                if schema is None:
                    continue
                where = f"{path}: panel {panel.get('id')} ({panel.get('title')})"
                for e in sub(schema, "Options").iter_errors(panel.get("options", {})):
                    problems.append(f"{where}: options/{'/'.join(map(str, e.absolute_path))}: {explain(e)}")
                custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
                if custom is not None and "FieldConfig" in schema["definitions"]:
                    for e in sub(schema, "FieldConfig").iter_errors(custom):
                        problems.append(f"{where}: custom/{'/'.join(map(str, e.absolute_path))}: {explain(e)}")
        print("\n".join(problems))
        sys.exit(1 if problems else 0)
        """#

    /// Problems found (empty when every file validates).
    static func problems(files: [String]) throws -> [String] {
        let result = try python(script, [schemaDirectory] + files)
        if result.status != 0 && result.stdout.isEmpty { return ["validator failed: \(result.stderr)"] }
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
