#!/usr/bin/env python3
"""An OTLP receiver built from the official opentelemetry-proto package (message classes and grpcio
service stubs), for the exporter's tests: an implementation independent of Firefly's own decoder.

It serves OTLP/HTTP protobuf (POST /v1/traces, /v1/metrics, /v1/logs; gzip bodies) and OTLP/gRPC
on the ports given, records every item it accepts, and can be told to fail:

  POST /_control  {"fail_next": 3, "http_status": 503, "grpc_code": "UNAVAILABLE", "retry_after": 1}
                  (retry_after: HTTP Retry-After, gRPC RetryInfo in grpc-status-details-bin)
                  {"reject_all": true}   -> 400 / INVALID_ARGUMENT until {"reject_all": false}
                  {"partial": 2}         -> accept, but answer partial_success with 2 rejected
  GET  /_received -> {"spans": [...], "points": [...], "logs": [...], "answers": {...}, "headers": [...]}

Usage: otlp_receiver.py --http-port P --grpc-port G --ready-file F [--tls-cert C --tls-key K --https-port S]
With a certificate, gRPC is served over TLS and OTLP/HTTP also on the HTTPS port (control stays on HTTP).
"""
import argparse
import gzip
import json
import ssl
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

lock = threading.Lock()
state = {"fail_next": 0, "http_status": 503, "grpc_code": "UNAVAILABLE", "retry_after": None,
         "reject_all": False, "partial": 0}
received = {"spans": [], "points": [], "logs": [], "answers": {}, "headers": []}


