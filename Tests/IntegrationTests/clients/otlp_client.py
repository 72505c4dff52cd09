"""Sends traces and metrics to a Firefly collector with the real OpenTelemetry Python SDK
(OTLP/HTTP protobuf exporter), then prints what it sent as JSON for the test to compare.

usage: otlp_client.py <base-url> [protobuf|json]
"""
import json
import sys
import time

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

base = sys.argv[1]
resource = Resource.create({"service.name": "checkout-svc", "faas.name": "checkout", "cloud.region": "eu-west-1"})

# Traces: a server span with two children, one of them an error, across one trace.
provider = TracerProvider(resource=resource)
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
tracer = provider.get_tracer("firefly-test", "1.2.3")
sent_spans = []
with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER,
                                  attributes={"faas.coldstart": True, "http.status_code": 200, "ratio": 0.5}) as root:
    with tracer.start_as_current_span("charge card", kind=SpanKind.CLIENT, attributes={"tags": ["a", "b"]}) as child:
        child.add_event("retry", {"attempt": 2})
        child.set_status(Status(StatusCode.ERROR, "card declined"))
    with tracer.start_as_current_span("enqueue", kind=SpanKind.PRODUCER) as producer:
        pass
for s in (root, child, producer):
    ctx = s.get_span_context()
    sent_spans.append({
        "name": s.name,
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_span_id": format(s.parent.span_id, "016x") if s.parent else "0000000000000000",
        "start": s.start_time,
        "end": s.end_time,
    })
provider.shutdown()

# Metrics: counter (cumulative monotonic sum), up-down counter (non-monotonic sum), histogram,
# exponential histogram (through a view), gauge (observable).
exporter = OTLPMetricExporter(endpoint=f"{base}/v1/metrics")
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
meter_provider = MeterProvider(
    resource=resource,
    metric_readers=[reader],
    views=[View(instrument_name="payload.size", aggregation=ExponentialBucketHistogramAggregation(max_size=20))],
)
meter = meter_provider.get_meter("firefly-test", "1.2.3")
meter.create_counter("orders", unit="{order}").add(3, {"region": "eu"})
meter.create_up_down_counter("inflight").add(-2)
latency = meter.create_histogram("latency", unit="ms")
for v in (5, 50, 500):
    latency.record(v)
size = meter.create_histogram("payload.size", unit="By")
for v in (1, 2, 4, 8):
    size.record(v)
meter.create_observable_gauge("temperature", callbacks=[lambda options: [metrics.Observation(21.5, {"room": "a"})]])
meter_provider.force_flush()
meter_provider.shutdown()

print(json.dumps({"spans": sent_spans}))
