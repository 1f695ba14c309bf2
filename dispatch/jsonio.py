"""JSON in and out: strict parsing at the edge and one fast encoder."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from dispatch.problems import Problem


def loads(body: bytes) -> Any:
    """Parses a request body; malformed JSON, NaN and Infinity are a 400."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(
            400, "Malformed JSON", f"The body is not valid JSON: {exc}", slug="malformed-json"
        ) from None
    if _has_non_finite(value):
        raise Problem(400, "Malformed JSON", "NaN and Infinity are not JSON numbers.", slug="malformed-json")
    return value


def _has_non_finite(value: Any) -> bool:
    # orjson rejects NaN literals already; huge exponents still decode to inf. A loop, not recursion:
    # a deeply nested body must be a 4xx, never a RecursionError.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def dumps(value: Any) -> bytes:
    """Encodes an answer (datetimes as RFC 3339, UUIDs as strings)."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


def respond(value: Any, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.Response(body=dumps(value), status=status, content_type="application/json")
