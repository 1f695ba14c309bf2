"""Signed senders: HMAC-SHA256 over "<timestamp>.<raw body>", checked before the body is parsed."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from dispatch.problems import unauthorized


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The X-Callsight-Signature value for a body."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def signed_headers(sender: str, secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers a sender attaches to a request (used by simulators, tests and benchmarks)."""
    timestamp = int(time.time() if now is None else now)
    return {
        "X-Callsight-Sender": sender,
        "X-Callsight-Timestamp": str(timestamp),
        "X-Callsight-Signature": sign(secret, timestamp, body),
    }


def verify(headers: Mapping[str, str], body: bytes, senders: Mapping[str, bytes], window_s: int) -> str:
    """Returns the sender's name, or raises a 401 problem saying what is wrong."""
    name = headers.get("X-Callsight-Sender", "")
    secret = senders.get(name)
    if secret is None:
        raise unauthorized("Unknown or missing X-Callsight-Sender.")
    try:
        timestamp = int(headers.get("X-Callsight-Timestamp", ""))
    except ValueError:
        raise unauthorized("X-Callsight-Timestamp must be unix seconds.") from None
    if abs(time.time() - timestamp) > window_s:
        raise unauthorized(f"X-Callsight-Timestamp is more than {window_s} s from the service's clock.")
    given = headers.get("X-Callsight-Signature", "")
    if not hmac.compare_digest(given.encode(), sign(secret, timestamp, body).encode()):
        raise unauthorized("X-Callsight-Signature does not match the body.")
    return name
