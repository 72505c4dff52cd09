#!/usr/bin/env python3
"""Builds the OTLP fixtures of plugins/otlp/testdata with the official opentelemetry-proto classes.

    pip install opentelemetry-proto opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
    python3 plugins/otlp/testdata/make_fixtures.py

For each request it writes <name>.pb (binary protobuf), <name>.json (OTLP/JSON: MessageToJson
post-processed to hex ids, as OTLP/JSON requires) and <name>.expected.json: the Firefly telemetry the
request must decode to, in the model's Codable JSON form (TelemetryBatch: {"points": [...], "spans": [...]}),
derived here from the input values and the mapping documented in plugins/otlp/README.md.
"""
import base64
import json
import math
import os

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1 import trace_pb2 as t

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z in Unix nanoseconds


# ---------------------------------------------------------------- values

def any_value(v):
    """Python value -> AnyValue (bool before int: bool is an int in Python)."""
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, bytes):
        return AnyValue(bytes_value=v)
    if isinstance(v, str):
        return AnyValue(string_value=v)
    if isinstance(v, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(x) for x in v]))
    if isinstance(v, dict):
        return AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=k, value=any_value(x)) for k, x in v.items()]))
    raise TypeError(v)


def kvs(d):
    return [KeyValue(key=k, value=any_value(v)) for k, v in d.items()]


def json_text(v):
    """Firefly's JSON rendering of a structured value: compact, key order kept, bytes base64."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, bytes):
        return json.dumps(base64.b64encode(v).decode())
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(json_text(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + json_text(x) for k, x in v.items()) + "}"
    raise TypeError(v)


def model_value(v):
    """Python value -> the model's AttributeValue Codable form."""
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, float):
        return {"double": v}
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, str):
        return {"string": v}
    return {"json": json_text(v)}


def model_attrs(d):
    return [{"key": k, "value": model_value(v)} for k, v in d.items()]


def label_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    return v if isinstance(v, str) else json_text(v)


def function_of(inner, resource):
    for key in ("faas.name", "service.name"):
        for attrs in (inner, resource):
            if isinstance(attrs.get(key), str) and attrs[key]:
                return attrs[key]
    return ""


# ---------------------------------------------------------------- output

def to_otlp_json(message):
    """MessageToJson, then ids base64 -> hex (OTLP/JSON), plus one unknown key a decoder must ignore."""
    obj = json.loads(json_format.MessageToJson(message, use_integers_for_enums=True))

    def fix(node):
        if isinstance(node, dict):
            for key in ("traceId", "spanId", "parentSpanId"):
                if key in node:
                    node[key] = base64.b64decode(node[key]).hex()
            for value in node.values():
                fix(value)
        elif isinstance(node, list):
            for value in node:
                fix(value)

    fix(obj)
    obj["futureTopLevelField"] = {"ignored": [1, 2, 3]}
    return json.dumps(obj, indent=1) + "\n"


