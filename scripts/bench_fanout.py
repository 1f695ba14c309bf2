"""The calls benchmark's baseline: a bare aiohttp fan-out server, no storage, no matching, no audit.

For each `POST /v1/calls` it sends the sample frame (the service's own `incident.opened`, its call id
replaced) to every connected WebSocket, as a minimal server would, on the event loop the service uses. It
times each call from its request arriving to the last frame written into the service's own push histogram
(at `/metrics`), so that the server-side figure has a baseline too. Usage: `bench_fanout.py PORT SAMPLE`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aiohttp import WSMsgType, web
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from dispatch.eventloop import new_event_loop
from dispatch.metrics import PUSH_BUCKETS
from dispatch.settings import Settings

CONSOLES: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("consoles", set)


async def console(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    request.app[CONSOLES].add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        request.app[CONSOLES].discard(ws)
    return ws


def make_app(sample: bytes, sample_call_id: str) -> web.Application:
    registry = CollectorRegistry()
    # The service's name and buckets: the bench reads both servers' figures the same way.
    pushed = Histogram("callsight_call_push_seconds", "", registry=registry, buckets=PUSH_BUCKETS)

    async def push(request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        call_id = json.loads(await request.read())["call_id"]
        frame = sample.replace(sample_call_id.encode(), call_id.encode())
        for ws in list(request.app[CONSOLES]):
            await ws.send_frame(frame, WSMsgType.TEXT)
        pushed.observe(time.perf_counter() - arrived)
        return web.json_response({"call_id": call_id}, status=201)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), content_type="text/plain")

    app = web.Application()
    app[CONSOLES] = set()
    app.router.add_get("/v1/consoles/ws", console)
    app.router.add_post("/v1/calls", push)
    app.router.add_get("/metrics", metrics)
    return app


def main() -> None:
    port, sample_file = int(sys.argv[1]), Path(sys.argv[2])
    sample = sample_file.read_bytes()
    call_id = json.loads(sample)["incident"]["call_id"]
    # The service's own loop (CALLSIGHT_EVENT_LOOP), so that the two compare like with like.
    loop = new_event_loop(Settings().event_loop)
    web.run_app(make_app(sample, call_id), host="127.0.0.1", port=port, print=None, loop=loop)


if __name__ == "__main__":
    main()
