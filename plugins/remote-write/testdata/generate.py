"""Writes the remote-write protobuf fixtures with the real protobuf runtime (pip package `protobuf`).

The message classes are built at run time from a descriptor of prometheus/prompb's
remote.proto and types.proto (remote-write 1.0 subset), so no generated code is involved.
Run: python3 plugins/remote-write/testdata/generate.py
"""
import os
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto
fdp = descriptor_pb2.FileDescriptorProto(name="remote.proto", package="prometheus", syntax="proto3")


def message(name, fields):
    m = fdp.message_type.add(name=name)
    for field_name, number, kind, label, type_name in fields:
        f = m.field.add(name=field_name, number=number, type=kind, label=label)
        if type_name:
            f.type_name = type_name


message("Label", [("name", 1, F.TYPE_STRING, F.LABEL_OPTIONAL, None), ("value", 2, F.TYPE_STRING, F.LABEL_OPTIONAL, None)])
message("Sample", [("value", 1, F.TYPE_DOUBLE, F.LABEL_OPTIONAL, None), ("timestamp", 2, F.TYPE_INT64, F.LABEL_OPTIONAL, None)])
message("TimeSeries", [("labels", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED, ".prometheus.Label"),
                       ("samples", 2, F.TYPE_MESSAGE, F.LABEL_REPEATED, ".prometheus.Sample")])
message("WriteRequest", [("timeseries", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED, ".prometheus.TimeSeries")])
pool = descriptor_pool.DescriptorPool()
pool.Add(fdp)
WriteRequest = message_factory.GetMessageClass(pool.FindMessageTypeByName("prometheus.WriteRequest"))


def request(series):
    w = WriteRequest()
    for labels, samples in series:
        ts = w.timeseries.add()
        for k, v in labels:
            label = ts.labels.add()
            label.name, label.value = k, v
        for value, timestamp in samples:
            s = ts.samples.add()
            s.value, s.timestamp = value, timestamp
    return w.SerializeToString()


here = os.path.dirname(os.path.abspath(__file__))
# D.8 of the wire-format spec: one series, one sample.
d8 = request([([("__name__", "aws_lambda_invocations_sum"), ("dimension_FunctionName", "checkout"),
                ("region", "us-east-1")], [(42.0, 1700000000000)])])
# Edge cases: zero value and zero timestamp (omitted in proto3), negative timestamp (10-byte
# varint), a long label value (2-byte length), non-ASCII value, several samples.
edge = request([
    ([("__name__", "a"), ("x", "é✓")], [(0.0, 0), (1.5, -1), (-2.25, 1)]),
    ([("__name__", "b"), ("long", "v" * 300)], [(1e300, 9223372036854775807)]),
])
for name, data in [("d8-writerequest.bin", d8), ("edge-writerequest.bin", edge)]:
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
    print(name, len(data))
