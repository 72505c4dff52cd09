// Runs the official OpenTelemetry protobuf classes (python `opentelemetry-proto`, installed by
// `make test`'s bootstrap) as an independent decoder of the demo's bytes.
import FireflyTestSupport
import Foundation

enum PythonDecoder {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `script` with the bytes on standard input and parses what it prints as JSON.
    static func run(_ script: String, input: [UInt8]) throws -> Any {
        let result = try FireflyTestSupport.run("/usr/bin/env", ["python3", "-c", script], input: Data(input))
        guard result.status == 0 else { throw Failure(description: "python3 failed (\(result.status)): \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: result.output)
    }

    /// Prints an ExportTraceServiceRequest as plain JSON with hex ids.
    static let traces = #"""
        import sys, json
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        def value(v):
            kind = v.WhichOneof("value")
            return getattr(v, kind) if kind not in ("bytes_value",) else getattr(v, kind).hex()
        def attrs(kvs):
            return {kv.key: value(kv.value) for kv in kvs}
        req = trace_service_pb2.ExportTraceServiceRequest()
        req.ParseFromString(sys.stdin.buffer.read())
        out = []
        for rs in req.resource_spans:
            r = {"resource": attrs(rs.resource.attributes), "scopes": []}
            for ss in rs.scope_spans:
                s = {"name": ss.scope.name, "version": ss.scope.version, "spans": []}
                for sp in ss.spans:
                    s["spans"].append({
                        "trace_id": sp.trace_id.hex(), "span_id": sp.span_id.hex(), "parent": sp.parent_span_id.hex(),
                        "name": sp.name, "kind": sp.kind, "start": str(sp.start_time_unix_nano), "end": str(sp.end_time_unix_nano),
                        "attributes": attrs(sp.attributes), "status_code": sp.status.code, "status_message": sp.status.message,
                        "events": [{"name": e.name, "time": str(e.time_unix_nano), "attributes": attrs(e.attributes)} for e in sp.events],
                    })
                r["scopes"].append(s)
            out.append(r)
        print(json.dumps(out))
        """#

    /// Splits a metric-stream record into its length-delimited ExportMetricsServiceRequests and
    /// prints every summary data point.
    static let metricRecord = #"""
        import sys, json
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
        from google.protobuf.internal.decoder import _DecodeVarint32
        data = sys.stdin.buffer.read()
        pos, messages = 0, []
        while pos < len(data):
            size, pos = _DecodeVarint32(data, pos)
            req = metrics_service_pb2.ExportMetricsServiceRequest()
            req.ParseFromString(data[pos:pos + size])
            pos += size
            for rm in req.resource_metrics:
                res = {kv.key: kv.value.string_value for kv in rm.resource.attributes}
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        for dp in m.summary.data_points:
                            attrs = {}
                            for kv in dp.attributes:
                                if kv.value.HasField("kvlist_value"):
                                    attrs[kv.key] = {d.key: d.value.string_value for d in kv.value.kvlist_value.values}
                                else:
                                    attrs[kv.key] = kv.value.string_value
                            messages.append({
                                "resource": res, "name": m.name, "unit": m.unit, "field": m.WhichOneof("data"),
                                "start": str(dp.start_time_unix_nano), "time": str(dp.time_unix_nano),
                                "count": dp.count, "sum": dp.sum,
                                "quantiles": [[q.quantile, q.value] for q in dp.quantile_values],
                                "attributes": attrs,
                            })
        print(json.dumps(messages))
        """#

    /// Gunzips a Firehose body, checks the envelope and base64-decodes every record.
    static let envelope = #"""
        import sys, json, gzip, base64, binascii
        raw = sys.stdin.buffer.read()
        assert raw[:2] == b"\x1f\x8b", "not gzip"
        doc = json.loads(gzip.decompress(raw))
        records = [base64.b64decode(r["data"], validate=True).hex() for r in doc["records"]]
        print(json.dumps({"requestId": doc["requestId"], "timestamp": doc["timestamp"], "keys": sorted(doc.keys()), "records": records}))
        """#
}
