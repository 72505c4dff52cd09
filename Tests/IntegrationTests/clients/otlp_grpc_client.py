"""Sends traces and metrics to a Firefly collector with the real OpenTelemetry Python SDK over
OTLP/gRPC (opentelemetry-exporter-otlp-proto-grpc), then prints what it sent as JSON for the test.

usage: otlp_grpc_client.py <host:port> [token] [gzip|none]

Exits non-zero when an export does not succeed (the SDK only logs failures).
"""
import json
import sys

from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.otlp.proto.grpc.exporter import Compression
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

endpoint = f"http://{sys.argv[1]}"
token = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
compression = Compression.Gzip if len(sys.argv) > 3 and sys.argv[3] == "gzip" else Compression.NoCompression
headers = (("authorization", f"Bearer {token}"),) if token else None
resource = Resource.create({"service.name": "orders-svc", "faas.name": "orders", "cloud.region": "us-east-2"})
results = []


class Recording:
    """Wraps an exporter and remembers each export's result."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def export(self, *args, **kwargs):
        result = self.inner.export(*args, **kwargs)
        results.append(result.name)
        return result


# Traces: root SERVER span -> CLIENT child -> INTERNAL grandchild, one trace.
provider = TracerProvider(resource=resource)
span_exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, headers=headers, compression=compression, timeout=10)
provider.add_span_processor(SimpleSpanProcessor(Recording(span_exporter)))
tracer = provider.get_tracer("firefly-grpc-test", "0.9.0")
with tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER,
                                  attributes={"faas.coldstart": True, "http.status_code": 201}) as root:
    with tracer.start_as_current_span("reserve stock", kind=SpanKind.CLIENT, attributes={"items": 3}) as child:
        with tracer.start_as_current_span("pick warehouse", attributes={"score": 0.75}) as grandchild:
            grandchild.add_event("chosen", {"warehouse": "w-7"})
        child.set_status(Status(StatusCode.ERROR, "out of stock"))
sent_spans = []
for s in (root, child, grandchild):
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

# Metrics: a counter (cumulative monotonic sum) and an explicit-bucket histogram.
metric_exporter = OTLPMetricExporter(endpoint=endpoint, insecure=True, headers=headers, compression=compression, timeout=10)
reader = PeriodicExportingMetricReader(Recording(metric_exporter), export_interval_millis=3_600_000)
meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
meter = meter_provider.get_meter("firefly-grpc-test", "0.9.0")
meter.create_counter("orders.placed", unit="{order}").add(5, {"channel": "web"})
duration = meter.create_histogram("checkout.duration", unit="ms")
for v in (3, 30, 300, 3000):
    duration.record(v, {"channel": "web"})
meter_provider.shutdown()  # one final collection and export (force_flush too would export twice)

print(json.dumps({"spans": sent_spans, "results": results}))
ok = results and all(r == SpanExportResult.SUCCESS.name or r == MetricExportResult.SUCCESS.name for r in results)
sys.exit(0 if ok else 1)
