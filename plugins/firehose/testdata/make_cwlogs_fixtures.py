#!/usr/bin/env python3
"""Builds the CloudWatch Logs subscription record fixtures of the firehose plugin.

Each file is what a CloudWatch Logs subscription filter puts in one Firehose record (before
base64): gzip-compressed JSON documents
    {"messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents": [
        {"id", "timestamp", "message"}, ...]}
The messages follow the formats Lambda documents for its two log formats (plain text: START /
END / REPORT lines and the runtimes' default prefixes; JSON: application records with
timestamp/level/message/requestId and platform records with time/type/record).

Standard library only (json, gzip with mtime 0, so the output is byte-for-byte reproducible):

    python3 plugins/firehose/testdata/make_cwlogs_fixtures.py

Writes, next to this script:
  cwlogs_node_text.gz    Node.js function `checkout`, text format, two gzip members (the second
                         holding two JSON documents back to back): a cold start traced with X-Ray,
                         a timeout with a multi-line stack trace, an out-of-memory kill.
  cwlogs_python_json.gz  Python function `resize` (Lambda@Edge log group, version 7), JSON format:
                         a cold start traced with X-Ray, a timeout, an out-of-memory kill, an
                         application record whose message is an object, an exception record.
  cwlogs_control.gz      a CONTROL_MESSAGE (CloudWatch checking the destination is reachable).
  cwlogs_bomb.gz         a gzip bomb: 20 KiB that inflate to 20 MiB of zero bytes (over the
                         plugin's 16 MiB limit per record).
"""

import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OWNER = "123456789012"
T0 = 1796292000000  # 2026-12-03T10:00:00Z in ms


