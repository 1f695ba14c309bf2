"""Every disclosure of a call-to-close scenario has its audit row, and the chain verifies."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg

from tests.integration.conftest import bearer
from tests.integration.helpers import Client, call_body, console, next_frame, post, seed_cameras


def _actions(database_url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT action, actor, subject::text FROM audit ORDER BY audit_id").fetchall()
    return [(a, b, c) for a, b, c in rows]


async def _settled(database_url: str, want: int) -> list[tuple[str, str, str]]:
    for _ in range(50):
        rows = _actions(database_url)
        if len(rows) >= want:
            return rows
        await asyncio.sleep(0.1)
    return _actions(database_url)


async def test_call_to_close_is_fully_audited(client: Client, database_url: str) -> None:
    await seed_cameras(client)
    police = await console(client, "police", name="desk-audit")
    opened = await post(client, "/v1/calls", call_body("113-AUD", number="+84909999888"))
    await next_frame(police)
    await post(
        client, "/v1/calls/113-AUD/locations", {"location": {"lat": 10.7725, "lon": 106.6969}, "seq": 2}
    )
    await next_frame(police)
    viewed = await (await client.get("/v1/calls/113-AUD", headers=bearer("police", name="desk-audit"))).json()
    feed = next(c["feed"] for c in viewed["cameras"] if c["feed"])
    token = parse_qs(urlparse(feed["snapshot"]).query)["token"][0]
    ask = {"token": token, "action": "read", "path": feed["snapshot"].split("/")[3], "ip": "127.0.0.1"}
    assert (await client.post("/v1/media/auth", data=json.dumps(ask))).status == 204
    await post(client, "/v1/calls/113-AUD/close", {})
    await next_frame(police)
    rows = await _settled(database_url, 10)
    actions = [a for a, _, _ in rows]
    assert actions.count("incident.delivered") == 3
    assert {"feed.granted", "call.viewed", "feed.used"} <= set(actions)
    assert all("909999888" not in subject for _, _, subject in rows)
    assert opened.status == 201
    env = {**os.environ, "CALLSIGHT_DATABASE_URL": database_url}
    cli = str(Path(sys.executable).parent / "callsight")
    done = subprocess.run([cli, "audit", "verify"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("OK"), done.stdout + done.stderr
