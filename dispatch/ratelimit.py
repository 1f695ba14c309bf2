"""A request-rate bound per client address on the API for people and unknown clients (429 beyond it)."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from dispatch.problems import Problem

LIMITED_PREFIXES = ("/v1/",)
MAX_CLIENTS = 10_000


def rate_limit(per_s: float) -> Middleware:
    """A token bucket per client address (bursts of one second's worth), bounded in memory."""
    buckets: dict[str, tuple[float, float]] = {}

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Signed senders (telephony, camera analytics) are bounded by load shedding instead: an emergency
        # call must never be refused for arriving in a burst.
        if not request.path.startswith(LIMITED_PREFIXES) or "X-Callsight-Signature" in request.headers:
            return await handler(request)
        client = request.remote or "unknown"
        now = time.monotonic()
        tokens, last = buckets.get(client, (per_s, now))
        tokens = min(per_s, tokens + (now - last) * per_s)
        if tokens < 1.0:
            raise Problem(
                429,
                "Too many requests",
                f"At most {per_s:g} requests a second from one client.",
                headers={"Retry-After": "1"},
            )
        if len(buckets) >= MAX_CLIENTS and client not in buckets:
            buckets.clear()  # a flood of addresses must not grow memory without bound
        buckets[client] = (tokens - 1.0, now)
        return await handler(request)

    return limit
