"""Personal data: caller numbers never in logs, identities only where the policy allows, calls expire."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

import psycopg
import pytest
from aiohttp import ClientWebSocketResponse

from dispatch.calls.retention import expire_calls
from dispatch.storage.db import create_pool
from tests.integration.conftest import bearer
from tests.integration.helpers import SEED, Client, call_body, console, post, seed_cameras
from tests.integration.test_detection_push import detection

CALLS = 850  # with a detection every fifth call: 1,020 messages
IDENTITIES = ("face", "plate")


async def test_caller_numbers_never_reach_the_logs(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await seed_cameras(client)
    numbers = [f"+8490{n:07d}" for n in range(1234567, 1234567 + 20)]
    for n, number in enumerate(numbers):
        body = call_body(f"113-LOG-{n}", number=number)
        await post(client, "/v1/calls", body)
        await post(client, "/v1/calls", body)  # a retry
        await post(client, "/v1/calls", {**body, "call_id": f"bad id {n}"})  # a rejection
        await post(client, f"/v1/calls/113-LOG-{n}/close", {})
        await client.get(f"/v1/calls/113-LOG-{n}", headers=bearer("police"))
    text = caplog.text + json.dumps([r.__dict__ for r in caplog.records], default=str)
    metrics = await (await client.get("/metrics")).text()
    for number in numbers:
        assert number[3:] not in text and number[3:] not in metrics


async def _drain(ws: ClientWebSocketResponse, frames: list[dict[str, Any]]) -> None:
    async for message in ws:
        frames.append(json.loads(message.data))


async def test_random_calls_and_detections_respect_agency_and_area(client: Client) -> None:
    await seed_cameras(client)
    rng = random.Random(113)
    watchers = {
        "fire": await console(client, "fire"),
        "medical": await console(client, "medical"),
        "police-elsewhere": await console(client, "police", areas=["Phuong Go Vap"]),
    }
    frames: dict[str, list[dict[str, Any]]] = {name: [] for name in watchers}
    readers = [asyncio.create_task(_drain(ws, frames[name])) for name, ws in watchers.items()]
    kinds = ["face", "plate", "person", "smoke", "fire", "vehicle", "weapon", "crowd"]
    posts = []
    for n in range(CALLS):
        camera = rng.choice(SEED)
        hotline = rng.choice(["113", "114", "115"])
        body = call_body(
            f"{hotline}-X-{n}",
            hotline=hotline,
            lat=camera[1] + rng.uniform(-3e-4, 3e-4),
            lon=camera[2] + rng.uniform(-3e-4, 3e-4),
            uncertainty_m=rng.uniform(5, 80),
        )
        posts.append(("/v1/calls", body))
        if n % 5 == 0:
            kind = rng.choice(kinds)
            label = "51F-123.45" if kind == "plate" else "Nguyen Van A" if kind == "face" else None
            posts.append(("/v1/detections", detection(f"d-{n}", kind, label, camera=camera[0], ago_s=1)))
    for start in range(0, len(posts), 10):  # ten senders at a time: realistic, and quicker
        await asyncio.gather(*(post(client, path, body) for path, body in posts[start : start + 10]))
    await asyncio.sleep(0.5)
    for ws in watchers.values():
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    delivered = [f for name in ("fire", "medical") for f in frames[name] if f["type"] != "heartbeat"]
    assert len(delivered) > CALLS / 3
    text = json.dumps(delivered)
    assert "Nguyen Van A" not in text and "51F-123.45" not in text
    assert not any(f.get("detection", {}).get("kind") in IDENTITIES for f in delivered)
    assert all(f["type"] in ("hello", "heartbeat") for f in frames["police-elsewhere"])


async def test_closed_calls_expire_with_their_fixes_and_events(client: Client, database_url: str) -> None:
    await post(client, "/v1/calls", call_body("113-OLD"))
    await post(client, "/v1/calls/113-OLD/close", {})
    await post(client, "/v1/calls", call_body("113-OPEN"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE calls SET closed_at = now() - interval '100 days' WHERE call_id = '113-OLD'")
    pool = await create_pool(database_url, 1, 1)
    try:
        assert await expire_calls(pool, 90 * 86400) == 1
    finally:
        await pool.close()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT call_id FROM calls").fetchall() == [("113-OPEN",)]
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (1,)
