#!/usr/bin/env python3
"""Builds the OpenTelemetry record fixtures of the firehose plugin with real protobuf code.

OpenTelemetry 1.0 messages come from the official `opentelemetry-proto` package (generated
classes); the 0.7 record uses a schema built at run time from the v0.7.0 field numbers (the
published package no longer ships 0.7). Each record is what CloudWatch Metric Streams put in one
Firehose record: ExportMetricsServiceRequest messages, each prefixed with its length as an
unsigned varint (protobuf's delimited framing).

    pip install opentelemetry-proto
    python3 plugins/firehose/testdata/make_otel_fixtures.py

Writes, next to this script: otel1_lambda_two_messages.bin, otel1_custom_namespace.bin,
otel1_truncated.bin, otel07_lambda.bin and otel_fixtures.json (what each file holds).
"""

import json
import os

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal.encoder import _VarintBytes
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "123456789012"
REGION = "us-east-1"
ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:metric-stream/firefly"
START = 1_700_000_000_000_000_000  # CloudWatch period start (ns)
END = START + 60_000_000_000  # period end (ns)

UCUM_TO_CLOUDWATCH = {"ms": "Milliseconds", "{Count}": "Count", "us": "Microseconds", "By/s": "Bytes/Second", "1": "None"}

# What the fixtures hold: one entry per data point, in wire order.
POINTS = {
    "otel1_lambda_two_messages.bin": [
        dict(namespace="AWS/Lambda", metric="Duration", unit="ms",
             dimensions={"FunctionName": "checkout"}, count=12, sum=1530.0,
             quantiles=[[0.0, 3.2], [0.99, 790.1], [1.0, 812.5]]),
        dict(namespace="AWS/Lambda", metric="Invocations", unit="{Count}",
             dimensions={"FunctionName": "checkout", "Resource": "checkout:prod"}, count=12, sum=12.0,
             quantiles=[[0.0, 1.0], [1.0, 1.0]]),
    ],
    "otel1_custom_namespace.bin": [
        dict(namespace="Firefly/Custom", metric="Latency", unit="us",
             dimensions={"Stage": "prod-\U0001F680", "Caf\u00e9": "cr\u00e8me \"br\u00fbl\u00e9e\""}, count=3, sum=4500.5,
             # Deliberately out of order on the wire: the decoder sorts quantiles.
             quantiles=[[1.0, 2000.25], [0.5, 1500.0], [0.0, 1000.25], [0.999, 1999.0]]),
        dict(namespace="Firefly/Custom", metric="Throughput", unit="By/s",
             dimensions={}, count=1, sum=1.0e9,
             quantiles=[[0.0, 1.0e9], [1.0, 1.0e9]]),
    ],
}


def kv(key, value):
    return KeyValue(key=key, value=value)


def string_value(s):
    return AnyValue(string_value=s)


def request_v1(points):
    """One ExportMetricsServiceRequest holding `points`, one metric each, as CloudWatch shapes it."""
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    for k, v in [("cloud.provider", "aws"), ("cloud.account.id", ACCOUNT), ("cloud.region", REGION), ("aws.exporter.arn", ARN)]:
        rm.resource.attributes.append(kv(k, string_value(v)))
    sm = rm.scope_metrics.add()
    for p in points:
        m = sm.metrics.add()
        m.name = f"amazonaws.com/{p['namespace']}/{p['metric']}"
        m.unit = p["unit"]
        dp = m.summary.data_points.add()
        dp.start_time_unix_nano = START
        dp.time_unix_nano = END
        dp.count = p["count"]
        dp.sum = p["sum"]
        for q, v in p["quantiles"]:
            qv = dp.quantile_values.add()
            qv.quantile = q
            qv.value = v
        dims = AnyValue()
        for k, v in p["dimensions"].items():
            dims.kvlist_value.values.append(kv(k, string_value(v)))
        dp.attributes.append(kv("Namespace", string_value(p["namespace"])))
        dp.attributes.append(kv("MetricName", string_value(p["metric"])))
        dp.attributes.append(kv("Dimensions", dims))
    return req.SerializeToString()


