"""infra/fuzz/hooks.py — schemathesis hooks for infra/fuzz.sh (named by `hooks` in the configuration seed.py writes).

Idempotency-Key: schemathesis draws the optional header from a small pool (its coverage phase sends the same
255-character boundary value with every case of an operation), so nearly every request after an operation's first
one reused a key for a different request and got 409 — about a third of a run, and those requests never reached the
operation. This hook keeps the generated value (odd characters and lengths are still sent) but, for 7 requests in
8, ends it with a digest of the request itself: a repeat of the same request keeps its key (and is replayed), a
different one gets a new key. The 8th keeps the key as drawn, so key reuse across requests is still exercised. The
choice hangs on the request's contents only, so a run with the same seed sends the same requests.

If-Match: the document types it as any string, the API wants the resource's current ETag (`"3"`) and answers 400
(or 412) to anything else, so most PATCH and DELETE cases never got past it. The hook drops a drawn If-Match in the
same 7 of 8 requests (the 8th keeps it, so the precondition check is still exercised).

Payment-Signature (POST /v1/payments/webhook): required, and only the provider can compute it, so every drawn one
was refused with 401 and the callback's handling was never reached. With $CARTWHEEL_FUZZ_PAYMENTS_SECRET set (the
gateway's CARTWHEEL_PAYMENTS_WEBHOOK_SECRET) the hook signs the body as it will be sent, at the current time, in
the same 7 of 8 requests; the 8th keeps the drawn header.

Recover (POST /v1/webhooks/{id}/recover): a valid `since` far in the past makes each call walk the store's whole
outbox for up to 3 s (by design; it answers `next_since`), and the run makes it thousands of events long, so a few
dozen such calls took minutes of the budget. The hook moves a `since` that parses as a time to a minute ago; a
malformed one is sent as drawn, so the validation is still exercised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time

import schemathesis

MAX_LENGTH = 255  # Idempotency-Key's maxLength in the document
SEEDED_ID = re.compile(r"\b[a-z]+_[0-9A-HJKMNP-TV-Z]{26}\b")


def header(headers: dict, wanted: str) -> str | None:
    return next((h for h in headers if h.lower() == wanted.lower()), None)


@schemathesis.hook
def before_call(context, case, kwargs):
    recent_recover(case)
    headers = case.headers
    if not headers:
        return
    idempotency, if_match = header(headers, "Idempotency-Key"), header(headers, "If-Match")
    signature = header(headers, "Payment-Signature")
    if idempotency is None and if_match is None and signature is None:
        return
    drawn = [headers.get(idempotency or ""), headers.get(if_match or ""), headers.get(signature or "")]
    request = json.dumps(
        [case.method, case.formatted_path, case.query, case.body, drawn], sort_keys=True, default=repr
    )
    # The seeded ids differ from run to run: leave them out, so that the same seed picks the same requests.
    digest = hashlib.sha256(SEEDED_ID.sub("<id>", request).encode()).hexdigest()[:12]
    if int(digest, 16) % 8 == 0:
        return  # as drawn
    if idempotency is not None and isinstance(headers[idempotency], str):
        key = headers[idempotency]
        headers[idempotency] = f"{key[: MAX_LENGTH - len(digest) - 1]}-{digest}"
    if if_match is not None:
        del headers[if_match]
    secret = os.environ.get("CARTWHEEL_FUZZ_PAYMENTS_SECRET")
    if signature is not None and secret:
        body = sent_json(case.body)
        if body is not None:
            now = str(int(time.time()))
            mac = hmac.new(secret.encode(), now.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers[signature] = f"t={now},v1={mac}"


def recent_recover(case) -> None:
    if case.method.upper() != "POST" or not case.formatted_path.endswith("/recover"):
        return
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("since"), str) and re.match(r"^\d{4}-\d{2}-\d{2}T", body["since"]):
        body["since"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))


def sent_json(body) -> bytes | None:
    """The bytes schemathesis sends for a JSON body: `requests`' own `json=` encoding (None: not known here)."""
    if body is None:
        return b"null"
    if isinstance(body, bytes):
        return body
    try:
        return json.dumps(body, allow_nan=False).encode()
    except (TypeError, ValueError):
        return None