def value_text(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind in ("array_value", "kvlist_value"):
        return str(getattr(v, kind)).replace("\n", " ")
    return getattr(v, kind) if kind != "bytes_value" else v.bytes_value.hex()


def attrs(kvs):
    return {kv.key: value_text(kv.value) for kv in kvs}


def record(signal, request):
    """Appends the request's items to `received` (under the lock)."""
    if signal == "traces":
        for rs in request.resource_spans:
            resource = attrs(rs.resource.attributes)
            for ss in rs.scope_spans:
                for s in ss.spans:
                    received["spans"].append({
                        "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(), "name": s.name,
                        "parent_span_id": s.parent_span_id.hex(), "kind": s.kind,
                        "attributes": attrs(s.attributes), "resource": resource, "scope": ss.scope.name})
    elif signal == "metrics":
        for rm in request.resource_metrics:
            resource = attrs(rm.resource.attributes)
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    kind = m.WhichOneof("data")
                    for p in getattr(m, kind).data_points:
                        point = {"name": m.name, "unit": m.unit, "kind": kind, "resource": resource,
                                 "attributes": attrs(p.attributes), "time_unix_nano": p.time_unix_nano}
                        if kind in ("gauge", "sum"):
                            point["value"] = p.as_double if p.WhichOneof("value") == "as_double" else p.as_int
                        else:
                            point["count"] = p.count
                            point["sum"] = p.sum
                        received["points"].append(point)
    else:
        for rl in request.resource_logs:
            resource = attrs(rl.resource.attributes)
            for sl in rl.scope_logs:
                for r in sl.log_records:
                    received["logs"].append({
                        "body": value_text(r.body), "severity_number": r.severity_number,
                        "trace_id": r.trace_id.hex(), "attributes": attrs(r.attributes), "resource": resource})


def count(answer):
    received["answers"][answer] = received["answers"].get(answer, 0) + 1


def decide():
    """What to answer the next export request: 'fail', 'reject' or an accepted count to refuse."""
    with lock:
        if state["reject_all"]:
            return "reject", 0
        if state["fail_next"] > 0:
            state["fail_next"] -= 1
            return "fail", 0
        return "ok", state["partial"]


REQUESTS = {
    "/v1/traces": ("traces", trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse,
                   "rejected_spans"),
    "/v1/metrics": ("metrics", metrics_service_pb2.ExportMetricsServiceRequest,
                    metrics_service_pb2.ExportMetricsServiceResponse, "rejected_data_points"),
    "/v1/logs": ("logs", logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse,
                 "rejected_log_records"),
}


def response(response_type, field, partial):
    out = response_type()
    if partial:
        setattr(out.partial_success, field, partial)
        out.partial_success.error_message = f"{partial} refused by the test receiver"
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="application/x-protobuf", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        return data

    def do_GET(self):
        if self.path == "/_received":
            with lock:
                self.reply(200, json.dumps(received).encode(), "application/json")
        else:
            self.reply(404, b"not found", "text/plain")

    def do_POST(self):
        if self.path == "/_control":
            change = json.loads(self.body() or b"{}")
            with lock:
                state.update(change)
            self.reply(200, b"{}", "application/json")
            return
        if self.path not in REQUESTS:
            self.reply(404, b"not found", "text/plain")
            return
        signal, request_type, response_type, field = REQUESTS[self.path]
        data = self.body()
        with lock:
            received["headers"].append({k.lower(): v for k, v in self.headers.items()})
        answer, partial = decide()
        if answer == "reject":
            with lock:
                count(f"http {signal} 400")
            self.reply(400, b"rejected by the test receiver", "text/plain")
            return
        if answer == "fail":
            headers = [("Retry-After", str(state["retry_after"]))] if state["retry_after"] is not None else []
            with lock:
                count(f"http {signal} {state['http_status']}")
            self.reply(state["http_status"], b"unavailable for now", "text/plain", headers)
            return
        request = request_type()
        try:
            request.ParseFromString(data)
        except Exception as error:  # noqa: BLE001 - any parse failure is a 400
            self.reply(400, str(error).encode(), "text/plain")
            return
        with lock:
            record(signal, request)
            count(f"http {signal} 200")
        self.reply(200, response(response_type, field, partial).SerializeToString())


def grpc_export(signal, response_type, field):
    def export(self, request, context):
        with lock:
            received["headers"].append({k: v for k, v in context.invocation_metadata()})
        answer, partial = decide()
        if answer == "reject":
            with lock:
                count(f"grpc {signal} INVALID_ARGUMENT")
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "rejected by the test receiver")
        if answer == "fail":
            code = getattr(grpc.StatusCode, state["grpc_code"])
            with lock:
                count(f"grpc {signal} {state['grpc_code']}")
            if state["retry_after"] is not None:
                # The delay as Go and Java servers send it: a RetryInfo detail of a google.rpc.Status.
                info = error_details_pb2.RetryInfo()
                info.retry_delay.seconds = int(state["retry_after"])
                detail = any_pb2.Any()
                detail.Pack(info)
                status = status_pb2.Status(code=code.value[0], message="unavailable for now", details=[detail])
                context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
            context.abort(code, "unavailable for now")
        with lock:
            record(signal, request)
            count(f"grpc {signal} OK")
        return response(response_type, field, partial)
    return export


class Traces(trace_service_pb2_grpc.TraceServiceServicer):
    Export = grpc_export("traces", trace_service_pb2.ExportTraceServiceResponse, "rejected_spans")


class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    Export = grpc_export("metrics", metrics_service_pb2.ExportMetricsServiceResponse, "rejected_data_points")


class Logs(logs_service_pb2_grpc.LogsServiceServicer):
    Export = grpc_export("logs", logs_service_pb2.ExportLogsServiceResponse, "rejected_log_records")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--https-port", type=int)
    args = parser.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
    if args.tls_cert:
        with open(args.tls_cert, "rb") as cert, open(args.tls_key, "rb") as key:
            credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
        server.add_secure_port(f"127.0.0.1:{args.grpc_port}", credentials)
        https = ThreadingHTTPServer(("127.0.0.1", args.https_port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        https.socket = context.wrap_socket(https.socket, server_side=True)
        threading.Thread(target=https.serve_forever, daemon=True).start()
    else:
        server.add_insecure_port(f"127.0.0.1:{args.grpc_port}")
    server.start()
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), Handler)
    with open(args.ready_file, "w") as ready:
        ready.write("ready\n")
    http.serve_forever()


if __name__ == "__main__":
    main()
