"""Load shedding: beyond a bound on concurrent webhook requests, answer 503 at once instead of queueing."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from dispatch.problems import unavailable

SHED_PREFIXES = ("/v1/calls", "/v1/detections")


def shedding(limit: int) -> Middleware:
    """A middleware that bounds in-flight sender requests to `limit`."""
    inflight = 0

    @web.middleware
    async def shed(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal inflight
        if request.method != "POST" or not request.path.startswith(SHED_PREFIXES):
            return await handler(request)
        if inflight >= limit:
            raise unavailable("Too many requests in flight; retry shortly.", retry_after_s=1)
        inflight += 1
        try:
            return await handler(request)
        finally:
            inflight -= 1

    return shed
