#!/usr/bin/env python3
"""Verify a Cartwheel webhook delivery (Python 3, standard library only).

Copy `verify()` (with its imports and `WebhookVerificationError`) into your receiver and call it with the
endpoint's secret (`whsec_...`), the request headers and the RAW request body bytes -- exactly as received, before
any JSON parsing (re-serialised JSON will not match the signatures):

    from verify import verify, WebhookVerificationError

    @app.post("/hooks/cartwheel")                      # Flask, for example
    def cartwheel_hook():
        try:
            verify(SECRET, request.headers, request.get_data())
        except WebhookVerificationError as error:
            return str(error), 400
        event = request.get_json()
        # Drop duplicates on request.headers["webhook-id"] (delivery is at least once), then handle the event.
        return "", 204

It raises `WebhookVerificationError` unless all of these hold:
  * `webhook-timestamp` is within `tolerance` seconds (default 300) of now, in either direction;
  * one of the space-separated `v1,<base64>` entries of `webhook-signature` is the HMAC-SHA256, keyed with the
    base64-decoded part of the secret after `whsec_`, of `{webhook-id}.{webhook-timestamp}.{raw body}`
    (Standard Webhooks);
  * `x-cartwheel-signature` is the lowercase hex HMAC-SHA256 of the raw body keyed with the whole secret text
    (`whsec_` included).
Every comparison is constant-time.

Note: during the 24 h after a secret rotation both headers carry a signature for each secret (space-separated),
so a receiver still holding the old secret keeps verifying until it switches.

Command line (used by the test suite):

    python3 docs/webhooks/verify.py SECRET HEADERS_JSON_FILE BODY_FILE

HEADERS_JSON_FILE holds a JSON object of header names to string values; BODY_FILE the raw body bytes. Prints `ok`
and exits 0 when the delivery verifies; otherwise prints the reason to stderr and exits 1. The tolerance comes from
the environment variable VERIFY_TOLERANCE_SECONDS (default 300).
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sys
import time

DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    """The delivery is not authentic or not fresh; answer 400 and do not act on it."""


def verify(secret, headers, body, tolerance=DEFAULT_TOLERANCE_SECONDS, now=None):
    """Raise WebhookVerificationError unless `body` (bytes) with `headers` was signed with `secret` just now.

    `headers` is any mapping of header names to strings (names are matched case-insensitively).
    """
    if isinstance(body, str):
        raise TypeError("pass the raw body as bytes, exactly as received")
    lowered = {str(name).lower(): value for name, value in headers.items()}

    def header(name):
        value = lowered.get(name)
        if not isinstance(value, str) or not value:
            raise WebhookVerificationError(f"missing header {name}")
        return value

    msg_id = header("webhook-id")
    timestamp = header("webhook-timestamp")
    signatures = header("webhook-signature")
    simple = header("x-cartwheel-signature")

    # Freshness: refuses replays of old deliveries.
    if not re.fullmatch(r"[0-9]{1,15}", timestamp):
        raise WebhookVerificationError(f"webhook-timestamp {timestamp!r} is not Unix seconds")
    now = int(time.time()) if now is None else int(now)
    skew = now - int(timestamp)
    if abs(skew) > tolerance:
        when = "old" if skew > 0 else "far in the future"
        raise WebhookVerificationError(
            f"webhook-timestamp is {abs(skew)} s {when}: outside the {tolerance} s tolerance"
        )

    # Standard Webhooks: the key is the base64-decoded part after `whsec_`.
    encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the secret is not `whsec_` followed by base64") from None
    if not key:
        raise WebhookVerificationError("the secret is empty")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    matched = False
    for entry in signatures.split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            matched = True  # keep looping: the time taken does not depend on which entry matched
    if not matched:
        raise WebhookVerificationError("no v1 signature in webhook-signature matches")

    # x-cartwheel-signature: hex HMAC of the raw body keyed with the whole secret text.
        # During a rotation it lists one signature per secret, space-separated.
    expected_hex = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    simple_matched = False
    for candidate in simple.split():
        if hmac.compare_digest(candidate.lower().encode(), expected_hex):
            simple_matched = True
    if not simple_matched:
        raise WebhookVerificationError("x-cartwheel-signature does not match")


def main(argv):
    if len(argv) != 4:
        print(f"usage: {argv[0]} SECRET HEADERS_JSON_FILE BODY_FILE", file=sys.stderr)
        return 1
    _, secret, headers_file, body_file = argv
    try:
        tolerance = int(os.environ.get("VERIFY_TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS))
        if tolerance < 0:
            raise ValueError
    except ValueError:
        print("VERIFY_TOLERANCE_SECONDS must be a whole number of seconds >= 0", file=sys.stderr)
        return 1
    try:
        with open(headers_file, encoding="utf-8") as f:
            headers = json.load(f)
        with open(body_file, "rb") as f:
            body = f.read()
    except (OSError, ValueError) as error:
        print(f"cannot read the input: {error}", file=sys.stderr)
        return 1
    if not isinstance(headers, dict):
        print("HEADERS_JSON_FILE must hold a JSON object", file=sys.stderr)
        return 1
    try:
        verify(secret, headers, body, tolerance=tolerance)
    except WebhookVerificationError as error:
        print(error, file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