def iso(ms):
    s, ms = divmod(ms, 1000)
    import datetime

    t = datetime.datetime.fromtimestamp(s, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def event_id(n):
    # CloudWatch event ids are 56-digit decimal strings.
    return f"{37190000000000000000000000000000000000000000000000000000 + n:056d}"


def document(log_group, log_stream, events, message_type="DATA_MESSAGE"):
    return {
        "messageType": message_type,
        "owner": OWNER,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["firefly"],
        "logEvents": [{"id": event_id(n), "timestamp": ts, "message": msg} for n, ts, msg in events],
    }


def dumps(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def node_text():
    group = "/aws/lambda/checkout"
    stream = "2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef"
    a = "11111111-1111-4111-8111-111111111111"
    b = "22222222-2222-4222-8222-222222222222"
    c = "33333333-3333-4333-8333-333333333333"
    trace = "1-5759e988-bd862e3fe1be46a994272793"
    first = [
        (1, T0, f"START RequestId: {a} Version: $LATEST\n"),
        (2, T0 + 5, f"{iso(T0 + 5)}\t{a}\tINFO\tcharging order 42\n"),
        (3, T0 + 12, f"END RequestId: {a}\n"),
        (
            4,
            T0 + 12,
            f"REPORT RequestId: {a}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
            f"Max Memory Used: 70 MB\tInit Duration: 200.12 ms\t\nXRAY TraceId: {trace}\tSegmentId: 53995c3f42cd8ad8\t"
            "Sampled: true\t\n",
        ),
    ]
    stack = (
        "TypeError: Cannot read properties of undefined (reading 'id')\n"
        "    at charge (/var/task/index.js:10:20)\n"
        "    at Runtime.handler (/var/task/index.js:3:9)"
    )
    second = [
        (5, T0 + 1000, f"START RequestId: {b} Version: $LATEST\n"),
        (6, T0 + 1500, f"{iso(T0 + 1500)}\t{b}\tERROR\t{stack}\n"),
        (7, T0 + 4000, f"{iso(T0 + 4000)} {b} Task timed out after 3.00 seconds\n\n"),
        (8, T0 + 4001, f"END RequestId: {b}\n"),
        (
            9,
            T0 + 4001,
            f"REPORT RequestId: {b}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 90 MB\tStatus: timeout\n",
        ),
    ]
    third = [
        (10, T0 + 5000, f"START RequestId: {c} Version: $LATEST\n"),
        (11, T0 + 5100, f"{iso(T0 + 5100)}\t{c}\tWARN\tloading 2 GB into memory\n"),
        (
            12,
            T0 + 5900,
            f"REPORT RequestId: {c}\tDuration: 900.50 ms\tBilled Duration: 901 ms\tMemory Size: 128 MB\t"
            "Max Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory\n",
        ),
    ]
    # Firehose may concatenate records: two gzip members, the second with two documents back to back.
    return gz(dumps(document(group, stream, first))) + gz(
        dumps(document(group, stream, second)) + dumps(document(group, stream, third))
    )


def python_json():
    group = "/aws/lambda/us-east-1.resize"
    stream = "2026/12/03/[7]fedcba9876543210fedcba9876543210"
    d = "44444444-4444-4444-8444-444444444444"
    e = "55555555-5555-4555-8555-555555555555"
    f = "66666666-6666-4666-8666-666666666666"
    header = "Root=1-67891233-abcdef012345678912345678;Parent=1234567890abcdef;Sampled=1"
    tracing = {"spanId": "1234567890abcdef", "type": "X-Amzn-Trace-Id", "value": header}

    def platform(n, ts, type_, record):
        return (n, ts, json.dumps({"time": iso(ts), "type": type_, "record": record}, separators=(",", ":")))

    def app(n, ts, level, message, request_id, **extra):
        record = {"timestamp": iso(ts), "level": level, "message": message, "logger": "root", "requestId": request_id}
        record.update(extra)
        return (n, ts, json.dumps(record, separators=(",", ":")))

    events = [
        platform(21, T0, "platform.initStart",
                 {"initializationType": "on-demand", "phase": "init", "runtimeVersion": "python:3.13.v20",
                  "runtimeVersionArn": "arn:aws:lambda:us-east-1::runtime:abc", "functionName": "us-east-1.resize",
                  "functionVersion": "7", "instanceId": "i-1", "instanceMaxMemory": 512}),
        platform(22, T0 + 300, "platform.start", {"requestId": d, "version": "7", "tracing": tracing}),
        app(23, T0 + 310, "INFO", "resizing image.png", d),
        app(24, T0 + 320, "WARNING", {"width": 4000, "height": 3000, "note": "big"}, d),
        platform(25, T0 + 400, "platform.runtimeDone",
                 {"requestId": d, "status": "success", "tracing": tracing,
                  "metrics": {"durationMs": 98.76, "producedBytes": 42}}),
        platform(26, T0 + 401, "platform.report",
                 {"requestId": d, "metrics": {"durationMs": 98.76, "billedDurationMs": 99, "memorySizeMB": 512,
                                              "maxMemoryUsedMB": 80, "initDurationMs": 295.5},
                  "tracing": tracing, "status": "success"}),
        platform(27, T0 + 2000, "platform.start", {"requestId": e, "version": "7"}),
        app(28, T0 + 2100, "ERROR", "upstream failed", e, errorType="ConnectionError",
            errorMessage="connection reset",
            stackTrace=["  File \"/var/task/app.py\", line 8, in handler\n", "    fetch()\n"]),
        platform(29, T0 + 5000, "platform.runtimeDone", {"requestId": e, "status": "timeout"}),
        platform(30, T0 + 5001, "platform.report",
                 {"requestId": e, "metrics": {"durationMs": 3000.0, "billedDurationMs": 3000, "memorySizeMB": 512,
                                              "maxMemoryUsedMB": 100},
                  "status": "timeout"}),
        platform(31, T0 + 6000, "platform.start", {"requestId": f, "version": "7"}),
        platform(32, T0 + 6700, "platform.report",
                 {"requestId": f, "metrics": {"durationMs": 700.25, "billedDurationMs": 701, "memorySizeMB": 512,
                                              "maxMemoryUsedMB": 512},
                  "status": "error", "errorType": "Runtime.OutOfMemory"}),
    ]
    return gz(dumps(document(group, stream, events)))


def control():
    doc = document("testLogGroup", "testLogStream",
                   [(0, T0, "CWL CONTROL MESSAGE: Checking health of destination Firehose.")], "CONTROL_MESSAGE")
    doc["owner"] = "CloudwatchLogs"
    doc["subscriptionFilters"] = []
    return gz(dumps(doc))


for name, data in [("cwlogs_node_text.gz", node_text()), ("cwlogs_python_json.gz", python_json()),
                   ("cwlogs_control.gz", control()), ("cwlogs_bomb.gz", gz(bytes(20 * 1024 * 1024)))]:
    with open(os.path.join(HERE, name), "wb") as out:
        out.write(data)
