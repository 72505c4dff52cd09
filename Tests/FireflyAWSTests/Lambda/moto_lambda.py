"""moto's server playing the Lambda API on 127.0.0.1:PORT, filled with the functions the tests expect.

moto returns every function in one ListFunctions answer; AWS pages them (at most 50, MaxItems,
an opaque Marker / NextMarker). The server here pages the same way so the client's paging is
exercised. Usage: python3 moto_lambda.py PORT. Prints one line `ready {json}` (the functions as
created, and the test layers' ARNs) when serving; exits when its parent process is gone.
"""
import base64
import io
import json
import os
import sys
import threading
import time
import zipfile

for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ[name] = value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402
from moto.awslambda import responses  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

unpaged = responses.LambdaResponse.list_functions


def paged(self):
    functions = json.loads(unpaged(self))["Functions"]
    size = min(int(self.querystring.get("MaxItems", ["50"])[0]), 50)
    marker = self.querystring.get("Marker", [None])[0]
    start = json.loads(base64.b64decode(marker))["start"] if marker else 0
    answer = {"Functions": functions[start:start + size]}
    if start + size < len(functions):
        # Opaque like AWS's, with characters ('=', '/', '+') that need encoding in a query string.
        answer["NextMarker"] = base64.b64encode(json.dumps({"start": start + size, "pad": "??>>"}).encode()).decode()
    return json.dumps(answer)


responses.LambdaResponse.list_functions = paged

port = int(sys.argv[1])
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
endpoint = f"http://127.0.0.1:{port}"
iam = boto3.client("iam", endpoint_url=endpoint)
lam = boto3.client("lambda", endpoint_url=endpoint)
role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]

buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as z:
    z.writestr("index.js", "exports.handler = async () => 'ok';\n")
code = buffer.getvalue()


def layer(name):
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": code})["LayerVersionArn"]


shared = [layer(f"shared-{i}") for i in range(5)]
otel = layer("opentelemetry-nodejs-0_15_0")
created = {}


def function(name, runtime, layers, variables, architecture="x86_64", memory=128):
    lam.create_function(
        FunctionName=name, Runtime=runtime, Role=role, Handler="index.handler", Code={"ZipFile": code}, Layers=layers,
        Environment={"Variables": variables}, Architectures=[architecture], MemorySize=memory)
    created[name] = {"runtime": runtime, "layers": layers, "variables": variables, "architecture": architecture, "memory": memory}


for i in range(60):
    runtime = ["nodejs20.x", "python3.12", "java21"][i % 3]
    function(
        f"f-{i:03d}", runtime, shared[: i % 3], {"STAGE": "prod", "INDEX": str(i), "URL": f"https://db.example.com/{i}?a=b&c"},
        architecture="arm64" if i % 2 else "x86_64", memory=128 + 64 * (i % 4))
function("inst-a", "nodejs20.x", [shared[0], shared[1]], {"STAGE": "prod", "OTEL_PROPAGATORS": "tracecontext", "SECRET_TOKEN": "s3cr3t"})
function("inst-b", "python3.12", [], {"ONLY": "one"})
function("dry-run", "nodejs20.x", [shared[2]], {"KEEP": "me"})
function("full-layers", "nodejs20.x", shared, {"STAGE": "prod"})

print("ready " + json.dumps({"otel_layer": otel, "functions": created}), flush=True)
parent = os.getppid()
while os.getppid() == parent:
    time.sleep(1)
server.stop()
