#!/usr/bin/env python3
"""The Python protobuf implementation as an oracle for FireflyWire's reader and writer.

Reads {"cases": [...]} on stdin: OpenTelemetry HistogramDataPoint values (strings and bytes in
hex, doubles as IEEE bit patterns, integers in decimal) plus the bytes Firefly's writer made of
them. For each case, writes back: the bytes google.protobuf makes of the same values, whether it
parses Firefly's bytes into an equal message, and which prefixes of its own bytes it accepts.
"""
import json
import struct
import sys

from opentelemetry.proto.metrics.v1 import metrics_pb2


def double(bits):
    return struct.unpack("<d", struct.pack("<Q", int(bits)))[0]


def text(hex_text):
    return bytes.fromhex(hex_text).decode("utf-8")


def any_value(v, av):
    kind = v["kind"]
    if kind == "string":
        av.string_value = text(v["hex"])
    elif kind == "bool":
        av.bool_value = v["value"] == "1"
    elif kind == "int":
        av.int_value = int(v["value"])
    elif kind == "double":
        av.double_value = double(v["bits"])
    elif kind == "bytes":
        av.bytes_value = bytes.fromhex(v["hex"])
    elif kind == "array":
        av.array_value.SetInParent()
        for item in v["items"]:
            any_value(item, av.array_value.values.add())
    elif kind == "kvlist":
        av.kvlist_value.SetInParent()
        for item in v["items"]:
            key_value(item, av.kvlist_value.values.add())
    else:
        raise ValueError(kind)


def key_value(kv, m):
    m.key = text(kv["key"])
    m.value.SetInParent()
    any_value(kv["value"], m.value)


def point(case):
    p = metrics_pb2.HistogramDataPoint()
    p.start_time_unix_nano = int(case["start"])
    p.time_unix_nano = int(case["time"])
    p.count = int(case["count"])
    if "sum" in case:
        p.sum = double(case["sum"])
    p.bucket_counts.extend(int(c) for c in case["buckets"])
    p.explicit_bounds.extend(double(b) for b in case["bounds"])
    for kv in case["attributes"]:
        key_value(kv, p.attributes.add())
    p.flags = int(case["flags"])
    if "min" in case:
        p.min = double(case["min"])
    if "max" in case:
        p.max = double(case["max"])
    return p


def parses(data):
    try:
        metrics_pb2.HistogramDataPoint().ParseFromString(data)
        return True
    except Exception:
        return False


def main():
    out = []
    for case in json.load(sys.stdin)["cases"]:
        p = point(case)
        data = p.SerializeToString(deterministic=True)
        theirs = metrics_pb2.HistogramDataPoint()
        try:
            theirs.ParseFromString(bytes.fromhex(case["swift"]))
            equal = theirs == p
        except Exception:
            equal = False
        prefixes = "".join("1" if parses(data[:n]) else "0" for n in range(len(data)))
        out.append({"python": data.hex(), "swift_equal": equal, "prefixes": prefixes})
    json.dump({"results": out}, sys.stdout)


main()
