"""Beyond the in-flight bound, senders get 503 + Retry-After at once; nothing answered is lost."""

from __future__ import annotations

import asyncio
import json

import psycopg
from aiohttp.test_utils import TestClient, TestServer

from dispatch.app import create_app
from dispatch.settings import Settings
from tests.integration.conftest import signed
from tests.integration.helpers import call_body


async def test_overload_is_shed_with_retry_after(settings: Settings, database_url: str) -> None:
    app = create_app(settings.model_copy(update={"max_inflight": 2}))
    async with TestClient(TestServer(app)) as client:
        bodies = [json.dumps(call_body(f"113-SHED-{n}")).encode() for n in range(30)]
        answers = await asyncio.gather(*(client.post("/v1/calls", data=b, headers=signed(b)) for b in bodies))
        statuses = [a.status for a in answers]
        assert set(statuses) <= {201, 503} and statuses.count(503) > 0 and statuses.count(201) > 0
        assert all(a.headers.get("Retry-After") for a in answers if a.status == 503)
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM calls").fetchone()
    assert row == (statuses.count(201),)
