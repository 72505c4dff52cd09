"""Signs requests with botocore's SigV4Auth (the reference implementation) at a fixed time.

Input (stdin): a JSON list of {"method", "url", "headers": {name: value}, "body", "access_key",
"secret_key", "token" (absent without a session token), "region", "service", "time": "YYYYMMDDTHHMMSSZ"}.
Output (stdout): a JSON list of {"authorization", "x-amz-date", "x-amz-security-token"}, one per input.
"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for case in json.load(sys.stdin):
    when = datetime.datetime.strptime(case["time"], "%Y%m%dT%H%M%SZ")
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode(), headers=case["headers"])
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        botocore.auth.SigV4Auth(credentials, case["service"], case["region"]).add_auth(request)
    out.append({
        "authorization": request.headers["Authorization"],
        "x-amz-date": request.headers["X-Amz-Date"],
        "x-amz-security-token": request.headers.get("X-Amz-Security-Token"),
    })
json.dump(out, sys.stdout)