def write(name, message, expected):
    with open(os.path.join(HERE, name + ".pb"), "wb") as f:
        f.write(message.SerializeToString())
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        f.write(to_otlp_json(message))
    with open(os.path.join(HERE, name + ".expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


def with_unknown_field(message):
    """Appends field 99 (varint) and field 100 (LEN) the schema does not know; parsing keeps them as
    unknown fields, so the serialized fixture carries them and a decoder must skip them."""
    raw = message.SerializeToString() + bytes([0x98, 0x06, 0x2A, 0xA2, 0x06, 0x03]) + b"xyz"
    copy = type(message)()
    copy.ParseFromString(raw)
    return copy


# ---------------------------------------------------------------- traces

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
OTHER_TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
ROOT, CHILD, GRANDCHILD = (bytes.fromhex(h) for h in ("eee19b7ec3c1b174", "b7ad6b7169203331", "00f067aa0ba902b7"))
LINKED = bytes.fromhex("53995c3f42cd8ad8")

RESOURCE = {"service.name": "checkout-api", "faas.name": "checkout-fn", "cloud.region": "eu-west-1",
            "cloud.provider": "aws"}
SCOPE = ("firefly.fixtures", "1.2.3")

SPANS = [
    dict(trace=TRACE_ID, id=ROOT, parent=b"", name="GET /cart", kind=2, start=T0, end=T0 + 250_000_000,
         trace_state="vendor=1,other=2", flags=0x301,
         attrs={"http.route": "/cart", "faas.coldstart": True, "http.response.status_code": 500,
                "sampling.ratio": 0.25, "payload.digest": b"\x00\x01\xfe\xff",
                "tags": ["a", 1, True, 2.5, b"\x07"],
                "request.headers": {"content-type": "application/json", "retries": 3,
                                    "nested": {"list": [1.0, "x"], "flag": False}}},
         events=[(T0 + 100_000_000, "exception", {"exception.type": "ValueError",
                                                   "exception.message": "boom \"quoted\" \u00e9"})],
         links=[], status=(2, "boom")),
    dict(trace=TRACE_ID, id=CHILD, parent=ROOT, name="SELECT cart", kind=3, start=T0 + 10_000_000,
         end=T0 + 90_000_000, trace_state="", flags=0x100,
         attrs={"db.system": "postgresql", "faas.name": "override-fn", "db.rows": -7},
         events=[(T0 + 20_000_000, "retry", {}), (T0 + 30_000_000, "done", {"attempt": 2})],
         links=[(OTHER_TRACE, LINKED, "congo=t61rcWkgMzE", {"link.reason": "batch"})], status=(1, "")),
    dict(trace=TRACE_ID, id=GRANDCHILD, parent=CHILD, name="compute", kind=1, start=T0 + 40_000_000,
         end=T0 + 41_000_000, trace_state="", flags=0, attrs={}, events=[], links=[], status=(0, "")),
]
OTHER_RESOURCE = {"service.name": "billing"}
OTHER_SPAN = dict(trace=OTHER_TRACE, id=LINKED, parent=b"", name="consume", kind=5, start=T0 + 5, end=T0 + 6,
                  trace_state="", flags=0, attrs={"messaging.system": "sqs"}, events=[], links=[], status=(0, ""))


def proto_span(s):
    return t.Span(
        trace_id=s["trace"], span_id=s["id"], parent_span_id=s["parent"], name=s["name"], kind=s["kind"],
        start_time_unix_nano=s["start"], end_time_unix_nano=s["end"], trace_state=s["trace_state"], flags=s["flags"],
        attributes=kvs(s["attrs"]),
        events=[t.Span.Event(time_unix_nano=ts, name=n, attributes=kvs(a)) for ts, n, a in s["events"]],
        links=[t.Span.Link(trace_id=tr, span_id=sp, trace_state=ts, attributes=kvs(a)) for tr, sp, ts, a in s["links"]],
        status=t.Status(code=s["status"][0], message=s["status"][1]))


def model_span(s, resource, scope):
    return {
        "traceID": s["trace"].hex(), "spanID": s["id"].hex(), "parentSpanID": (s["parent"] or bytes(8)).hex(),
        "traceState": s["trace_state"], "name": s["name"], "kind": s["kind"],
        "statusCode": s["status"][0], "statusMessage": s["status"][1],
        "startTimeUnixNano": s["start"], "endTimeUnixNano": s["end"],
        "function": function_of(s["attrs"], resource), "service": resource.get("service.name", ""),
        "scopeName": scope[0], "scopeVersion": scope[1],
        "attributes": model_attrs(s["attrs"]), "resourceAttributes": model_attrs(resource),
        "events": [{"timeUnixNano": ts, "name": n, "attributes": model_attrs(a)} for ts, n, a in s["events"]],
        "links": [{"traceID": tr.hex(), "spanID": sp.hex(), "traceState": ts, "attributes": model_attrs(a)}
                  for tr, sp, ts, a in s["links"]],
    }


def traces():
    spans = [proto_span(s) for s in SPANS]
    spans[2] = with_unknown_field(spans[2])
    request = ExportTraceServiceRequest(resource_spans=[
        t.ResourceSpans(resource=Resource(attributes=kvs(RESOURCE)), scope_spans=[
            t.ScopeSpans(scope=InstrumentationScope(name=SCOPE[0], version=SCOPE[1]), spans=spans)]),
        t.ResourceSpans(resource=Resource(attributes=kvs(OTHER_RESOURCE)), scope_spans=[
            t.ScopeSpans(scope=InstrumentationScope(name="sqs-consumer"), spans=[proto_span(OTHER_SPAN)])]),
    ])
    expected = {"points": [], "spans": [model_span(s, RESOURCE, SCOPE) for s in SPANS]
                + [model_span(OTHER_SPAN, OTHER_RESOURCE, ("sqs-consumer", ""))]}
    write("traces", request, expected)


def traces_partial():
    """Three spans, two with invalid ids: the receiver keeps one and reports 2 rejected."""
    good = dict(SPANS[2], attrs={"ok": True}, parent=b"")
    bad_trace = dict(good, trace=bytes(16), name="bad-trace")
    bad_span = dict(good, id=b"\x01\x02\x03\x04", name="bad-span")
    request = ExportTraceServiceRequest(resource_spans=[
        t.ResourceSpans(resource=Resource(attributes=kvs(OTHER_RESOURCE)), scope_spans=[
            t.ScopeSpans(spans=[proto_span(s) for s in (bad_trace, good, bad_span)])])])
    expected = {"points": [], "spans": [model_span(good, OTHER_RESOURCE, ("", ""))],
                "rejected": 2, "errorMessage": "2 rejected; first problem: span 'bad-trace' has an invalid trace_id"}
    write("traces_partial", request, expected)


# ---------------------------------------------------------------- metrics

M_RESOURCE = {"service.name": "checkout-api", "faas.name": "checkout-fn", "cloud.region": "eu-west-1",
              "cloud.account.id": "123456789012", "host.name": "not-a-label"}
LABEL_KEYS = ("service.name", "faas.name", "cloud.region", "cloud.account.id")


def model_point(name, unit, kind, attrs, start, time, **fields):
    labels = {k: label_text(M_RESOURCE[k]) for k in LABEL_KEYS if k in M_RESOURCE}
    labels.update({k: label_text(v) for k, v in attrs.items()})
    point = {"name": name, "namespace": "", "unit": unit, "function": function_of(attrs, M_RESOURCE), "kind": kind,
             "isMonotonic": False, "hasMinMax": False, "isDelta": False,
             "labels": [{"key": k, "value": labels[k]} for k in sorted(labels, key=lambda k: k.encode())],
             "startTimeUnixNano": start, "timeUnixNano": time, "value": 0.0, "count": 0.0, "sum": 0.0,
             "min": 0.0, "max": 0.0, "quantiles": [], "bounds": [], "bucketCounts": []}
    point.update(fields)
    return point


GAUGE, CUMULATIVE, DELTA, SUMMARY, HISTOGRAM = 1, 2, 3, 4, 5


def exponential_to_explicit(scale, zero_count, zero_threshold, pos_offset, pos, neg_offset, neg):
    """The conversion documented in plugins/otlp/README.md."""
    power = lambda i: 2.0 ** (i * 2.0 ** -scale)
    bounds, counts = [], []
    if neg:
        top = neg_offset + len(neg) - 1
        counts.append(0)
        bounds.append(-power(top + 1))
        for index in range(top, neg_offset - 1, -1):
            counts.append(neg[index - neg_offset])
            bounds.append(-power(index))
    counts.append(zero_count)
    bounds.append(zero_threshold)
    if pos:
        if power(pos_offset) > zero_threshold:
            counts.append(0)
            bounds.append(power(pos_offset))
        for k, c in enumerate(pos):
            counts.append(c)
            bounds.append(power(pos_offset + k + 1))
    counts.append(0)
    return bounds, counts


def metrics():
    s, e = T0, T0 + 60_000_000_000
    gauge = m.Metric(name="process.memory.usage", unit="By", gauge=m.Gauge(data_points=[
        m.NumberDataPoint(attributes=kvs({"state": "used"}), time_unix_nano=e, as_int=1048576),
        m.NumberDataPoint(attributes=kvs({"state": "free", "ratio": 0.5}), time_unix_nano=e, as_double=0.5),
        m.NumberDataPoint(attributes=kvs({"state": "stale"}), time_unix_nano=e, flags=1),  # no recorded value
    ]))
    invocations = m.Metric(name="faas.invocations", unit="{invocation}", sum=m.Sum(
        aggregation_temporality=2, is_monotonic=True, data_points=[
            m.NumberDataPoint(attributes=kvs({"faas.trigger": "http"}), start_time_unix_nano=s, time_unix_nano=e,
                              as_int=42)]))
    depth = m.Metric(name="queue.depth.change", unit="{message}", sum=m.Sum(
        aggregation_temporality=1, is_monotonic=False, data_points=[
            m.NumberDataPoint(start_time_unix_nano=s, time_unix_nano=e, as_double=-3.5)]))
    histogram = m.Metric(name="http.server.duration", unit="ms", histogram=m.Histogram(
        aggregation_temporality=1, data_points=[
            m.HistogramDataPoint(attributes=kvs({"http.route": "/cart", "faas.name": "point-fn", "retried": False}),
                                 start_time_unix_nano=s, time_unix_nano=e, count=6, sum=123.5,
                                 bucket_counts=[1, 2, 2, 1], explicit_bounds=[10.0, 50.0, 100.0], min=1.5, max=250.0)]))
    exp = dict(scale=1, zero_count=1, zero_threshold=0.0, pos_offset=-1, pos=[1, 2, 3], neg_offset=0, neg=[1])
    exponential = m.Metric(name="faas.duration.exp", unit="s", exponential_histogram=m.ExponentialHistogram(
        aggregation_temporality=2, data_points=[
            m.ExponentialHistogramDataPoint(
                start_time_unix_nano=s, time_unix_nano=e, count=8, sum=9.25, scale=exp["scale"],
                zero_count=exp["zero_count"], zero_threshold=exp["zero_threshold"],
                positive=m.ExponentialHistogramDataPoint.Buckets(offset=exp["pos_offset"], bucket_counts=exp["pos"]),
                negative=m.ExponentialHistogramDataPoint.Buckets(offset=exp["neg_offset"], bucket_counts=exp["neg"]),
                min=-1.2, max=2.0)]))
    summary = m.Metric(name="faas.latency.summary", unit="ms", summary=m.Summary(data_points=[
        m.SummaryDataPoint(attributes=kvs({"faas.trigger": "sqs"}), start_time_unix_nano=s, time_unix_nano=e,
                           count=10, sum=55.0, quantile_values=[
                               m.SummaryDataPoint.ValueAtQuantile(quantile=q, value=v)
                               for q, v in ((0.0, 1.0), (0.5, 5.0), (0.99, 9.9), (1.0, 10.0))])]))
    request = ExportMetricsServiceRequest(resource_metrics=[m.ResourceMetrics(
        resource=Resource(attributes=kvs(M_RESOURCE)),
        scope_metrics=[m.ScopeMetrics(scope=InstrumentationScope(name="firefly.fixtures", version="1.2.3"),
                                      metrics=[gauge, invocations, depth, histogram, exponential, summary])])])

    bounds, counts = exponential_to_explicit(**exp)
    expected = {"spans": [], "points": [
        model_point("process.memory.usage", "By", GAUGE, {"state": "used"}, 0, e, value=1048576.0),
        model_point("process.memory.usage", "By", GAUGE, {"state": "free", "ratio": 0.5}, 0, e, value=0.5),
        model_point("faas.invocations", "{invocation}", CUMULATIVE, {"faas.trigger": "http"}, s, e, value=42.0,
                    isMonotonic=True),
        model_point("queue.depth.change", "{message}", DELTA, {}, s, e, value=-3.5, isDelta=True),
        model_point("http.server.duration", "ms", HISTOGRAM,
                    {"http.route": "/cart", "faas.name": "point-fn", "retried": False}, s, e,
                    isDelta=True, count=6.0, sum=123.5, hasMinMax=True, min=1.5, max=250.0,
                    bounds=[10.0, 50.0, 100.0], bucketCounts=[1, 2, 2, 1]),
        model_point("faas.duration.exp", "s", HISTOGRAM, {}, s, e, count=8.0, sum=9.25, hasMinMax=True,
                    min=-1.2, max=2.0, bounds=bounds, bucketCounts=counts),
        model_point("faas.latency.summary", "ms", SUMMARY, {"faas.trigger": "sqs"}, s, e, count=10.0, sum=55.0,
                    hasMinMax=True, min=1.0, max=10.0,
                    quantiles=[{"quantile": q, "value": v} for q, v in ((0.0, 1.0), (0.5, 5.0), (0.99, 9.9), (1.0, 10.0))]),
    ]}
    write("metrics", request, expected)


if __name__ == "__main__":
    traces()
    traces_partial()
    metrics()
    print("fixtures written to", HERE)