def v07_classes():
    """Message classes for the subset of opentelemetry-proto v0.7.0 CloudWatch uses."""
    f = descriptor_pb2.FileDescriptorProto(name="otel_v07_subset.proto", package="v07", syntax="proto3")
    T = descriptor_pb2.FieldDescriptorProto

    def message(name, fields):
        m = f.message_type.add(name=name)
        for number, fname, ftype, label, type_name in fields:
            fd = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                fd.type_name = ".v07." + type_name

    opt, rep = T.LABEL_OPTIONAL, T.LABEL_REPEATED
    message("AnyValue", [(1, "string_value", T.TYPE_STRING, opt, None)])
    message("KeyValue", [(1, "key", T.TYPE_STRING, opt, None), (2, "value", T.TYPE_MESSAGE, opt, "AnyValue")])
    message("StringKeyValue", [(1, "key", T.TYPE_STRING, opt, None), (2, "value", T.TYPE_STRING, opt, None)])
    message("Resource", [(1, "attributes", T.TYPE_MESSAGE, rep, "KeyValue")])
    message("ValueAtQuantile", [(1, "quantile", T.TYPE_DOUBLE, opt, None), (2, "value", T.TYPE_DOUBLE, opt, None)])
    message("DoubleSummaryDataPoint", [
        (1, "labels", T.TYPE_MESSAGE, rep, "StringKeyValue"),
        (2, "start_time_unix_nano", T.TYPE_FIXED64, opt, None),
        (3, "time_unix_nano", T.TYPE_FIXED64, opt, None),
        (4, "count", T.TYPE_FIXED64, opt, None),
        (5, "sum", T.TYPE_DOUBLE, opt, None),
        (6, "quantile_values", T.TYPE_MESSAGE, rep, "ValueAtQuantile"),
    ])
    message("DoubleSummary", [(1, "data_points", T.TYPE_MESSAGE, rep, "DoubleSummaryDataPoint")])
    message("Metric", [
        (1, "name", T.TYPE_STRING, opt, None), (2, "description", T.TYPE_STRING, opt, None),
        (3, "unit", T.TYPE_STRING, opt, None), (11, "double_summary", T.TYPE_MESSAGE, opt, "DoubleSummary"),
    ])
    message("InstrumentationLibraryMetrics", [(2, "metrics", T.TYPE_MESSAGE, rep, "Metric")])
    message("ResourceMetrics", [
        (1, "resource", T.TYPE_MESSAGE, opt, "Resource"),
        (2, "instrumentation_library_metrics", T.TYPE_MESSAGE, rep, "InstrumentationLibraryMetrics"),
    ])
    message("ExportMetricsServiceRequest", [(1, "resource_metrics", T.TYPE_MESSAGE, rep, "ResourceMetrics")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return lambda name: message_factory.GetMessageClass(pool.FindMessageTypeByName("v07." + name))


V07_POINTS = [
    dict(namespace="AWS/Lambda", metric="Errors", unit="{Count}",
         dimensions={"FunctionName": "checkout", "ExecutedVersion": "42"}, count=5, sum=2.0,
         quantiles=[[0.0, 0.0], [1.0, 1.0]]),
]


def request_v07(points):
    cls = v07_classes()
    req = cls("ExportMetricsServiceRequest")()
    rm = req.resource_metrics.add()
    for k, v in [("cloud.provider", "aws"), ("cloud.account.id", ACCOUNT), ("cloud.region", REGION), ("aws.exporter.arn", ARN)]:
        a = rm.resource.attributes.add()
        a.key = k
        a.value.string_value = v
    ilm = rm.instrumentation_library_metrics.add()
    for p in points:
        m = ilm.metrics.add()
        m.name = f"amazonaws.com/{p['namespace']}/{p['metric']}"
        m.unit = p["unit"]
        dp = m.double_summary.data_points.add()
        dp.start_time_unix_nano = START
        dp.time_unix_nano = END
        dp.count = p["count"]
        dp.sum = p["sum"]
        for q, v in p["quantiles"]:
            qv = dp.quantile_values.add()
            qv.quantile = q
            qv.value = v
        for k, v in [("Namespace", p["namespace"]), ("MetricName", p["metric"])] + list(p["dimensions"].items()):
            label = dp.labels.add()
            label.key = k
            label.value = v
    return req.SerializeToString()


def delimited(messages):
    return b"".join(_VarintBytes(len(m)) + m for m in messages)


def describe(points):
    return [
        dict(namespace=p["namespace"], metricName=p["metric"], otelUnit=p["unit"],
             cloudWatchUnit=UCUM_TO_CLOUDWATCH[p["unit"]], dimensions=p["dimensions"],
             accountId=ACCOUNT, region=REGION, startTimeUnixNano=START, timeUnixNano=END,
             count=p["count"], sum=p["sum"], quantiles=sorted(p["quantiles"]))
        for p in points
    ]


def main():
    files = {}
    # Two messages in one record, one metric each (CloudWatch batches several per record).
    lambda_points = POINTS["otel1_lambda_two_messages.bin"]
    files["otel1_lambda_two_messages.bin"] = (
        delimited([request_v1([lambda_points[0]]), request_v1([lambda_points[1]])]),
        dict(format="opentelemetry1.0", messages=2, points=describe(lambda_points)))
    # One message with two metrics, unicode and quote characters in dimension values.
    custom = POINTS["otel1_custom_namespace.bin"]
    files["otel1_custom_namespace.bin"] = (
        delimited([request_v1(custom)]), dict(format="opentelemetry1.0", messages=1, points=describe(custom)))
    # The first record with its last 10 bytes cut off: the second message's length overruns.
    whole = files["otel1_lambda_two_messages.bin"][0]
    files["otel1_truncated.bin"] = (
        whole[:-10], dict(format="opentelemetry1.0", truncatedFrom="otel1_lambda_two_messages.bin", cutBytes=10, points=[]))
    files["otel07_lambda.bin"] = (
        delimited([request_v07(V07_POINTS)]), dict(format="opentelemetry0.7", messages=1, points=describe(V07_POINTS)))

    description = {}
    for name, (data, info) in files.items():
        with open(os.path.join(HERE, name), "wb") as out:
            out.write(data)
        info["bytes"] = len(data)
        description[name] = info
    with open(os.path.join(HERE, "otel_fixtures.json"), "w") as out:
        json.dump(description, out, indent=2, ensure_ascii=False, sort_keys=True)
        out.write("\n")


if __name__ == "__main__":
    main()
