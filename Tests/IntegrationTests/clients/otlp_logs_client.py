#!/usr/bin/env python3
"""Sends logs to Firefly with the OpenTelemetry Python SDK, then prints what it sent as JSON.

usage: otlp_logs_client.py http <base-url> app|report
       otlp_logs_client.py grpc <host:port> app|report
Exits non-zero when an export does not succeed (the SDK only logs failures).
"""
import json
import logging
import sys

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

protocol, target, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=f"http://{target}", insecure=True, timeout=10)
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=f"{target}/v1/logs", timeout=10)
resource = Resource.create({"service.name": "payments-svc", "faas.name": "payments",
                            "faas.version": "7", "cloud.region": "eu-central-1"})
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


provider = LoggerProvider(resource=resource)
provider.add_log_record_processor(SimpleLogRecordProcessor(Recording(exporter)))
sent = {}
if mode == "app":
    log = logging.getLogger("payments.handler")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
    tracer = TracerProvider(resource=resource).get_tracer("payments")
    log.info("cold start")
    with tracer.start_as_current_span("charge") as span:
        log.error("card %s declined", "visa", extra={"order.id": "o-42", "attempt": 2, "amount": 12.5})
        ctx = span.get_span_context()
    sent = {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x"),
            "trace_flags": str(int(ctx.trace_flags))}
else:
    lambda_logger = provider.get_logger("telemetryapi")
    # The opentelemetry-lambda extension's telemetryapi receiver: attribute `type`, the record as JSON text.
    lambda_logger.emit(
        severity_number=SeverityNumber.INFO, severity_text="INFO", attributes={"type": "platform.report"},
        body=json.dumps({
            "requestId": "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
            "metrics": {"durationMs": 101.51, "billedDurationMs": 102, "memorySizeMB": 512,
                        "maxMemoryUsedMB": 89, "initDurationMs": 184.2},
            "status": "success",
            "tracing": {"type": "X-Amzn-Trace-Id",
                        "value": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"},
        }))
    # The raw Telemetry API event as a map body.
    lambda_logger.emit(body={
        "time": "2026-01-01T00:00:10.000Z", "type": "platform.report",
        "record": {"requestId": "req-oom", "status": "error", "errorType": "Runtime.OutOfMemory",
                   "metrics": {"durationMs": 2000.0, "billedDurationMs": 2000, "memorySizeMB": 128,
                               "maxMemoryUsedMB": 128}},
    })
provider.shutdown()
print(json.dumps({"sent": sent, "results": results}))
sys.exit(0 if results and all(r == "SUCCESS" for r in results) else 1)
