"""Schemathesis hooks for scripts/schemathesis.sh.

Signs webhook deliveries as Calendly does, so generated bodies reach availd's ingest (202, 200,
400 `invalid_payload`) instead of stopping at the signature. Only a case that sends the
`Calendly-Webhook-Signature` header is signed: one that leaves it out tests its absence.
"""
import hashlib
import hmac
import json
import os
import time

import schemathesis

HEADER = "Calendly-Webhook-Signature"


@schemathesis.hook
def before_call(context, case, kwargs):
    key = os.environ.get("AVAILD_SIGNING_KEY")
    if not key or not case.operation.path.startswith("/webhooks/calendly") or HEADER not in (case.headers or {}):
        return
    # The bytes requests will send: json.dumps of the body, as its `json=` argument does.
    if isinstance(case.body, (dict, list, str, int, float, bool)):
        body = json.dumps(case.body, allow_nan=False).encode("utf-8")
    elif case.body is None:
        body = b"null"
    else:
        return
    stamp = str(int(time.time()))
    digest = hmac.new(key.encode("utf-8"), stamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    case.headers[HEADER] = f"t={stamp},v1={digest}"
