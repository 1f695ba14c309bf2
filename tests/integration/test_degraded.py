"""Database outage: calls are still matched and pushed (degraded), answered 503, and stored once on retry."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlparse

import psycopg
from aiohttp.test_utils import TestClient, TestServer

from dispatch.app import create_app
from dispatch.settings import Settings
from tests.integration.conftest import signed
from tests.integration.helpers import call_body, console, next_frame, seed_cameras
from tests.integration.proxy import Proxy


async def test_outage_pushes_degraded_then_stores_once(settings: Settings, database_url: str) -> None:
    target = urlparse(database_url)
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    proxied = database_url.replace(f":{target.port}/", f":{proxy.port}/")
    app = create_app(settings.model_copy(update={"database_url": proxied}))
    async with TestClient(TestServer(app)) as client:
        await seed_cameras(client)
        police = await console(client, "police")
        raw = json.dumps(call_body("113-OUT")).encode()
        await proxy.cut()
        during = await client.post("/v1/calls", data=raw, headers=signed(raw))
        assert during.status == 503 and during.headers["Retry-After"]
        degraded = await next_frame(police)
        assert degraded["type"] == "incident.opened" and degraded["incident"]["degraded"] is True
        assert degraded["cameras"][0]["camera_id"] == "EAST-LOOKING"
        again = await client.post("/v1/calls", data=raw, headers=signed(raw))
        assert again.status == 503
        assert (await client.get("/readyz")).status == 503
        metrics = await (await client.get("/metrics")).text()
        assert "callsight_degraded_pushes_total 1.0" in metrics
        await proxy.start()
        stored = None
        for _ in range(50):
            answer = await client.post("/v1/calls", data=raw, headers=signed(raw))
            if answer.status == 201:
                stored = await answer.json()
                break
            await asyncio.sleep(0.2)
        assert stored is not None and stored["incident_id"] == degraded["incident"]["incident_id"]
        final = await next_frame(police)
        assert (
            final["incident"]["incident_id"] == stored["incident_id"]
            and final["incident"]["degraded"] is False
        )
        await proxy.cut()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM calls WHERE call_id = '113-OUT'").fetchone() == (1,)
